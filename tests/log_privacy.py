"""No email, token or birthday in any log line of the test run: a pytest plugin (tests/conftest.py).

A handler on the root logger keeps every record emitted during the session; at its end each record's
message, exception text and extra fields are searched for an email address, a bearer token or JWT,
and the birthdays of the test data. Any hit fails the run (exit status 1) with a report naming the
logger, the level and the test that was running. Under xdist each worker sends its hits to the
controller, which fails the run.

The project's loggers are set to INFO for the session, the level they run at in production (api.local
and Lambda), so the INFO lines for client errors are searched too, not only warnings and errors.
"""
from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

import pytest

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# A JWT (header and payload are base64url JSON, so both start with "eyJ"; the signature may be empty
# for alg=none) or whatever follows "Bearer" that looks like a credential.
TOKEN = re.compile(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*|(?i:bearer)\s+[A-Za-z0-9._~+/=-]{16,}")

# Birthdays of the test data: the dates of people (born 1900-2010) written in the tests and the demo
# data, as ISO strings or date(...) calls, so a new test's birthday is covered without a list to keep.
# Dates the code itself states (a bound such as "Dates run from 1900-01-01") are constants, not people.
_ROOT = Path(__file__).resolve().parent.parent
_DATA_SOURCES = ("tests", "api/demo.py")
_CODE_SOURCES = ("api", "domain", "infra", "resolvers")
_ISO_DATE = re.compile(r"""["'](19\d\d|200\d|2010)-(\d\d)-(\d\d)["']""")
_DATE_CALL = re.compile(r"\bdate\((19\d\d|200\d|2010),\s*(\d{1,2}),\s*(\d{1,2})\)")

# LogRecord's own attributes; anything else on a record came in through `extra=`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def _dates_in(root: Path, sources: Iterable[str], skip: Iterable[str] = ()) -> set[tuple[int, int, int]]:
    skipped = {root / s for s in skip}
    found: set[tuple[int, int, int]] = set()
    for source in sources:
        path = root / source
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            if file in skipped:
                continue
            text = file.read_text(encoding="utf-8")
            for pattern in (_ISO_DATE, _DATE_CALL):
                found |= {(int(y), int(m), int(d)) for y, m, d in pattern.findall(text)}
    return found


def birthdays_of_test_data(root: Path = _ROOT) -> set[tuple[int, int, int]]:
    return _dates_in(root, _DATA_SOURCES) - _dates_in(root, _CODE_SOURCES, skip=_DATA_SOURCES)


def birthday_pattern(birthdays: Iterable[tuple[int, int, int]]) -> re.Pattern[str] | None:
    """Each date as it reaches a log line: ISO (str(date), isoformat) or a repr (`date(1990, 5, 1)`)."""
    forms = []
    for y, m, d in sorted(set(birthdays)):
        forms += [rf"{y}-{m:02d}-{d:02d}", rf"\b{y},\s*{m},\s*{d}\)"]
    return re.compile("|".join(forms)) if forms else None


@dataclass(frozen=True)
class Leak:
    what: str  # "email", "token" or "birthday"
    found: str
    logger: str
    level: str
    test: str
    line: str


class PrivacyMatcher:
    def __init__(self, birthdays: Iterable[tuple[int, int, int]] = ()):
        self.patterns = [("email", EMAIL), ("token", TOKEN)]
        pattern = birthday_pattern(birthdays)
        if pattern is not None:
            self.patterns.append(("birthday", pattern))

    def find(self, text: str) -> list[tuple[str, str]]:
        return [(what, m.group(0)) for what, pattern in self.patterns for m in pattern.finditer(text)]


_FORMATTER = logging.Formatter()


def record_text(record: logging.LogRecord) -> str:
    """Everything of a record that can reach a log sink: the message, the exception and stack, extras
    (structured loggers such as Powertools write those as fields)."""
    try:
        parts = [record.getMessage()]
    except Exception:  # a bad format string: search what was given
        parts = [str(record.msg), repr(record.args)]
    if record.exc_info:
        parts.append(_FORMATTER.formatException(record.exc_info))
    elif record.exc_text:
        parts.append(record.exc_text)
    if record.stack_info:
        parts.append(record.stack_info)
    parts += [f"{k}={v!r}" for k, v in vars(record).items() if k not in _STANDARD]
    return "\n".join(parts)


class _Capture(logging.Handler):
    def __init__(self, matcher: PrivacyMatcher):
        super().__init__(level=logging.NOTSET)
        self.matcher = matcher
        self.test = "(outside a test)"
        self.leaks: list[Leak] = []

    def handle(self, record: logging.LogRecord) -> bool:
        # Filters others put on the root's handlers must not blind this one: Powertools' Logger
        # (api.lambda_handler) adds one to each that drops every record of its service's loggers.
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        text = record_text(record)
        for what, found in self.matcher.find(text):
            self.leaks.append(Leak(what, found, record.name, record.levelname, self.test,
                                   text.splitlines()[0][:300] if text else ""))


class LogPrivacy:
    def __init__(self, config: pytest.Config):
        self.config = config
        self.handler = _Capture(PrivacyMatcher(birthdays_of_test_data()))
        self.leaks: list[Leak] = []
        self.project_logger = logging.getLogger("kizuna")
        self.saved_level = self.project_logger.level

    def start(self) -> None:
        logging.getLogger().addHandler(self.handler)
        self.project_logger.setLevel(logging.INFO)

    def stop(self) -> None:
        logging.getLogger().removeHandler(self.handler)
        self.project_logger.setLevel(self.saved_level)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Any:
        self.handler.test = item.nodeid
        yield
        self.handler.test = "(outside a test)"

    @pytest.hookimpl(optionalhook=True)  # an xdist hook: the controller gets a worker's hits
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        self.leaks += [Leak(**leak) for leak in getattr(node, "workeroutput", {}).get("log_privacy", [])]

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.stop()
        self.leaks += self.handler.leaks
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:  # an xdist worker: the controller reports
            workeroutput["log_privacy"] = [asdict(leak) for leak in self.handler.leaks]
            return
        if not self.leaks:
            return
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        lines = [f"{len(self.leaks)} log record(s) carry personal data or credentials:"]
        lines += [f"  {leak.what} {leak.found!r} in {leak.level} {leak.logger} during {leak.test}: {leak.line}"
                  for leak in self.leaks[:50]]
        report = "\n".join(lines)
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_sep("=", "log privacy", red=True, bold=True)
            reporter.write_line(report)
        else:
            print(report)


def pytest_configure(config: pytest.Config) -> None:
    plugin = LogPrivacy(config)
    config.pluginmanager.register(plugin, "kizuna-log-privacy")
    plugin.start()
