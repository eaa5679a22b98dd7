"""Leaderboards in the one table: rows that mirror qualification, read as a sparse, write-sharded index.

What a score is. A member's score on a board is their qualifying points in the board's period, as the
crediting transaction keeps them on the profile (infra/tiers/state.py): `qp:<YYYY-MM>` for a month
board (a reversal takes back from the month the order qualified in), `qpAll` for the all-time board.
Expired and redeemed points never touch them. Scores come only from there: no caller sends one.

Rows. A member who joined (`leaderboardJoin`, profile `lbJoined = true`, `lbName`) has one row per
board they have points on (`~LB#<board>` in their own partition, outside the dashboard range), at most
14: all-time and the 13 kept months, each month's with a TTL when it leaves the window. A row carries
the display name, score, `reachedAt` and the GSI1 keys:
    GSI1PK `T#<t>#LB#<board>#<shard>`, GSI1SK the score key (domain/leaderboards/score_keys.py)
Only rows of joined members with a score above zero exist, so the index holds nothing else (sparse).

Write sharding. A board is spread over `SHARDS` = 4 index partitions by a hash of the member id, so a
board's writes are spread over four partitions and four histogram items (a hot all-time board of a
million members is four partitions' worth of write capacity, not one). The count is fixed: changing it
moves members between shards and needs the rows rewritten.

Reading the top. `leaderboard(first: N)` is one Query per shard (GSI1PK = shard, backward, Limit N+1,
below the cursor's key for a later page), run in parallel, merged by key: at most 4 × (N+1) items
whatever the tenant's size, never a Scan. The cursor is the last row's key with its position and rank,
so the next page starts exactly after it and its ranks continue (competition ranking, ties by who
reached the score first: domain/leaderboards/ranking.py).

My rank. `me.leaderboardRank` reads the member's row (GetItem), then counts, per shard, the rows with a
higher score (the key range at or above `floor(score + 1)`; Select COUNT, Limit `EXACT_TOP` = 100). When
no shard reaches the limit the count is complete and the rank exact (`exact: true`): always so for the
top 100, and up to 4 × 100 reads. Otherwise the rank comes from the board's histograms (one
BatchGetItem of 4 items): per shard, members per score bucket (domain/leaderboards/histogram.py, buckets
about 3 % of the score wide), kept exact in the same transaction as the rows they count. The true rank
lies within `[above + 1, above + n]` (n: members in the member's bucket); the answer's `approximateWithin`
says how far the returned rank can be from it, at most n - 1. Measured in
tests/integration/test_leaderboards.py.

Writes are state-based and serialized. A change (a credit's listener, joining, leaving) reads the
profile (consistent GetItem) and the member's rows (one Query of `~LB`), computes the rows the profile
says, and commits the difference in one transaction with: the profile's `version` as read (a check, or
the update for join/leave, which bump it), the member's `~LB` counter as read, and the histogram
counts. An older state can never overwrite a newer one (the version would have moved), a replay finds
nothing to change, and opting out (which deletes every row and clears the flag in one transaction)
can never be undone by a late event: its transaction fails on the flag, and on the counter if it read
before the opt-out committed.
"""
from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Callable, Iterable, Sequence

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute

from domain.errors import ErrorCode, UserError
from domain.leaderboards import histogram, periods, ranking, score_keys
from infra import keys
from infra.cursors import InvalidCursor
from infra.dynamo_errors import RetryLater, call
from infra.items import MemberProfile, TableItem
from infra.leaderboards.items import BoardEntry, BoardHistogram, BoardMembership
from infra.pages import Page
from infra.table import LOOKUP_INDEX
from infra.transaction import Transaction, TransactionCancelled

SHARDS = 4
EXACT_TOP = 100  # ranks are exact at least this far down
MAX_ATTEMPTS = 8  # re-reads when the profile or the rows changed under a change
ROWS_PREFIX = "~LB#"
STATE_SK = "~LB"
JOINED_ATTR = "lbJoined"
NAME_ATTR = "lbName"
QP_PREFIX = "qp:"
QP_ALL = "qpAll"
HIST_PREFIX = "HIST#"
HISTOGRAM_ACTIONS = 90  # ADDs per UpdateItem (an update expression is at most 4 KB)


