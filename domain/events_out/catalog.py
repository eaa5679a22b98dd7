"""The event catalog: which internal changes Kizuna tells the brand's systems about, under which public
name, and the one versioned envelope every published event has.

Internal event types (`points.earned`, the outbox's own names) can be renamed or split as the code
grows; the public names here are a contract with receivers (an email tool's triggers, a CRM's
mappings), so they are listed once, mapped explicitly, and never derived from internal spelling.
An internal type that is not in `PUBLIC` is never published: a new outbox event stays private until
someone decides, in this file, that receivers should hear about it.

The envelope (JSON Schema: `schemas/events/v1/envelope.schema.json`):
- `id`: the outbox item's ULID, the same on every delivery of the same change (consumers dedupe on it);
- `type`: the public name; `version`: the envelope's major version (a breaking change is a new one);
- `occurredAt`: when the change happened (its transaction), not when this copy was sent;
- `tenant`, `memberId`, and `data`: the change's own detail, with keys in camelCase as stored.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

ENVELOPE_VERSION = 1
SCHEMA_PATH = "schemas/events/v1/envelope.schema.json"

# internal outbox type -> public name
PUBLIC: Mapping[str, str] = {
    "points.earned": "PointsEarned",
    "points.released": "PointsReleased",
    "points.redeemed": "PointsRedeemed",
    "points.reversed": "PointsReversed",
    "points.adjusted": "PointsAdjusted",
    "points.expiring_soon": "PointsExpiringSoon",
    "points.expired": "PointsExpired",
    "tier.changed": "TierChanged",
    "tier.at_risk": "TierAtRisk",
    "badge.awarded": "BadgeAwarded",
    "challenge.completed": "ChallengeCompleted",
    "referral.succeeded": "ReferralSucceeded",
    "member.enrolled": "MemberEnrolled",
    "post.approved": "PostApproved",
    "post.rejected": "PostRejected",
    "post.unboxing_invited": "UnboxingInvite",
    "vip_event.registered": "EventRegistered",
    "vip_event.waitlist_promoted": "EventWaitlistPromoted",
    "vip_event.cancelled": "EventCancelled",
    "member.lapsed": "MemberLapsed",
    "member.returned": "MemberReturned",
    "birthday.rewarded": "BirthdayReward",
    "anniversary.rewarded": "AnniversaryReward",
    "milestone.reached": "MilestoneReached",
}

# Internal types kept private on purpose, each with its reason: a new internal type must be placed
# in one list or the other (tests/unit/test_event_catalog.py holds every emitted type to that).
PRIVATE: Mapping[str, str] = {
    "badge.backfilled": "a badge rule added late awards past members in bulk; BadgeAwarded tells each",
    "order.delivered": "the brand's own order system sent it; telling it back is noise",
    "member.profile_completed": "feeds the profile badge; the award is the event receivers want",
    "points.redemption_cancelled": "an internal undo of a redemption that never reached the member",
    "post.removed": "a moderation clean-up after approval; the member was told at approval",
    "vip_event.waitlisted": "the registration's answer says it; EventRegistered/Promoted tell the outcome",
    "vip_event.offered": "a seat offer's hold, followed by EventWaitlistPromoted or its lapse",
    "vip_event.waitlist_skipped": "a skipped offer is bookkeeping of the waitlist",
    "vip_event.registration_cancelled": "the member's own cancellation, answered in the mutation",
    "vip_event.invited": "staff invitations are sent by the brand's own tools",
    "vip_event.attended": "check-in feeds badges and points; those are published",
    "vip_event.no_show": "feeds the no-show policy; its effects are published",
}


def check_known(internal_type: str) -> str:
    """`internal_type` when the catalog places it (published or private on purpose), else ValueError:
    the outbox refuses a type nobody decided about, so no change is silently never told."""
    if internal_type not in PUBLIC and internal_type not in PRIVATE:
        raise ValueError(f"outbox event type {internal_type!r} is in neither PUBLIC nor PRIVATE of "
                         "domain/events_out/catalog.py")
    return internal_type


def public_name(internal_type: str) -> str | None:
    """The public name of an internal type, or None when it is not published."""
    return PUBLIC.get(internal_type)


@dataclass(frozen=True)
class MemberFacts:
    """What the member's profile says at publication, before the consent filter."""

    marketing_consent: bool
    tier: str | None
    points_available: int
    name: str | None = None
    email: str | None = None
    locale: str | None = None


def member_block(facts: MemberFacts | None) -> dict[str, Any]:
    """The envelope's `member`: what a marketing tool segments on (tier, points, the locale to write in)
    and the consent itself, always; the name and email only when the member agreed to marketing. Never the birthday, the verified
    email's binding or anything the member did not agree to share. None (no profile): consent false."""
    if facts is None:
        return {"marketingConsent": False, "tier": None, "pointsAvailable": 0, "locale": None}
    block: dict[str, Any] = {"marketingConsent": facts.marketing_consent, "tier": facts.tier,
                             "pointsAvailable": facts.points_available, "locale": facts.locale}
    if facts.marketing_consent:
        block.update(name=facts.name, email=facts.email)
    return block


def envelope(*, event_id: str, internal_type: str, tenant: str, member_id: str, occurred_at: datetime,
             detail: Mapping[str, Any], sequence: int, member: Mapping[str, Any]) -> dict[str, Any]:
    """The published form of one outbox event. Raises ValueError for a type that is not published."""
    name = public_name(internal_type)
    if name is None:
        raise ValueError(f"{internal_type!r} is not a published event type")
    if occurred_at.tzinfo is None:
        raise ValueError("occurredAt needs an aware datetime")
    return {
        "id": event_id,
        "type": name,
        "version": ENVELOPE_VERSION,
        "occurredAt": occurred_at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "tenant": tenant,
        "memberId": member_id,
        "sequence": sequence,
        "member": dict(member),
        "data": dict(detail),
    }
