"""The items of VIP events. Keys: infra/keys.py ("VIP events")."""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute

from infra.items.base import TableItem


class VipEventItem(TableItem, discriminator="vip-event"):
    """`T#t#VIPEVENT#<id> / EVENT`: the definition and the seat counters, in one item so a
    registration's transaction conditions on both. `taken` = confirmed + offered (a condition
    cannot add two attributes): never above `capacity`."""

    definition = JSONAttribute()  # domain.vip_events.model.VipEvent as a dict
    status = UnicodeAttribute(default="SCHEDULED")
    capacity = NumberAttribute()
    taken = NumberAttribute(default=0)
    confirmed = NumberAttribute(default=0)
    offered = NumberAttribute(default=0)
    waitlisted = NumberAttribute(default=0)
    wait_seq = NumberAttribute(default=0, attr_name="waitSeq")  # the last waitlist position handed out
    version = NumberAttribute(default=1)  # of the definition: moves on every staff edit
    # Cancelling the event (infra/vip_events/cancellation.py): who, when, why, and whether registrations
    # are still to be ended and refunded (`refundsPending`, with the GSI2 mark `T#t#DUE#VIPCANCEL` while true).
    cancelled_at = UnicodeAttribute(null=True, attr_name="cancelledAt")
    cancelled_by = UnicodeAttribute(null=True, attr_name="cancelledBy")
    cancel_reason = UnicodeAttribute(null=True, attr_name="cancelReason")
    refunds_pending = BooleanAttribute(null=True, attr_name="refundsPending")
    registrations_ended = NumberAttribute(null=True, attr_name="registrationsEnded")  # by the cancellation
    points_refunded = NumberAttribute(null=True, attr_name="pointsRefunded")  # by the cancellation
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(null=True, attr_name="updatedAt")


class RegistrationItem(TableItem, discriminator="vip-registration"):
    """`T#t#VIPEVENT#<id> / REG#<member>`: one per member and event; every state change conditioned
    on the state it leaves. GSI1 `T#t#M#<m>#TICKETS` / `<startsAt>#<event>` lists a member's tickets."""

    event_id = UnicodeAttribute(attr_name="eventId")
    member_id = UnicodeAttribute(attr_name="memberId")
    state = UnicodeAttribute()
    seq = NumberAttribute(null=True)  # waitlist position (join order), while waitlisted
    points_paid = NumberAttribute(default=0, attr_name="pointsPaid")
    policy = JSONAttribute()  # the cancellation policy as promised when registering
    code = UnicodeAttribute(null=True)  # the check-in code on the member's ticket (random, 144 bits)
    registered_at = UnicodeAttribute(attr_name="registeredAt")
    updated_at = UnicodeAttribute(null=True, attr_name="updatedAt")
    offer_expires_at = UnicodeAttribute(null=True, attr_name="offerExpiresAt")
    checked_in_at = UnicodeAttribute(null=True, attr_name="checkedInAt")
    checked_in_by = UnicodeAttribute(null=True, attr_name="checkedInBy")
    reason = UnicodeAttribute(null=True)  # why it was cancelled or skipped
    points_refunded = NumberAttribute(null=True, attr_name="pointsRefunded")  # given back when it ended
    version = NumberAttribute(default=1)


class WaitlistEntry(TableItem, discriminator="vip-waitlist"):
    """`T#t#VIPEVENT#<id> / WAIT#<seq>`: the waitlist in join order (a consistent Query reads its
    head); deleted, conditioned on existing, by whoever promotes or removes that member."""

    member_id = UnicodeAttribute(attr_name="memberId")
    joined_at = UnicodeAttribute(attr_name="joinedAt")


class Invitation(TableItem, discriminator="vip-invitation"):
    """`T#t#VIPEVENT#<id> / INVITE#<member>`: checked in the registration of an invitation-only event."""

    member_id = UnicodeAttribute(attr_name="memberId")
    invited_at = UnicodeAttribute(attr_name="invitedAt")
    invited_by = UnicodeAttribute(attr_name="invitedBy")


class TicketLookup(TableItem, discriminator="vip-ticket"):
    """`T#t#TICKET#<sha256(code)> / TICKET`: what a check-in scan finds (never the code itself)."""

    event_id = UnicodeAttribute(attr_name="eventId")
    member_id = UnicodeAttribute(attr_name="memberId")


class CheckInScan(TableItem, discriminator="vip-scan"):
    """`T#t#VIPEVENT#<id> / SCAN#<scanId>`: the first answer to a scan, replayed to the same scan
    retried; TTL."""

    answer = JSONAttribute()
    created_at = UnicodeAttribute(attr_name="createdAt")


class MemberVipStats(TableItem, discriminator="vip-stats"):
    """`T#t#M#<m> / VIPSTATS`: no-shows counted against future registrations (program setting)."""

    no_shows = NumberAttribute(default=0, attr_name="noShows")
    blocked_until = UnicodeAttribute(null=True, attr_name="blockedUntil")
    no_show_times = JSONAttribute(null=True, attr_name="noShowTimes")  # the recent ones that count (ISO, oldest first)
    version = NumberAttribute(default=1)