# -- qualification, from the raw profile -----------------------------------------------------------

def _number(raw: dict[str, Any], name: str) -> int:
    v = raw.get(name)
    return int(float(v["N"])) if isinstance(v, dict) and "N" in v else 0


def qualifying_points(raw_profile: dict[str, Any], month: str) -> int:
    """Qualifying points credited in local month `month` ("YYYY-MM"), net of reversals."""
    return _number(raw_profile, f"{QP_PREFIX}{month}")


def qualifying_all(raw_profile: dict[str, Any]) -> int:
    return _number(raw_profile, QP_ALL)


def scores_of(raw_profile: dict[str, Any], now: datetime, tz: str) -> dict[str, int]:
    """board -> score for every board the profile gives points on: all-time and the kept months."""
    out = {}
    total = qualifying_all(raw_profile)
    if total > 0:
        out[periods.ALL_TIME_BOARD] = score_keys.clamp(total)
    for name in raw_profile:
        if name.startswith(QP_PREFIX):
            month = name[len(QP_PREFIX):]
            points = qualifying_points(raw_profile, month)
            if points > 0 and isinstance(periods.check_month(month), str) and periods.kept(month, now, tz):
                out[month] = score_keys.clamp(points)
    return out


# -- keys ---------------------------------------------------------------------------------------------

def shard_of(member_id: str) -> int:
    return int.from_bytes(hashlib.sha256(member_id.encode()).digest()[:4], "big") % SHARDS


def shard_pk(tenant: str, board: str, shard: int) -> str:
    return f"T#{tenant}#LB#{board}#{shard}"


def histogram_pk(tenant: str, board: str) -> str:
    return f"T#{tenant}#LB#{board}"


def row_sk(board: str) -> str:
    return f"{ROWS_PREFIX}{board}"


def _dynamic(cls: type, name: str) -> Any:
    attr = cls(attr_name=name, null=True)
    attr.attr_name = name
    attr.attr_path = [name]
    return attr


def _joined_attr() -> Any:
    return _dynamic(BooleanAttribute, JOINED_ATTR)


def _name_attr() -> Any:
    return _dynamic(UnicodeAttribute, NAME_ATTR)


def entry_item(tenant: str, member_id: str, board: str, display_name: str, score: int, reached_at: datetime,
               tz: str) -> BoardEntry:
    """The row of a member on a board (the one builder: the listener, joining and bulk loads use it)."""
    shard = shard_of(member_id)
    return BoardEntry(keys.member_pk(tenant, member_id), row_sk(board), member_id=member_id, board=board,
                      display_name=display_name, score=score, reached_at=reached_at.isoformat(), shard=shard,
                      GSI1PK=shard_pk(tenant, board, shard), GSI1SK=score_keys.score_key(score, reached_at, member_id),
                      expires_at=periods.expires_at(board, tz))


def histogram_actions(deltas: dict[int, int], board: str, shard: int, tz: str) -> list[Any]:
    actions: list[Any] = [_dynamic(NumberAttribute, histogram.attribute(b)).add(d) for b, d in sorted(deltas.items())
                          if d]
    if not actions:
        return []
    actions += [BoardHistogram.board.set(board), BoardHistogram.shard.set(shard),
                _dynamic(UnicodeAttribute, "kind").set("lb-histogram")]
    expiry = periods.expires_at(board, tz)
    if expiry is not None:
        actions.append(BoardHistogram.expires_at.set(expiry))
    return actions


# -- the low-level client -----------------------------------------------------------------------------

def _client() -> Any:
    return TableItem._get_connection().connection.client


def _table() -> str:
    return TableItem.Meta.table_name


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _parallel(fns: Sequence[Callable[[], Any]]) -> list[Any]:
    """The shard reads at once (botocore clients are thread-safe): a board read costs one round trip."""
    global _POOL
    if _POOL is None:
        with _POOL_LOCK:
            if _POOL is None:
                _POOL = ThreadPoolExecutor(max_workers=SHARDS, thread_name_prefix="leaderboard")
    return [f.result() for f in [_POOL.submit(fn) for fn in fns]]


