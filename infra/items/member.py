"""Member items: the profile with its balances, and the claims that keep emails and referral codes unique."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from pynamodb.attributes import BooleanAttribute, JSONAttribute, MapAttribute, NumberAttribute, UnicodeAttribute

from infra.items.base import TableItem


class DecimalNumber(NumberAttribute):
    """A DynamoDB number kept exact as a Decimal (money): pynamodb's own goes through JSON and float."""

    def serialize(self, value: Any) -> str:
        return str(Decimal(value))

    def deserialize(self, value: str) -> Decimal:
        return Decimal(value)


class MemberProfile(TableItem, discriminator="member"):
    member_id = UnicodeAttribute(attr_name="memberId")
    name = UnicodeAttribute()
    email = UnicodeAttribute()  # contact address, as the member typed it
    verified_email = UnicodeAttribute(null=True, attr_name="verifiedEmail")  # bound: holds the EmailClaim
    birthday = UnicodeAttribute(null=True)  # ISO date
    marketing_consent = BooleanAttribute(attr_name="marketingConsent", default=False)
    locale = UnicodeAttribute(null=True)  # BCP 47: the language of messages (events out carry it)
    referral_code = UnicodeAttribute(attr_name="referralCode")
    referred_by = UnicodeAttribute(null=True, attr_name="referredBy")
    joined_at = UnicodeAttribute(attr_name="joinedAt")  # ISO timestamp, UTC
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    # Points, in the member's own partition so one Query serves the dashboard.
    available = NumberAttribute(default=0)
    pending = NumberAttribute(default=0)
    lifetime = NumberAttribute(default=0)
    debt = NumberAttribute(default=0)
    lots_consumed = NumberAttribute(default=0, attr_name="lotsConsumed")
    last_activity_at = UnicodeAttribute(null=True, attr_name="lastActivityAt")
    order_months = MapAttribute(default=dict, attr_name="orderMonths")
    return_months = MapAttribute(default=dict, attr_name="returnMonths")
    tier = UnicodeAttribute(null=True)  # before ladders: a tier name set by hand (gates and multipliers by name)
    version = NumberAttribute(default=1)
    # Tiers (infra/tiers/state.py): qualification per local month is in attributes named at run time,
    # `qp:<YYYY-MM>` (points) and `qs:<YYYY-MM>` (spend), added to by the crediting transaction.
    qual_points_all = NumberAttribute(default=0, attr_name="qpAll")
    qual_spend_all = DecimalNumber(default=0, attr_name="qsAll")
    tier_held = UnicodeAttribute(null=True, attr_name="tierHeld")
    tier_held_until = UnicodeAttribute(null=True, attr_name="tierHeldUntil")
    tier_grace_target = UnicodeAttribute(null=True, attr_name="tierGraceTarget")
    tier_manual = JSONAttribute(null=True, attr_name="tierManual")
    tier_announced = UnicodeAttribute(null=True, attr_name="tierAnnounced")
    tier_evaluated_through = UnicodeAttribute(null=True, attr_name="tierEvaluatedThrough")
    tier_risk_sent_for = UnicodeAttribute(null=True, attr_name="tierRiskSentFor")
    tier_reached = UnicodeAttribute(null=True, attr_name="tierReached")
    tier_reached_for = UnicodeAttribute(null=True, attr_name="tierReachedFor")

    def read_extra(self, raw: dict[str, dict[str, Any]]) -> None:
        self.qual_points = {k[3:]: int(v["N"]) for k, v in raw.items() if k.startswith("qp:") and "N" in v}
        self.qual_spend = {k[3:]: Decimal(v["N"]) for k, v in raw.items() if k.startswith("qs:") and "N" in v}


class EmailClaim(TableItem, discriminator="email-claim"):
    member_id = UnicodeAttribute(attr_name="memberId")


class ReferralCodeClaim(TableItem, discriminator="referral-code"):
    member_id = UnicodeAttribute(attr_name="memberId")


class BirthdayMark(TableItem, discriminator="birthday"):
    """`T#t#BDAY#<MM-DD>` / `<member>`: who has a birthday on a day, for the daily birthday job."""

    member_id = UnicodeAttribute(attr_name="memberId")
