"""Member storage: enrollment with unique email and referral code, profile updates, staff listing."""
from __future__ import annotations

from datetime import date
from typing import Any

from infra import keys
from infra.ids import new_ulid
from infra.pages import Page, decode_cursor, page
from infra.items import BirthdayMark, EmailClaim, MemberProfile, OutboxEvent, ReferralCodeClaim, TableItem, read_partition
from infra.transaction import Transaction, TransactionCancelled
from domain import members as rules
from domain.errors import ErrorCode, UserError
from domain.points.balance import Balance

REFERRAL_CODE_ATTEMPTS = 5
OUTBOX_TTL_SECONDS = 7 * 24 * 3600


def to_member(p: MemberProfile) -> rules.Member:
    return rules.Member(
        id=p.member_id,
        name=p.name,
        email=p.email,
        birthday=date.fromisoformat(p.birthday) if p.birthday else None,
        marketing_consent=bool(p.marketing_consent),
        referral_code=p.referral_code,
        joined_at=p.joined_at,
        points=Balance(available=int(p.available), pending=int(p.pending), lifetime=int(p.lifetime),
                       debt=int(p.debt)),
        tier=p.tier,
        referred_by=p.referred_by,
    )


def outbox_event(tenant: str, pk: str, event_type: str, detail: dict[str, Any], now_iso: str,
                 now_epoch: int) -> OutboxEvent:
    return OutboxEvent(pk, f"{keys.OUTBOX_PREFIX}{new_ulid()}", event_type=event_type, tenant=tenant,
                       occurred_at=now_iso, detail=detail, expires_at=now_epoch + OUTBOX_TTL_SECONDS)


class Members:
    def __init__(self, tenant: str):
        self.tenant = tenant

    def pk(self, member_id: str) -> str:
        return keys.member_pk(self.tenant, member_id)

    def get(self, member_id: str) -> rules.Member | None:
        profile = self.get_profile(member_id)
        return to_member(profile) if profile else None

    def get_profile(self, member_id: str) -> MemberProfile | None:
        try:
            return MemberProfile.get(self.pk(member_id), keys.PROFILE, consistent_read=True)
        except MemberProfile.DoesNotExist:
            return None

    def dashboard(self, member_id: str) -> list[TableItem]:
        """Profile, point lots, badges and progress: one Query of the member's dashboard range."""
        return read_partition(self.pk(member_id), TableItem.SK.between(keys.DASHBOARD_FROM, keys.DASHBOARD_TO))

    def enroll(self, member_id: str, e: rules.Enrollment, now_iso: str, now_epoch: int) -> rules.Member:
        pk = self.pk(member_id)
        for _ in range(REFERRAL_CODE_ATTEMPTS):
            code = rules.new_referral_code()
            profile = MemberProfile(
                pk, keys.PROFILE, member_id=member_id, name=e.name, email=e.email,
                birthday=e.birthday.isoformat() if e.birthday else None,
                marketing_consent=e.marketing_consent, referral_code=code,
                referred_by=e.referred_by_code, joined_at=now_iso, updated_at=now_iso,
                last_activity_at=now_iso,
                GSI1PK=keys.members_list_pk(self.tenant), GSI1SK=f"{now_iso}#{member_id}",
            )
            tx = Transaction()
            tx.put("profile", profile, MemberProfile.PK.does_not_exist())
            tx.put("email", EmailClaim(keys.email_pk(self.tenant, e.email), "MEMBER", member_id=member_id),
                   EmailClaim.PK.does_not_exist())
            tx.put("code", ReferralCodeClaim(keys.referral_code_pk(self.tenant, code), "MEMBER",
                                             member_id=member_id), ReferralCodeClaim.PK.does_not_exist())
            if e.birthday:
                tx.put("birthday", self._birthday_mark(e.birthday, member_id))
            tx.put("event", outbox_event(self.tenant, pk, "member.enrolled",
                                         {"memberId": member_id, "referredBy": e.referred_by_code},
                                         now_iso, now_epoch))
            try:
                tx.commit()
                return to_member(profile)
            except TransactionCancelled as c:
                if c.failed_on("profile"):
                    raise UserError(ErrorCode.ALREADY_ENROLLED, "This member is already enrolled.") from None
                if c.failed_on("email"):
                    raise UserError(ErrorCode.EMAIL_TAKEN, "Another member uses this email.", "email") from None
                if not c.failed_on("code"):
                    raise
        raise RuntimeError("could not find a free referral code")

    def _birthday_mark(self, birthday: date, member_id: str) -> BirthdayMark:
        return BirthdayMark(keys.birthday_pk(self.tenant, birthday.strftime("%m-%d")), member_id, member_id=member_id)

    def birthdays_on(self, month_day: str) -> list[str]:
        return [m.member_id for m in BirthdayMark.query(keys.birthday_pk(self.tenant, month_day))]

    def referral_code_owner(self, code: str) -> str | None:
        try:
            return ReferralCodeClaim.get(keys.referral_code_pk(self.tenant, code), "MEMBER").member_id
        except ReferralCodeClaim.DoesNotExist:
            return None

    def update_profile(self, member_id: str, change: rules.ProfileChange, now_iso: str) -> rules.Member:
        profile = self.get_profile(member_id)
        if profile is None:
            raise UserError(ErrorCode.NOT_ENROLLED, "Enroll before updating the profile.")
        actions = [MemberProfile.updated_at.set(now_iso), MemberProfile.version.add(1)]
        if change.name is not None:
            actions.append(MemberProfile.name.set(change.name))
        if change.marketing_consent is not None:
            actions.append(MemberProfile.marketing_consent.set(change.marketing_consent))
        tx = Transaction()
        if change.birthday is not None and change.birthday.isoformat() != profile.birthday:
            actions.append(MemberProfile.birthday.set(change.birthday.isoformat()))
            if profile.birthday:
                tx.delete("old-birthday", self._birthday_mark(date.fromisoformat(profile.birthday), member_id))
            tx.put("birthday", self._birthday_mark(change.birthday, member_id))
        email_changes = change.email is not None and change.email != profile.email
        if email_changes:
            actions.append(MemberProfile.email.set(change.email))
            tx.delete("old-email", EmailClaim(keys.email_pk(self.tenant, profile.email), "MEMBER"),
                      EmailClaim.member_id == member_id)
            tx.put("email", EmailClaim(keys.email_pk(self.tenant, change.email), "MEMBER", member_id=member_id),
                   EmailClaim.PK.does_not_exist())
        # The version condition turns a concurrent edit into a clean retry, not a lost email claim.
        tx.update("profile", profile, actions, MemberProfile.version == profile.version)
        try:
            tx.commit()
        except TransactionCancelled as c:
            if c.failed_on("email"):
                raise UserError(ErrorCode.EMAIL_TAKEN, "Another member uses this email.", "email") from None
            raise UserError(ErrorCode.CONFLICT, "The profile changed meanwhile; try again.") from None
        fresh = self.get_profile(member_id)
        assert fresh is not None
        return to_member(fresh)

    def list(self, first: int, after: str | None) -> Page:
        list_pk = keys.members_list_pk(self.tenant)
        start = decode_cursor(after, list_pk, "GSI1PK")
        result = MemberProfile.lookup.query(list_pk, limit=first, last_evaluated_key=start,
                                            scan_index_forward=False)
        return page(result, to_member, ("PK", "SK", "GSI1PK", "GSI1SK"), first)
