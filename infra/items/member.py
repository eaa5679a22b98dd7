"""Member items: the profile with its balances, and the claims that keep emails and referral codes unique."""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, MapAttribute, NumberAttribute, UnicodeAttribute

from infra.items.base import TableItem


class MemberProfile(TableItem, discriminator="member"):
    member_id = UnicodeAttribute(attr_name="memberId")
    name = UnicodeAttribute()
    email = UnicodeAttribute()  # contact address, as the member typed it
    verified_email = UnicodeAttribute(null=True, attr_name="verifiedEmail")  # bound: holds the EmailClaim
    birthday = UnicodeAttribute(null=True)  # ISO date
    marketing_consent = BooleanAttribute(attr_name="marketingConsent", default=False)
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
    tier = UnicodeAttribute(null=True)
    version = NumberAttribute(default=1)


class EmailClaim(TableItem, discriminator="email-claim"):
    member_id = UnicodeAttribute(attr_name="memberId")


class ReferralCodeClaim(TableItem, discriminator="referral-code"):
    member_id = UnicodeAttribute(attr_name="memberId")


class BirthdayMark(TableItem, discriminator="birthday"):
    """`T#t#BDAY#<MM-DD>` / `<member>`: who has a birthday on a day, for the daily birthday job."""

    member_id = UnicodeAttribute(attr_name="memberId")
