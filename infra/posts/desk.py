"""Moderation: approving, rejecting, removing and deleting posts, each one transaction with the points.

Approval commits together: the post's state (conditioned on the state and version read, so two
approvals at once credit once), the points through the ledger (pending until `releaseAt` when the
program holds them), the member's cap counter for the period (over the cap: approved without points,
and the post says so), the feed entries, the member's post record, the audit entry, a gift coupon when
the program gives one, and `post.approved` on a post's first approval only (the progress counters count
each). Every reversal takes back what the post has credited now (`creditedPoints`): pending points are
forfeited, available ones reversed with debt for what was spent, never below zero."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from domain import calendar
from domain.errors import ErrorCode, UserError
from domain.points import actions as action_rules
from domain.points.balance import Balance, EntryStatus, EntryType, credit, hold, release, reverse
from domain.points.program import Period, Program
from domain.posts import rules
from domain.posts.rules import PostState, RewardStatus, Submission
from domain.posts.settings import PostSettings
from infra import keys
from infra.audit import audit_entry
from infra.dynamo_errors import call, guarded
from infra.items import MemberProfile
from infra.members import outbox_event
from infra.points.items import ActionCount, Coupon, LedgerEntry
from infra.points.ledger import Change, MemberLedger, post as post_change, profile_balance
from infra.points.program_store import ProgramStore
from infra.points.rewards import add_gift_coupon, take_back_gift_coupon
from infra.posts import feed
from infra.posts.items import PostItem, PostStats, UnboxInvite
from infra.posts.store import INVITED, POSTED, Posts
from infra.tiers.standing import member_standing
from infra.tiers.state import Qualification
from infra.transaction import Transaction, TransactionCancelled

log = logging.getLogger("kizuna.posts")
ATTEMPTS = 6
ACTION = "post"  # the action name in ledger events, caps and tier qualification


@dataclass(frozen=True)
class Moderator:
    """Who decides: staff (their token's subject and verified email, checked against the author), the
    member themselves (postDelete), or the auto-approval rules."""

    actor: str
    subject: str | None = None
    verified_email: str | None = None
    auto: bool = False
    author: bool = False


AUTO = Moderator(actor="auto", auto=True)


def _period_words(s: PostSettings) -> str:
    return {"DAY": "day", "WEEK": "week", "MONTH": "month", "YEAR": "year"}[s.period.value]


class PostDesk:
    def __init__(self, tenant: str, programs: ProgramStore, posts: Posts):
        self.tenant = tenant
        self.programs = programs
        self.posts = posts

    # -- submitting, with the auto-approval rules ---------------------------------------------------
    def submit(self, member_id: str, sub: Submission, now: datetime) -> PostItem:
        post = self.posts.submit(member_id, sub, now)
        s = self.programs.program().posts
        if rules.auto_rules_set(s) and rules.auto_approves(s, self._rank(member_id, now) if s.auto_approve_min_rank
                                                           is not None else None,
                                                           self.posts.stats(member_id) if s.auto_approve_after_posts
                                                           else rules.Stats(), now):
            try:
                return self.approve(post.post_id, AUTO, now, member_id=member_id)
            except UserError:
                log.info("auto-approval of a post did not apply; it waits for a moderator")
        return post

    @guarded
    def _rank(self, member_id: str, now: datetime) -> int | None:
        try:
            profile = MemberProfile.get(keys.member_pk(self.tenant, member_id), keys.PROFILE, consistent_read=True)
        except MemberProfile.DoesNotExist:
            return None
        standing = member_standing(profile, self.programs.program(), now)
        return standing.tier.rank if standing and standing.tier else None

    # -- shared ------------------------------------------------------------------------------------
    def _load(self, post_id: str, member_id: str | None) -> PostItem:
        post = self.posts.own(member_id, post_id) if member_id else self.posts.find(post_id)
        if post is None:
            raise UserError(ErrorCode.NOT_FOUND, "No such post.", "postId")
        return post

    def _not_self(self, who: Moderator, post: PostItem) -> None:
        """Staff never decide on their own post: by the token's subject, or by a verified email that is
        the author's."""
        if who.auto or who.author:
            return
        if who.subject and who.subject == post.member_id:
            raise UserError(ErrorCode.SELF_MODERATION, "You cannot moderate your own post.", "postId")
        if who.verified_email:
            profile = call(lambda: _profile(post.PK), what="post author")
            mine = who.verified_email.strip().lower()
            if profile is not None and mine in {e.strip().lower() for e in (profile.email, profile.verified_email) if e}:
                raise UserError(ErrorCode.SELF_MODERATION, "You cannot moderate your own post.", "postId")

    # -- approving -----------------------------------------------------------------------------------
    def approve(self, post_id: str, who: Moderator, now: datetime, note: str | None = None, *,
                member_id: str | None = None) -> PostItem:
        program = self.programs.program()
        checked, capped, gift_ok = False, False, True
        for _ in range(ATTEMPTS):
            post = self._load(post_id, member_id)
            rules.may_approve(PostState(post.state))
            if not checked:
                self._not_self(who, post)
                checked = True
            try:
                self._approve_once(post, program, who, now, note, capped=capped, gift_ok=gift_ok)
            except TransactionCancelled as c:
                if c.failed_on("order-mark"):
                    raise UserError(ErrorCode.DUPLICATE_POST, "This order has another unboxing post now.",
                                    "postId") from None
                if c.failed_on("cap"):
                    capped = True
                elif c.failed_on("gift-reward"):
                    gift_ok = False
                elif not (c.failed_on("post") or c.failed_on("gift-coupon")):
                    raise
                continue
            return self._load(post_id, post.member_id)
        raise UserError(ErrorCode.CONFLICT, "The post kept changing; try again.", "postId")

    def _approve_once(self, post: PostItem, program: Program, who: Moderator, now: datetime, note: str | None, *,
                      capped: bool, gift_ok: bool) -> None:
        s = program.posts
        already = int(post.credited_points or 0)
        points = 0 if already or capped else s.points_for(bool(post.unboxing))
        release_at = rules.release_at(s, now) if points else None
        ladder = program.tiers.at(now)
        month = calendar.month_key(now, program.timezone)
        q = Qualification(month, points) if points and (ladder is None or ACTION in ladder.qualifying_actions) else None
        cached = self.programs.reward(s.reward_id) if s.reward_id else None
        gift = cached is not None and gift_ok and not capped and post.coupon_code is None
        if capped:
            status = RewardStatus.CAPPED
            note_text = f"Approved over the limit of {s.cap} rewarded posts per {_period_words(s)}: no points."
        elif already:
            status, note_text = RewardStatus(post.reward_status), post.reward_note
        elif points:
            status, note_text = (RewardStatus.HELD if release_at else RewardStatus.CREDITED), None
        else:
            status, note_text = RewardStatus.NO_POINTS, None
        if s.reward_id and not gift and not capped and post.coupon_code is None:
            note_text = "The gift reward is not available now."
        ledger = MemberLedger(self.tenant, post.member_id, now, program)
        entry_key = ledger.entry_key()
        at = now.isoformat()
        where = feed.entry_keys(self.tenant, post, at)
        P = PostItem

        def build(known: Balance) -> Transaction:
            tx = Transaction()
            actions = [P.state.set(PostState.APPROVED.value), P.version.add(1), P.decided_at.set(at),
                       P.decided_by.set(who.actor), P.approved_at.set(at), P.ever_approved.set(True),
                       P.reason_code.remove(), P.reward_status.set(status.value), P.GSI1PK.remove(), P.GSI1SK.remove(),
                       P.feed_keys.set(where),
                       P.reason_message.set(note) if note else P.reason_message.remove(),
                       P.reward_note.set(note_text) if note_text else P.reward_note.remove()]
            if points:
                actions += [P.credited_points.set(points), P.credit_held.set(release_at is not None)]
                actions.append(P.qual_month.set(month) if q else P.qual_month.remove())
            if release_at is not None:
                actions += [P.credit_entry.set(entry_key), P.release_at.set(release_at.isoformat()),
                            P.GSI2PK.set(keys.due_pk(self.tenant, "RELEASE")),
                            P.GSI2SK.set(f"{release_at.isoformat()}#{post.member_id}#{post.post_id}")]
            else:
                actions += [P.GSI2PK.remove(), P.GSI2SK.remove()]
            if gift:
                assert cached is not None
                code = add_gift_coupon(tx, self.tenant, post.member_id, cached.reward, now, f"post:{post.post_id}")
                actions.append(P.coupon_code.set(code))
            if points and s.cap is not None:
                bucket = action_rules.period_key(Period(s.period.value), now, program.timezone)
                tx.update("cap", ActionCount(ledger.pk, keys.action_count_sk(ACTION, bucket)),
                          [ActionCount.count.add(1), ActionCount.kind.set(ActionCount)],
                          ActionCount.count.does_not_exist() | (ActionCount.count < s.cap))
                actions.append(P.cap_bucket.set(bucket))
            tx.update("post", post, actions, (P.version == post.version) & (P.state == post.state))
            if post.unboxing and post.order_id:
                # One unboxing post per order: this one holds the order's mark, or takes it back while it is
                # free (the post was rejected and no other post took the order since).
                U = UnboxInvite
                tx.update("order-mark", U(post.PK, keys.unbox_sk(post.order_id)),
                          [U.state.set(POSTED), U.post_id.set(post.post_id), U.order_id.set(post.order_id),
                           U.kind.set(U)],
                          (U.post_id == post.post_id) | U.state.does_not_exist() | (U.state == INVITED))
            feed.put_entries(tx, post, where, at)
            if points:
                detail = {"action": ACTION, "postId": post.post_id, "platform": post.platform}
                if release_at is not None:
                    change = Change(hold(points), EntryType.ACTION, EntryStatus.PENDING, reason=ACTION,
                                    source=f"post:{post.post_id}", event="points.earned", qualifying=q,
                                    event_detail={**detail, "releaseAt": release_at.isoformat()})
                else:
                    change = Change(credit(known, points), EntryType.ACTION, reason=ACTION,
                                    source=f"post:{post.post_id}", event="points.earned", qualifying=q,
                                    event_detail=detail)
                ledger.add(tx, change, known, entry_key=entry_key)
            tx.update("stats", PostStats(post.PK, keys.POST_STATS_SK),
                      [PostStats.approved.add(1), PostStats.kind.set(PostStats)])
            tx.put("audit", audit_entry(self.tenant, who.actor, "post.approve", now, member_id=post.member_id,
                                        detail={"postId": post.post_id, "points": points, "auto": who.auto,
                                                "rewardStatus": status.value, "from": post.state},
                                        reason=note))
            if not post.ever_approved:
                tx.put("post-event", outbox_event(self.tenant, post.PK, "post.approved", {
                    "memberId": post.member_id, "postId": post.post_id, "platform": post.platform,
                    "unboxing": bool(post.unboxing), **({"orderId": post.order_id} if post.order_id else {})},
                    at, int(now.timestamp())))
            return tx

        post_change(build)

    # -- rejecting, removing, deleting ----------------------------------------------------------------
    def reject(self, post_id: str, who: Moderator, now: datetime, code: rules.RejectReason,
               message: str | None) -> PostItem:
        return self._undo(post_id, who, now, to=PostState.REJECTED, check=rules.may_reject, code=code.value,
                          message=message, keep=False, action="post.reject")

    def remove(self, post_id: str, who: Moderator, now: datetime, code: rules.RemoveReason,
               message: str | None) -> PostItem:
        keep = self.programs.program().posts.removal_policy.value == "KEEP"
        return self._undo(post_id, who, now, to=PostState.REMOVED, check=lambda s: rules.may_remove(s, by_member=False),
                          code=code.value, message=message, keep=keep, action="post.remove")

    def delete(self, member_id: str, post_id: str, now: datetime) -> PostItem:
        keep = self.programs.program().posts.removal_policy.value == "KEEP"
        who = Moderator(actor=f"member:{member_id}", author=True)
        return self._undo(post_id, who, now, to=PostState.REMOVED, check=lambda s: rules.may_remove(s, by_member=True),
                          code=rules.RemoveReason.DELETED_BY_MEMBER.value, message=None, keep=keep,
                          action="post.delete", member_id=member_id)

    def _undo(self, post_id: str, who: Moderator, now: datetime, *, to: PostState,
              check: Callable[[PostState], None], code: str, message: str | None, keep: bool, action: str,
              member_id: str | None = None) -> PostItem:
        program = self.programs.program()
        checked = False
        for _ in range(ATTEMPTS):
            post = self._load(post_id, member_id)
            check(PostState(post.state))
            if not checked:
                self._not_self(who, post)
                checked = True
            try:
                self._undo_once(post, program, who, now, to=to, code=code, message=message, keep=keep, action=action)
            except TransactionCancelled as c:
                if c.failed_on("order-mark"):
                    raise UserError(ErrorCode.CONFLICT, "The order's unboxing mark moved; try again.",
                                    "postId") from None
                if c.failed_on("post") or c.failed_on("gift-back"):
                    continue  # the post moved, or its gift coupon was used meanwhile: read again
                raise
            return self._load(post_id, post.member_id)
        raise UserError(ErrorCode.CONFLICT, "The post kept changing; try again.", "postId")

    def _undo_once(self, post: PostItem, program: Program, who: Moderator, now: datetime, *, to: PostState,
                   code: str, message: str | None, keep: bool, action: str) -> None:
        credited = int(post.credited_points or 0)
        held = bool(post.credit_held)
        take = credited if credited and (held or not keep) else 0
        if take and held:
            status = RewardStatus.FORFEITED
        elif take:
            status = RewardStatus.REVERSED
        elif credited:
            status = RewardStatus.KEPT
        else:
            status = RewardStatus(post.reward_status) if post.state != PostState.PENDING.value else RewardStatus.NONE
        q = Qualification(post.qual_month, -take) if take and post.qual_month else None
        # The gift goes back with the points (not under KEEP), while it is unused; a used one stays used.
        gift = _unused_gift(self.tenant, post.coupon_code) if post.coupon_code and not keep else None
        # A rejected unboxing post (or one withdrawn before a decision) gives its order back: the member may
        # send another. Approving this one later takes the order again only if no other post took it.
        frees_order = bool(post.unboxing and post.order_id) and (
            to is PostState.REJECTED or post.state == PostState.PENDING.value)
        ledger = MemberLedger(self.tenant, post.member_id, now, program)
        at = now.isoformat()
        P = PostItem

        def build(known: Balance) -> Transaction:
            tx = Transaction()
            actions = [P.state.set(to.value), P.version.add(1), P.decided_at.set(at), P.decided_by.set(who.actor),
                       P.reason_code.set(code), P.reward_status.set(status.value), P.credit_held.set(False),
                       P.GSI1PK.remove(), P.GSI1SK.remove(), P.GSI2PK.remove(), P.GSI2SK.remove(),
                       P.feed_keys.set([]),
                       P.reason_message.set(message) if message else P.reason_message.remove()]
            if take:
                actions.append(P.credited_points.set(0))
            if gift is not None:
                take_back_gift_coupon(tx, self.tenant, gift)
                actions.append(P.coupon_code.remove())
            if frees_order:
                U = UnboxInvite
                tx.update("order-mark", U(post.PK, keys.unbox_sk(post.order_id)),
                          [U.state.set(INVITED), U.post_id.remove()], U.post_id == post.post_id)
            if take and post.cap_bucket:
                # No longer rewarded: its place under the member's cap for that period is free again.
                tx.update("cap", ActionCount(post.PK, keys.action_count_sk(ACTION, post.cap_bucket)),
                          [ActionCount.count.add(-1)], ActionCount.count >= 1)
                actions.append(P.cap_bucket.remove())
            tx.update("post", post, actions, (P.version == post.version) & (P.state == post.state))
            feed.delete_entries(tx, list(post.feed_keys))
            if take:
                movement = reverse(known, take, take if held else 0)
                ledger.add(tx, Change(movement, EntryType.REVERSAL, reason=f"post {to.value.lower()}",
                                      source=f"post:{post.post_id}", actor=who.actor, activity=False,
                                      event="points.reversed", event_detail={"postId": post.post_id},
                                      qualifying=q), known)
            stats = []
            if post.state == PostState.APPROVED.value:
                stats.append(PostStats.approved.add(-1))
            if to is PostState.REJECTED:
                stats += [PostStats.rejected.add(1), PostStats.last_rejected_at.set(at)]
            if stats:
                tx.update("stats", PostStats(post.PK, keys.POST_STATS_SK), [*stats, PostStats.kind.set(PostStats)])
            # What the member is told (the events-out path delivers it): the decision, its reason and message.
            tx.put("post-event", outbox_event(self.tenant, post.PK, f"post.{to.value.lower()}", {
                "memberId": post.member_id, "postId": post.post_id, "platform": post.platform, "reasonCode": code,
                "pointsTakenBack": take, "byMember": who.author, **({"message": message} if message else {})},
                at, int(now.timestamp())))
            tx.put("audit", audit_entry(self.tenant, who.actor, action, now, member_id=post.member_id,
                                        detail={"postId": post.post_id, "points": -take, "from": post.state,
                                                "reasonCode": code, "rewardStatus": status.value},
                                        reason=message))
            return tx

        post_change(build, assume=Balance(available=0 if held else take, pending=take if held else 0))


def _unused_gift(tenant: str, code: str) -> Coupon | None:
    try:
        coupon = call(lambda: Coupon.get(keys.coupon_pk(tenant, code), "COUPON", consistent_read=True),
                      what="gift coupon")
    except Coupon.DoesNotExist:
        return None
    return coupon if coupon.status == "ISSUED" else None


def _profile(pk: str) -> MemberProfile | None:
    try:
        return MemberProfile.get(pk, keys.PROFILE, consistent_read=True)
    except MemberProfile.DoesNotExist:
        return None


def release_attempt(tenant: str, program: Program, post: PostItem, now: datetime) -> tuple[Transaction, int] | None:
    """The release job's step for a held post: its pending points become available, conditioned on the
    post still being approved and held at the version read (a removal meanwhile forfeited them)."""
    if post.state != PostState.APPROVED.value or not post.credit_held or not post.release_at \
            or datetime.fromisoformat(post.release_at) > now:
        return None
    profile = call(lambda: _profile(post.PK), what="member profile")
    if profile is None:
        return None
    known = profile_balance(profile)
    points = int(post.credited_points or 0)
    P = PostItem
    tx = Transaction()
    tx.update("post", post, [P.credit_held.set(False), P.reward_status.set(RewardStatus.CREDITED.value),
                             P.GSI2PK.remove(), P.GSI2SK.remove(), P.version.add(1)],
              (P.version == post.version) & (P.state == PostState.APPROVED.value) & (P.credit_held == True))  # noqa: E712
    if post.credit_entry:
        tx.update("earn-entry", LedgerEntry(post.PK, post.credit_entry), [LedgerEntry.status.set(EntryStatus.POSTED.value)])
    if points:
        MemberLedger(tenant, post.member_id, now, program).add(
            tx, Change(release(known, points), EntryType.ACTION, activity=False, event="points.released",
                       event_detail={"postId": post.post_id}), known)
    return tx, points
