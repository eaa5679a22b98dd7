"""The retry matrix of webhook deliveries: which answers count as delivered, which are retried and when,
and when a delivery goes to the dead-letter queue for staff to list and replay.

| Receiver's answer                          | What happens                                           |
|--------------------------------------------|--------------------------------------------------------|
| 2xx                                        | delivered                                              |
| 410 Gone                                   | dead-lettered at once: the endpoint says it is gone     |
| 429, 503 with Retry-After                  | retried after Retry-After (at least the schedule's wait,|
|                                            | at most MAX_RETRY_AFTER_SECONDS)                        |
| any other answer, 3xx included (redirects  | retried on the schedule                                |
| are not followed: they could lead past the |                                                        |
| destination check), a timeout, no answer   |                                                        |

The schedule, after the first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; eight attempts over
about 27.6 hours, then the dead-letter queue. Why retry 4xx as well: a receiver answering 400 or 401 is
most often misconfigured (a secret not yet rotated in, a parser deployed broken), and a day of retries
lets the brand fix it without losing events; only 410 is a clear "stop".
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

SCHEDULE_SECONDS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
MAX_ATTEMPTS = len(SCHEDULE_SECONDS) + 1
MAX_RETRY_AFTER_SECONDS = 3600
# After a failed inline attempt, how long the processor only queues an endpoint's deliveries (for the retry
# job) instead of waiting out another timeout per event: one dead receiver never stalls the stream.
INLINE_HOLD_SECONDS = 60.0


class Next(Enum):
    DELIVERED = "DELIVERED"
    RETRY = "RETRY"
    DEAD_LETTER = "DEAD_LETTER"


@dataclass(frozen=True)
class Step:
    next: Next
    delay_seconds: int = 0  # for RETRY: how long after this attempt the next one is due


def after_attempt(attempt: int, status: int | None, retry_after_seconds: int | None = None) -> Step:
    """What follows attempt number `attempt` (1 for the first) that got HTTP `status`, or None for a
    timeout or no answer at all."""
    if attempt < 1:
        raise ValueError("attempts are numbered from 1")
    if status is not None and 200 <= status < 300:
        return Step(Next.DELIVERED)
    if status == 410 or attempt >= MAX_ATTEMPTS:
        return Step(Next.DEAD_LETTER)
    wait = SCHEDULE_SECONDS[attempt - 1]
    if status in (429, 503) and retry_after_seconds is not None and retry_after_seconds > 0:
        wait = max(wait, min(int(retry_after_seconds), MAX_RETRY_AFTER_SECONDS))
    return Step(Next.RETRY, wait)


def total_retry_window_seconds() -> int:
    """From the first attempt to the last: how long a receiver can be down without losing an event."""
    return sum(SCHEDULE_SECONDS)
