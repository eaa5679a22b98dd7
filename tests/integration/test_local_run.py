"""`make run` as a developer stops it: a plain `kill` ends the API and the DynamoDB Local it started."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _java_serving(data_dir: Path) -> list[str]:
    ps = subprocess.run(["ps", "-eww", "-o", "pid=,args="], capture_output=True, text=True, check=True).stdout
    return [line for line in ps.splitlines() if "DynamoDBLocal" in line and str(data_dir) in line]


def test_a_plain_kill_stops_the_local_api_and_its_dynamodb_local(tmp_path):
    port = _free_port()
    data = tmp_path / "dynamodb"
    proc = subprocess.Popen([sys.executable, "-m", "api.local", "--data", str(data)], cwd=ROOT,
                            env={**os.environ, "PORT": str(port)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                r = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": "{ __typename }"}, timeout=2)
                if r.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "the local API never answered"
            time.sleep(0.5)
        assert _java_serving(data), "DynamoDB Local should be running for the API"

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) != 0
        deadline = time.monotonic() + 15
        while _java_serving(data) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _java_serving(data) == [], "DynamoDB Local outlived the API"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


REVIEW = """mutation R($r: String!) { activityRecord(memberId: "demo-member-1", action: "review_written", reference: $r)
  { points userErrors { code } } }"""
ME_REVIEWS = """{ me { badges(first: 50) { nodes { badge { badgeId } progress { current } } } } }"""


def test_under_make_run_a_change_shows_in_me_within_two_seconds(tmp_path):
    """The event processor runs inside `make run`: a review recorded by the order system moves the
    member's badge progress (which follows from the stream) in `me` within 2 s."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "api.local", "--data", str(tmp_path / "dynamodb")], cwd=ROOT,
                            env={**os.environ, "PORT": str(port)}, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        tokens: dict[str, str] = {}
        deadline = time.monotonic() + 120
        while len(tokens) < 2:
            line = proc.stdout.readline() if proc.stdout else ""
            assert line or proc.poll() is None, "make run ended before printing its tokens"
            assert time.monotonic() < deadline, "make run never printed its tokens"
            for role, marker in (("member", "member  demo-member-1:"), ("service", "service order system :")):
                if marker in line:
                    tokens[role] = line.split(marker, 1)[1].strip()

        # Keep reading what it prints, so a full pipe never blocks the server.
        threading.Thread(target=lambda: [None for _ in proc.stdout or ()], daemon=True).start()

        def reviews() -> float:
            r = httpx.post(url, json={"query": ME_REVIEWS}, headers={"Authorization": f"Bearer {tokens['member']}"},
                           timeout=5)
            nodes = r.json()["data"]["me"]["badges"]["nodes"]
            return next(float(n["progress"]["current"]) for n in nodes if n["badge"]["badgeId"] == "reviewer")

        time.sleep(1.0)  # the processor has caught up with the seed's events
        before = reviews()
        started = time.monotonic()
        r = httpx.post(url, json={"query": REVIEW, "variables": {"r": f"t-{port}"}},
                       headers={"Authorization": f"Bearer {tokens['service']}"}, timeout=5)
        assert r.json()["data"]["activityRecord"]["userErrors"] == [], r.text
        while reviews() == before:
            assert time.monotonic() - started < 2.0, "the change did not show in `me` within 2 s"
            time.sleep(0.05)
        print(f"review recorded -> shown in me.badges after {time.monotonic() - started:.3f} s")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
