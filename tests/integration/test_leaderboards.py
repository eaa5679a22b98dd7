"""Leaderboards against DynamoDB Local: the top and my rank against a model, opting out, reversals, the month
boundary in the program's zone, and a read cost that does not grow with the board."""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from domain import calendar
from domain.leaderboards import histogram, periods
from domain.leaderboards.ranking import Standing, competition_ranks, ordered
from domain.members import Enrollment
from domain.points.orders import Order, OrderLine, ReturnedLine, ReturnRequest, ReturnResolution
from domain.points.program import DEFAULT_PROGRAM
from infra import keys
from infra.events.model import Env, Event
from infra.events.processor import to_event
from infra.items import TableItem
from infra.leaderboards import EXACT_TOP, SHARDS, Leaderboards, ReadCost, Seed
from infra.leaderboards.boards import _client, _table
from infra.leaderboards.listener import LISTENER
from infra.members import Members
from infra.points.adjustments import Adjustments
from infra.points.orders import OrderBook
from infra.points.program_store import ProgramStore
from tests.support import new_tenant

TOKYO = "Asia/Tokyo"
NOW = datetime(2027, 3, 15, 3, tzinfo=timezone.utc)
MONTH = "2027-03"
ALL = periods.ALL_TIME_BOARD


class Program:
    def __init__(self, services: Any, tz: str = TOKYO):
        self.tenant = new_tenant()
        self.services = services
        self.store = ProgramStore(self.tenant, services.programs)
        self.store.save_program(replace(DEFAULT_PROGRAM, timezone=tz), "test", NOW)
        self.tz = tz
        self.boards = Leaderboards(self.tenant)

    def env(self, now: datetime) -> Env:
        return Env(now=now, programs=lambda t: ProgramStore(t, self.services.programs))

    def enroll(self, member_id: str, at: datetime = NOW) -> str:
        Members(self.tenant).enroll(member_id, Enrollment(member_id, f"{member_id}@example.com", None, False),
                                    at.isoformat(), int(at.timestamp()))
        return member_id

    def events(self, member_id: str) -> list[Event]:
        """The member's outbox items as the stream hands them to the processor (an INSERT's new image)."""
        out = _client().query(TableName=_table(), KeyConditionExpression="PK = :pk AND begins_with(SK, :o)",
                              ExpressionAttributeValues={":pk": {"S": keys.member_pk(self.tenant, member_id)},
                                                         ":o": {"S": keys.OUTBOX_PREFIX}}, ConsistentRead=True)
        found = [to_event({"eventName": "INSERT", "dynamodb": {"NewImage": raw}}) for raw in out["Items"]]
        return [e for e in found if e is not None]

    def deliver(self, member_id: str, now: datetime) -> list[Event]:
        """Every outbox event of the member so far to the listener (as a replaying stream would)."""
        events = [e for e in self.events(member_id) if e.type in LISTENER.event_types]
        for e in events:
            LISTENER.handle(e, self.env(now))
        return events

    def on_board(self, board: str) -> list[str]:
        """Every member id on a board, walking it page by page as the API does."""
        seen, start = [], None
        while True:
            page = self.boards.page(board, 100, start)
            seen += [node.row.member_id for _, node in page.edges]
            if not page.has_next:
                return seen
            start = page.edges[-1][0]


@pytest.fixture
def program(services) -> Program:
    return Program(services)


