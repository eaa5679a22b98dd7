"""The webhook retry matrix: what is delivered, retried (and when), or dead-lettered."""
from __future__ import annotations

import pytest

from domain.events_out.retries import (MAX_ATTEMPTS, MAX_RETRY_AFTER_SECONDS, SCHEDULE_SECONDS, Next, Step,
                                       after_attempt, total_retry_window_seconds)


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_any_2xx_is_delivered_even_on_the_last_attempt(status):
    assert after_attempt(1, status) == Step(Next.DELIVERED)
    assert after_attempt(MAX_ATTEMPTS, status) == Step(Next.DELIVERED)


@pytest.mark.parametrize("status", [None, 301, 302, 400, 401, 403, 404, 408, 409, 429, 500, 502, 503, 504])
def test_every_other_answer_and_no_answer_is_retried_on_the_schedule(status):
    for attempt, wait in enumerate(SCHEDULE_SECONDS, start=1):
        assert after_attempt(attempt, status) == Step(Next.RETRY, wait)


def test_a_410_dead_letters_at_once():
    assert after_attempt(1, 410) == Step(Next.DEAD_LETTER)


@pytest.mark.parametrize("status", [None, 500, 400])
def test_the_last_failed_attempt_goes_to_the_dead_letter_queue(status):
    assert after_attempt(MAX_ATTEMPTS, status) == Step(Next.DEAD_LETTER)
    assert after_attempt(MAX_ATTEMPTS - 1, status).next is Next.RETRY


def test_retry_after_on_429_and_503_is_honoured_but_never_shortens_or_exceeds_the_cap():
    assert after_attempt(1, 429, retry_after_seconds=120) == Step(Next.RETRY, 120)
    assert after_attempt(1, 503, retry_after_seconds=1) == Step(Next.RETRY, SCHEDULE_SECONDS[0])
    assert after_attempt(1, 429, retry_after_seconds=10**9) == Step(Next.RETRY, MAX_RETRY_AFTER_SECONDS)
    assert after_attempt(1, 500, retry_after_seconds=120) == Step(Next.RETRY, SCHEDULE_SECONDS[0])
    assert after_attempt(6, 429, retry_after_seconds=60) == Step(Next.RETRY, SCHEDULE_SECONDS[5])


def test_a_receiver_can_be_down_for_a_day_without_losing_an_event():
    assert 24 * 3600 < total_retry_window_seconds() < 28 * 3600
    assert MAX_ATTEMPTS == 8


def test_attempts_are_numbered_from_one():
    with pytest.raises(ValueError):
        after_attempt(0, 500)
