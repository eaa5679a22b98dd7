"""Which board: the all-time board, or the board of one local month of the program.

A month board is keyed by the program's local month (`domain.calendar.month_key`, `Program.timezone`),
computed on the server: a credit at 23:59 on 31 January in Tokyo is on the January board, one at 00:01
on 1 February on February's, and the board a page shows by default turns over once, at local midnight.
Boards of the current month and the twelve before it are kept (`MONTHS_KEPT`); older ones expire.
"""
from __future__ import annotations

import re
from datetime import datetime
from enum import Enum

from domain import calendar
from domain.bounds import Bound
from domain.errors import ErrorCode, UserError


class Period(Enum):
    MONTH = "MONTH"
    ALL_TIME = "ALL_TIME"


ALL_TIME_BOARD = "ALL"
MONTHS_KEPT = 13  # the month in progress and the twelve before it


def current_month(now: datetime, tz: str) -> str:
    return calendar.month_key(now, tz)


def kept(month: str, now: datetime, tz: str) -> bool:
    """Whether a month's board is still kept at `now` (a month ahead of the clock counts as kept)."""
    return calendar.months_between(month, current_month(now, tz)) < MONTHS_KEPT


def board_key(period: Period, month: str | None, now: datetime, tz: str) -> str:
    """"ALL" or "YYYY-MM". `month` (already bound-checked) picks a past month board; without it the
    current local month. A month outside the kept window is an input error, as is a month for ALL_TIME."""
    if period is Period.ALL_TIME:
        if month is not None:
            raise UserError(ErrorCode.INVALID, "`month` is only for MONTH boards.", "month")
        return ALL_TIME_BOARD
    current = current_month(now, tz)
    if month is None:
        return current
    behind = calendar.months_between(month, current)
    if behind < 0 or behind >= MONTHS_KEPT:
        raise UserError(ErrorCode.OUT_OF_RANGE,
                        f"Month boards are kept for the current month and the {MONTHS_KEPT - 1} before it "
                        f"({calendar.add_months(current, 1 - MONTHS_KEPT)} to {current}).", "month")
    return month


def expires_at(board: str, tz: str) -> int | None:
    """Epoch seconds after which a month board's items may go (TTL): when the month leaves the kept
    window. The all-time board never expires."""
    if board == ALL_TIME_BOARD:
        return None
    return int(calendar.month_start(calendar.add_months(board, MONTHS_KEPT), tz).timestamp())


# -- the `month` argument -----------------------------------------------------------------------------
MONTH_TEXT_MAX = 7
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def check_month(raw: str) -> str | UserError:
    value = raw.strip()
    if not value:
        return UserError(ErrorCode.REQUIRED, "A month is required.")
    if len(value) > MONTH_TEXT_MAX:
        return UserError(ErrorCode.TOO_LONG, "A month is written YYYY-MM (7 characters).")
    m = _MONTH.fullmatch(value)
    if not m or not 1 <= int(m.group(2)) <= 12:
        return UserError(ErrorCode.INVALID, "A month is written YYYY-MM, e.g. 2026-11.")
    if not 2000 <= int(m.group(1)) <= 2099:
        return UserError(ErrorCode.OUT_OF_RANGE, "Months run from 2000-01 to 2099-12.")
    return value


MONTH = Bound("Month", "A local month of the program, YYYY-MM (e.g. \"2026-11\"), from 2000-01 to 2099-12.",
              check_month)

# -- display names ------------------------------------------------------------------------------------
DISPLAY_NAME_MAX = 40
_DISPLAY = re.compile(r"[^\x00-\x1f\x7f]+")


def check_display_name(raw: str) -> str | UserError:
    value = " ".join(raw.split())  # one line, single spaces: a board shows it on one row
    if not value:
        return UserError(ErrorCode.REQUIRED, "A display name is required to join a leaderboard.")
    if len(value) > DISPLAY_NAME_MAX:
        return UserError(ErrorCode.TOO_LONG, f"A display name is at most {DISPLAY_NAME_MAX} characters.")
    if not _DISPLAY.fullmatch(value):
        return UserError(ErrorCode.INVALID, "A display name has characters that are not allowed.")
    return value


DISPLAY_NAME = Bound("DisplayName", f"The name shown on public leaderboards: 1-{DISPLAY_NAME_MAX} characters, "
                                    "no control characters; runs of spaces become one.", check_display_name)
