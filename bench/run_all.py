"""Run every benchmark in bench/: each `bench/<name>.py` that defines a top-level `main()` (except the
shared helpers and this runner), each in a fresh process, one after the other, printing its output.

    .venv/bin/python -m bench.run_all                 # everything (`make bench`)
    .venv/bin/python -m bench.run_all me_latency      # only the named ones
    .venv/bin/python -m bench.run_all --list

A fresh process per benchmark: each starts its own DynamoDB Local and binds the models to its own table,
and none inherits another's imports, caches or heap. Exits non-zero if any benchmark failed to run
(a missed target is a figure to read, not a failure).
"""
from __future__ import annotations

import argparse
import ast
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.common import PYTHON, ROOT, machine

BENCH_DIR = Path(__file__).resolve().parent
NOT_BENCHMARKS = {"__init__", "common", "run_all"}
# Runs `main()` of the module named in argv[1] with no command-line arguments of its own.
LAUNCH = "import importlib, sys; name = sys.argv.pop(1); sys.argv[0] = name; importlib.import_module(name).main()"


def defines_main(path: Path) -> bool:
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except (SyntaxError, UnicodeDecodeError):
        return False
    return any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "main"
               for node in tree.body)


def discover() -> list[str]:
    return [p.stem for p in sorted(BENCH_DIR.glob("*.py"))
            if p.stem not in NOT_BENCHMARKS and not p.stem.startswith("_") and defines_main(p)]


def run(name: str, timeout: float) -> int | str:
    """Run one benchmark in its own process group (it and its DynamoDB Local), output straight to ours."""
    proc = subprocess.Popen([PYTHON, "-c", LAUNCH, f"bench.{name}"], cwd=ROOT, start_new_session=True)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout"
    finally:
        if proc.poll() is None:  # timed out or interrupted: stop the benchmark and what it started
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per benchmark (default 900)")
    args = parser.parse_args(argv)

    found = discover()
    if args.list:
        print("\n".join(found))
        return
    unknown = [n for n in args.names if n not in found]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; found: {', '.join(found)}")
    selected = args.names or found
    print(f"running {len(selected)} benchmark(s): {', '.join(selected)}  ({machine()})", flush=True)
    failed: list[str] = []
    started = time.monotonic()
    for name in selected:
        print(f"\n=== bench.{name} ===", flush=True)
        t = time.monotonic()
        code = run(name, args.timeout)
        print(f"=== bench.{name}: {'ok' if code == 0 else f'FAILED ({code})'} in {time.monotonic() - t:.0f} s ===",
              flush=True)
        if code != 0:
            failed.append(name)
    print(f"\n{len(selected) - len(failed)}/{len(selected)} benchmark(s) ran in {time.monotonic() - started:.0f} s"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
