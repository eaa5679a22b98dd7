"""`make run` as a developer stops it: a plain `kill` ends the API and the DynamoDB Local it started."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
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