def test_top_ten_whole_board_and_my_rank_match_a_model_of_2000_members_with_ties(program):
    rng = random.Random(2027)
    base = NOW - timedelta(days=10)
    seeds = []
    for i in range(2000):
        # Scores from a small range make many ties; reachedAt repeats too, so the member id breaks some.
        total = rng.choice([rng.randint(1, 400), rng.randint(1, 40) * 50, rng.randint(1, 20000)])
        month = rng.randint(0, total)
        seeds.append(Seed(f"m{i:04d}", f"Fan {i}", total, {MONTH: month},
                          reached_at=base + timedelta(minutes=rng.randint(0, 300))))
    program.boards.bulk_load(seeds, NOW, TOKYO)

    for board, score_of in ((ALL, lambda s: s.qp_all), (MONTH, lambda s: s.qp[MONTH])):
        standings = [Standing(s.member_id, score_of(s), s.reached_at) for s in seeds if score_of(s) > 0]
        model_order, model_rank = ordered(standings), competition_ranks(standings)
        assert len({s.score for s in standings}) < len(standings) - 500  # plenty of ties

        top, more = program.boards.ranked(board, 10)
        assert more and [(r.row.member_id, r.rank, r.row.score) for r in top] == [
            (s.member_id, model_rank[s.member_id], s.score) for s in model_order[:10]]

        # The whole board, 100 a page: the model's order, ranks right across page boundaries.
        walked, start = [], None
        while True:
            page = program.boards.page(board, 100, start)
            walked += [(n.row.member_id, n.rank) for _, n in page.edges]
            if not page.has_next:
                break
            start = page.edges[-1][0]
        assert walked == [(s.member_id, model_rank[s.member_id]) for s in model_order]

        buckets = Counter(histogram.bucket(s.score) for s in standings)
        errors, exact = [], 0
        sample = model_order[:5] + model_order[95:110] + rng.sample(model_order, 60) + model_order[-5:]
        for s in sample:
            mine = program.boards.rank(s.member_id, board)
            truth = model_rank[s.member_id]
            assert mine is not None and mine.score == s.score
            if truth <= EXACT_TOP:
                assert mine.exact, (s, truth, mine)
            if mine.exact:
                exact += 1
                assert mine.rank == truth and mine.within == 0
            else:
                assert abs(mine.rank - truth) <= mine.within <= buckets[histogram.bucket(s.score)] - 1, (s, truth, mine)
                errors.append(abs(mine.rank - truth))
        print(f"\n{board}: {len(standings)} members, {len(sample)} ranks asked: {exact} exact; approximate: "
              f"{len(errors)}, mean error {sum(errors) / max(1, len(errors)):.1f}, max {max(errors, default=0)}")


def test_a_board_read_touches_the_same_number_of_items_at_200_and_2000_members(services):
    measured = {}
    for n in (200, 2000):
        program = Program(services)
        rng = random.Random(n)
        program.boards.bulk_load([Seed(f"m{i:04d}", f"Fan {i}", rng.randint(1, 5000)) for i in range(n)], NOW, TOKYO)
        top, rank = ReadCost(), ReadCost()
        program.boards.ranked(ALL, 10, cost=top)
        program.boards.rank("m0007", ALL, cost=rank)
        measured[n] = (top.calls, top.items, rank.calls, rank.items)
        print(f"\n{n} members: top 10 = {top.calls} queries, {top.items} items read; my rank = {rank.calls} calls, "
              f"{rank.items} items read")
    assert measured[200][:2] == measured[2000][:2] == (SHARDS, SHARDS * 11)
    assert measured[2000][3] <= 1 + SHARDS * EXACT_TOP + SHARDS


def test_an_opted_out_member_is_on_no_board_and_a_late_event_does_not_bring_them_back(program):
    program.boards.bulk_load([Seed(f"m{i:02d}", f"Fan {i}", 100 + i, {MONTH: 10 + i}) for i in range(20)], NOW, TOKYO)
    kai = program.enroll("kai")
    program.boards.join(kai, "Kai", NOW, TOKYO)
    Adjustments(program.tenant, program.store).adjust(kai, 900, "top fan", "staff:test", NOW, qualifying=True)
    events = program.deliver(kai, NOW)
    assert [e.type for e in events] == ["points.adjusted"]
    assert program.on_board(ALL)[0] == kai and program.on_board(MONTH)[0] == kai
    assert program.boards.rank(kai, ALL).rank == 1

    program.boards.leave(kai, NOW, TOKYO)
    assert program.boards.held_boards(kai) == []
    assert kai not in program.on_board(ALL) and kai not in program.on_board(MONTH)
    assert program.boards.rank(kai, ALL) is None
    assert sum(program.boards.histogram(ALL).values()) == 20  # the counts left with the rows

    program.deliver(kai, NOW + timedelta(seconds=5))  # a late copy of the credit's event
    assert program.boards.held_boards(kai) == [] and kai not in program.on_board(ALL)


def test_a_reversal_lowers_the_score_on_the_month_the_order_qualified_in(program):
    aiko = program.enroll("aiko")
    program.boards.join(aiko, "Aiko", NOW, TOKYO)
    book = OrderBook(program.tenant, program.store)
    order = Order("o-1", "JPY", NOW, (OrderLine("1", 1, Decimal(30000)), OrderLine("2", 1, Decimal(10000))),
                  Decimal(40000), Decimal(40000), member_id=aiko)
    book.record(order, NOW)
    program.deliver(aiko, NOW)
    assert program.boards.rank(aiko, ALL).score == program.boards.rank(aiko, MONTH).score == 400

    later = NOW + timedelta(days=40)  # in April: the refund still comes off March
    book.process_return(ReturnRequest("o-1", "r-1", ReturnResolution.REFUND, (ReturnedLine("1", Decimal(30000)),)), later)
    events = program.deliver(aiko, later)
    assert "points.reversed" in [e.type for e in events]
    assert program.boards.rank(aiko, ALL).score == 100
    assert program.boards.rank(aiko, MONTH).score == 100
    assert program.boards.rank(aiko, "2027-04") is None