@dataclass
class ReadCost:
    """What the reads of one call cost: DynamoDB calls and items read (ScannedCount, items got)."""

    calls: int = 0
    items: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, calls: int, items: int) -> None:
        with self._lock:
            self.calls += calls
            self.items += items


# -- what reads return --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    member_id: str  # never shown publicly: the API shows rank, display name, score and reachedAt
    display_name: str
    score: int
    reached_at: datetime
    key: str


@dataclass(frozen=True)
class RankedRow:
    rank: int
    row: Row


@dataclass(frozen=True)
class MyRank:
    rank: int
    exact: bool
    score: int
    within: int  # 0 when exact


def _row(raw: dict[str, Any]) -> Row:
    return Row(member_id=raw["memberId"]["S"], display_name=raw["displayName"]["S"], score=_number(raw, "score"),
               reached_at=datetime.fromisoformat(raw["reachedAt"]["S"]), key=raw["GSI1SK"]["S"])


class _Mode(Enum):
    SYNC = "sync"
    JOIN = "join"
    LEAVE = "leave"


class Leaderboards:
    def __init__(self, tenant: str):
        self.tenant = tenant

    def pk(self, member_id: str) -> str:
        return keys.member_pk(self.tenant, member_id)

    # -- writes ---------------------------------------------------------------------------------------

    def sync(self, member_id: str, now: datetime, tz: str, reached_at: datetime | None = None) -> bool:
        """Make the member's rows what their profile says (the listener's effect). True if it wrote."""
        return self._apply(member_id, now, tz, _Mode.SYNC, reached_at=reached_at or now)

    def join(self, member_id: str, display_name: str, now: datetime, tz: str) -> None:
        """Opt in (or change the display name): the flag, the name and the rows, in one transaction."""
        self._apply(member_id, now, tz, _Mode.JOIN, reached_at=now, name=display_name)

    def leave(self, member_id: str, now: datetime, tz: str) -> None:
        """Opt out: every row of the member on every board, and the flag, in one transaction."""
        self._apply(member_id, now, tz, _Mode.LEAVE, reached_at=now)

    def _read_profile(self, member_id: str) -> dict[str, Any] | None:
        out = call(lambda: _client().get_item(TableName=_table(), ConsistentRead=True,
                                              Key={"PK": {"S": self.pk(member_id)}, "SK": {"S": keys.PROFILE}}),
                   what="leaderboard profile")
        return out.get("Item")

    def _read_rows(self, member_id: str) -> tuple[int | None, dict[str, dict[str, Any]]]:
        """The member's `~LB` counter (None: never written) and rows by board: one Query (at most 15 items)."""
        params = dict(TableName=_table(), ConsistentRead=True, KeyConditionExpression="PK = :pk AND begins_with(SK, :p)",
                      ExpressionAttributeValues={":pk": {"S": self.pk(member_id)}, ":p": {"S": STATE_SK}})
        seq, rows = None, {}
        while True:
            out = call(lambda: _client().query(**params), what="leaderboard rows")
            for raw in out.get("Items", []):
                sk = raw["SK"]["S"]
                if sk == STATE_SK:
                    seq = _number(raw, "seq")
                elif sk.startswith(ROWS_PREFIX):
                    rows[sk[len(ROWS_PREFIX):]] = raw
            if not out.get("LastEvaluatedKey"):
                return seq, rows
            params["ExclusiveStartKey"] = out["LastEvaluatedKey"]

    def _apply(self, member_id: str, now: datetime, tz: str, mode: _Mode, *, reached_at: datetime,
               name: str | None = None) -> bool:
        pk = self.pk(member_id)
        shard = shard_of(member_id)
        for _ in range(MAX_ATTEMPTS):
            profile = self._read_profile(member_id)
            if profile is None:
                if mode is _Mode.SYNC:
                    return False
                raise UserError(ErrorCode.NOT_ENROLLED, "Enroll before joining or leaving leaderboards.")
            version = _number(profile, "version")
            was_joined = (profile.get(JOINED_ATTR) or {}).get("BOOL") is True
            was_name = (profile.get(NAME_ATTR) or {}).get("S")
            if mode is _Mode.SYNC and not was_joined:
                return False  # nothing of a member who has not joined is on a board (leaving removed it all)
            seq, held = self._read_rows(member_id)
            joined = mode is _Mode.JOIN or (mode is _Mode.SYNC and was_joined)
            shown = name if mode is _Mode.JOIN else was_name
            wanted = scores_of(profile, now, tz) if joined and shown else {}

            tx = Transaction()
            changed = False
            for board in sorted(set(held) | set(wanted)):
                old = held.get(board)
                if old is not None and board != periods.ALL_TIME_BOARD and mode is not _Mode.LEAVE \
                        and not periods.kept(board, now, tz):
                    continue  # a month past the window: its rows and histograms expire together (TTL)
                new = wanted.get(board)
                deltas: dict[int, int] = {}
                if new is None:
                    if old is None:
                        continue
                    tx.delete(f"row:{board}", BoardEntry(pk, row_sk(board)))
                    deltas[histogram.bucket(_number(old, "score"))] = -1
                else:
                    old_score = _number(old, "score") if old is not None else None
                    old_name = old["displayName"]["S"] if old is not None else None
                    if old_score == new and old_name == shown:
                        continue
                    at = reached_at
                    if old is not None:
                        before = datetime.fromisoformat(old["reachedAt"]["S"])
                        # the same score keeps its place; a new score is reached no earlier than the last
                        at = before if old_score == new else max(before, reached_at)
                    tx.put(f"row:{board}", entry_item(self.tenant, member_id, board, shown or "", new, at, tz))
                    if old_score is None:
                        deltas[histogram.bucket(new)] = 1
                    elif histogram.bucket(old_score) != histogram.bucket(new):
                        deltas[histogram.bucket(old_score)] = -1
                        deltas[histogram.bucket(new)] = 1
                changed = True
                actions = histogram_actions(deltas, board, shard, tz)
                if actions:
                    tx.update(f"histogram:{board}",
                              BoardHistogram(histogram_pk(self.tenant, board), f"{HIST_PREFIX}{shard}"), actions)

            P = MemberProfile
            if mode is _Mode.SYNC:
                if not changed:
                    return False  # a replay, or an event whose state an earlier one already mirrored
                tx.check("profile", MemberProfile, pk, keys.PROFILE, (P.version == version) & (_joined_attr() == True))  # noqa: E712
            else:
                flag_same = was_joined == (mode is _Mode.JOIN) and (mode is _Mode.LEAVE or was_name == name)
                if flag_same and not changed:
                    return False  # joined already under this name / not joined and nothing left to remove
                actions = [P.version.add(1), P.updated_at.set(now.isoformat())]
                if mode is _Mode.JOIN:
                    actions += [_joined_attr().set(True), _name_attr().set(name)]
                else:
                    actions += [_joined_attr().set(False), _name_attr().remove()]
                tx.update("profile", MemberProfile(pk, keys.PROFILE), actions, P.version == version)
            tx.update("state", BoardMembership(pk, STATE_SK),
                      [BoardMembership.seq.add(1), _dynamic(UnicodeAttribute, "kind").set("lb-member")],
                      (BoardMembership.seq == seq) if seq is not None else BoardMembership.PK.does_not_exist())
            try:
                tx.commit()
                return True
            except TransactionCancelled:
                continue  # the profile or the rows moved since the read: read again
        if mode is _Mode.SYNC:
            raise RetryLater("the member's leaderboard rows kept changing")
        raise UserError(ErrorCode.CONFLICT, "The member changed meanwhile; try again.")

    # -- reads ----------------------------------------------------------------------------------------

    def row(self, member_id: str, board: str) -> Row | None:
        out = call(lambda: _client().get_item(TableName=_table(), ConsistentRead=True,
                                              Key={"PK": {"S": self.pk(member_id)}, "SK": {"S": row_sk(board)}}),
                   what="leaderboard row")
        item = out.get("Item")
        return _row(item) if item else None

    def top(self, board: str, size: int, below: str | None = None,
            cost: ReadCost | None = None) -> tuple[list[Row], bool]:
        """The first `size` rows of a board in its order (after the key `below`, for a later page) and
        whether more follow: one Query per shard, at most SHARDS * (size + 1) items."""
        def shard_rows(shard: int) -> list[Row]:
            condition, values = "GSI1PK = :pk", {":pk": {"S": shard_pk(self.tenant, board, shard)}}
            if below is not None:
                condition += " AND GSI1SK < :k"
                values[":k"] = {"S": below}
            out = call(lambda: _client().query(TableName=_table(), IndexName=LOOKUP_INDEX,
                                               KeyConditionExpression=condition, ExpressionAttributeValues=values,
                                               ScanIndexForward=False, Limit=size + 1), what="leaderboard")
            if cost is not None:
                cost.add(1, int(out.get("ScannedCount", 0)))
            return [_row(raw) for raw in out.get("Items", [])]

        merged = sorted((r for rows in _parallel([lambda s=s: shard_rows(s) for s in range(SHARDS)]) for r in rows),
                        key=lambda r: r.key, reverse=True)
        return merged[:size], len(merged) > size

    def ranked(self, board: str, size: int, after: ranking.Place = ranking.START, below: str | None = None,
               cost: ReadCost | None = None) -> tuple[list[RankedRow], bool]:
        rows, more = self.top(board, size, below, cost)
        return [RankedRow(rank, row) for rank, row in zip(ranking.ranks([r.score for r in rows], after), rows)], more

    def page(self, board: str, size: int, start: dict[str, Any] | None,
             node: Callable[[RankedRow], Any] = lambda r: r) -> Page:
        """A connection page; each key (sealed into the cursor) is the row's score key with its board,
        position, rank and score, so the next page reads on from exactly there, on the same board."""
        after, below = ranking.START, None
        if start is not None:
            try:
                board, below = str(start["b"]), str(start["k"])
                after = ranking.Place(position=int(start["p"]), rank=int(start["r"]), score=int(start["s"]))
            except (KeyError, TypeError, ValueError):
                raise InvalidCursor("not a leaderboard cursor") from None
        rows, more = self.ranked(board, size, after, below)
        edges = []
        position = after.position
        for r in rows:
            position += 1
            edges.append(({"b": board, "k": r.row.key, "p": position, "r": r.rank, "s": r.row.score}, node(r)))
        return Page(edges=edges, has_next=more)

    def rank(self, member_id: str, board: str, cost: ReadCost | None = None) -> MyRank | None:
        """The member's rank on a board, or None when they have no row there (not joined, no points)."""
        mine = self.row(member_id, board)
        if cost is not None:
            cost.add(1, 1 if mine else 0)
        if mine is None:
            return None
        floor = score_keys.floor(mine.score + 1)

        def higher(shard: int) -> tuple[int, bool]:
            out = call(lambda: _client().query(
                TableName=_table(), IndexName=LOOKUP_INDEX, Select="COUNT", Limit=EXACT_TOP,
                KeyConditionExpression="GSI1PK = :pk AND GSI1SK >= :f",
                ExpressionAttributeValues={":pk": {"S": shard_pk(self.tenant, board, shard)}, ":f": {"S": floor}}),
                what="leaderboard rank")
            if cost is not None:
                cost.add(1, int(out.get("ScannedCount", 0)))
            return int(out.get("Count", 0)), bool(out.get("LastEvaluatedKey"))

        counted = _parallel([lambda s=s: higher(s) for s in range(SHARDS)])
        above = sum(n for n, _ in counted)
        if not any(truncated for _, truncated in counted):
            return MyRank(rank=above + 1, exact=True, score=mine.score, within=0)
        est = histogram.estimate(self.histogram(board, cost), mine.score, at_least=above + 1)
        return MyRank(rank=est.rank, exact=False, score=mine.score, within=est.within)

    def histogram(self, board: str, cost: ReadCost | None = None) -> dict[int, int]:
        """Members per score bucket over the board's shards: one BatchGetItem of SHARDS items."""
        request = {_table(): {"Keys": [{"PK": {"S": histogram_pk(self.tenant, board)}, "SK": {"S": f"{HIST_PREFIX}{s}"}}
                                       for s in range(SHARDS)], "ConsistentRead": True}}
        counts: dict[int, int] = {}
        while request:
            out = call(lambda: _client().batch_get_item(RequestItems=request), what="leaderboard histogram")
            items = out.get("Responses", {}).get(_table(), [])
            if cost is not None:
                cost.add(1, len(items))
            for raw in items:
                for name, value in raw.items():
                    b = histogram.bucket_of_attribute(name)
                    if b is not None and "N" in value:
                        counts[b] = counts.get(b, 0) + int(value["N"])
            request = out.get("UnprocessedKeys") or {}
        return counts

    def held_boards(self, member_id: str) -> list[str]:
        """The boards the member has a row on (for tests and staff tools): one Query."""
        return sorted(self._read_rows(member_id)[1])

    # -- bulk loads (tests, benchmarks, demo data) ----------------------------------------------------

    def bulk_load(self, members: Iterable["Seed"], now: datetime, tz: str) -> int:
        """New members, already joined, with their qualification: profiles, rows and histogram counts
        through the same builders the listener uses, in batch writes (25 items a call) and one ADD per
        histogram item. Only for members who have no rows yet (their counts are added, not replaced)."""
        raw_items: list[dict[str, Any]] = []
        deltas: dict[tuple[str, int], dict[int, int]] = {}
        count = 0
        for m in members:
            count += 1
            pk = self.pk(m.member_id)
            joined_at = (m.joined_at or now).isoformat()
            profile = MemberProfile(
                pk, keys.PROFILE, member_id=m.member_id, name=m.name or m.display_name, email=f"{m.member_id}@example.com",
                referral_code=f"LB{hashlib.sha256(m.member_id.encode()).hexdigest()[:10].upper()}",
                joined_at=joined_at, updated_at=now.isoformat(), last_activity_at=joined_at,
                GSI1PK=keys.members_list_pk(self.tenant), GSI1SK=f"{joined_at}#{m.member_id}").serialize()
            profile[QP_ALL] = {"N": str(m.qp_all)}
            for month, points in m.qp.items():
                profile[f"{QP_PREFIX}{month}"] = {"N": str(points)}
            profile[JOINED_ATTR] = {"BOOL": m.joined}
            if m.joined:
                profile[NAME_ATTR] = {"S": m.display_name}
            raw_items.append(profile)
            if not m.joined:
                continue
            for board, score in scores_of(profile, now, tz).items():
                raw_items.append(entry_item(self.tenant, m.member_id, board, m.display_name, score,
                                            m.reached_at or now, tz).serialize())
                d = deltas.setdefault((board, shard_of(m.member_id)), {})
                d[histogram.bucket(score)] = d.get(histogram.bucket(score), 0) + 1
        write_batch(raw_items)
        for (board, shard), d in deltas.items():
            ordered = sorted(d.items())
            for i in range(0, len(ordered), HISTOGRAM_ACTIONS):
                actions = histogram_actions(dict(ordered[i:i + HISTOGRAM_ACTIONS]), board, shard, tz)
                call(lambda: BoardHistogram(histogram_pk(self.tenant, board), f"{HIST_PREFIX}{shard}").update(actions),
                     what="leaderboard histogram")
        return count


@dataclass(frozen=True)
class Seed:
    """A member for `bulk_load`: qualification as the profile would hold it, and how they show."""

    member_id: str
    display_name: str
    qp_all: int
    qp: dict[str, int] = field(default_factory=dict)  # month -> qualifying points
    reached_at: datetime | None = None
    joined: bool = True
    name: str | None = None
    joined_at: datetime | None = None


def write_batch(raw_items: Sequence[dict[str, Any]]) -> None:
    """BatchWriteItem in chunks of 25 (SHARDS chunks at a time), resending what DynamoDB leaves unprocessed."""
    def chunk(items: Sequence[dict[str, Any]]) -> None:
        pending = {_table(): [{"PutRequest": {"Item": item}} for item in items]}
        while pending:
            out = call(lambda: _client().batch_write_item(RequestItems=pending), what="leaderboard batch")
            pending = out.get("UnprocessedItems") or {}

    chunks = [raw_items[i:i + 25] for i in range(0, len(raw_items), 25)]
    for i in range(0, len(chunks), SHARDS):
        _parallel([lambda c=c: chunk(c) for c in chunks[i:i + SHARDS]])