def test_a_month_board_turns_over_once_at_local_midnight(program):
    # 23:59 on 31 January in Tokyo is 14:59 UTC; 00:01 on 1 February is 15:01 UTC.
    before = datetime(2027, 1, 31, 14, 59, tzinfo=timezone.utc)
    after = datetime(2027, 2, 1, 15, 1, tzinfo=timezone.utc) - timedelta(days=1)
    assert calendar.local(after, TOKYO).strftime("%m-%d %H:%M") == "02-01 00:01"
    late, early = program.enroll("late", before), program.enroll("early", before)
    for m in (late, early):
        program.boards.join(m, m.title(), before, TOKYO)
    adjust = Adjustments(program.tenant, program.store).adjust
    adjust(late, 70, "night owl", "staff:test", before, qualifying=True)
    adjust(early, 50, "early bird", "staff:test", after, qualifying=True)
    for m in (late, early):
        program.deliver(m, after + timedelta(minutes=1))

    assert program.on_board("2027-01") == [late] and program.on_board("2027-02") == [early]
    assert program.on_board(ALL) == [late, early]
    assert periods.board_key(periods.Period.MONTH, None, before + timedelta(seconds=30), TOKYO) == "2027-01"
    assert periods.board_key(periods.Period.MONTH, None, after - timedelta(seconds=30), TOKYO) == "2027-02"
    # In UTC both instants are 31 January: a UTC month would have put both on one board.
    assert before.month == after.month == 1


def test_replays_and_concurrent_events_change_a_row_and_its_histogram_once(program):
    import threading

    kai = program.enroll("kai")
    program.boards.join(kai, "Kai", NOW, TOKYO)
    Adjustments(program.tenant, program.store).adjust(kai, 120, "a", "staff:test", NOW, qualifying=True)
    Adjustments(program.tenant, program.store).adjust(kai, 80, "b", "staff:test", NOW, qualifying=True)
    events = [e for e in program.events(kai) if e.type == "points.adjusted"]
    threads = [threading.Thread(target=LISTENER.handle, args=(e, program.env(NOW))) for e in events * 5]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    mine = program.boards.rank(kai, ALL)
    assert (mine.rank, mine.score) == (1, 200)
    assert program.boards.histogram(ALL) == {histogram.bucket(200): 1}
    assert program.boards.histogram(MONTH) == {histogram.bucket(200): 1}


def test_rows_live_outside_the_dashboard_range_and_month_rows_expire_when_the_month_leaves_the_window(program):
    program.boards.bulk_load([Seed("m1", "Fan", 10, {MONTH: 10})], NOW, TOKYO)
    items = TableItem._get_connection().connection.client.query(
        TableName=_table(), KeyConditionExpression="PK = :pk AND begins_with(SK, :p)",
        ExpressionAttributeValues={":pk": {"S": keys.member_pk(program.tenant, "m1")}, ":p": {"S": "~LB"}})["Items"]
    sks = sorted(i["SK"]["S"] for i in items)
    assert sks == ["~LB#2027-03", "~LB#ALL"]  # the `~LB` counter comes with the first change after a bulk load
    assert all(not keys.DASHBOARD_FROM <= sk <= keys.DASHBOARD_TO for sk in sks)
    month_row = next(i for i in items if i["SK"]["S"] == "~LB#2027-03")
    assert int(month_row["expiresAt"]["N"]) == int(calendar.month_start("2028-04", TOKYO).timestamp())
    assert "expiresAt" not in next(i for i in items if i["SK"]["S"] == "~LB#ALL")


def test_demo_seeding_fills_a_board_once_however_often_it_runs(program):
    from infra.leaderboards.demo import COMMUNITY, seed_leaderboard

    aiko = program.enroll("demo-member-1")
    Adjustments(program.tenant, program.store).adjust(aiko, 260, "demo", "staff:test", NOW, qualifying=True)
    program.enroll("demo-member-2")
    for _ in range(2):
        seed_leaderboard(program.tenant, program.services.programs, NOW)
    on_board = program.on_board(ALL)
    assert len(on_board) == COMMUNITY + 1 and "demo-member-1" in on_board  # Ben has no qualifying points yet
    assert sum(program.boards.histogram(ALL).values()) == COMMUNITY + 1
