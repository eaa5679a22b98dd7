"""Member storage: enrollment with unique email and referral code, profile updates, staff listing."""
from __future__ import annotations

from datetime import date
from typing import Any

from infra import keys
from infra.dynamo_errors import call, guarded
from infra.ids import new_ulid
from infra.pages import Page, page, start_key
from infra.points.items import LedgerEntry
from infra.items import BirthdayMark, EmailClaim, MemberProfile, OutboxEvent, ReferralCodeClaim, TableItem
from infra.items.base import read_range
from infra.transaction import Transaction, TransactionCancelled
from domain import members as rules
from domain.events_out import catalog
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
        verified_email=p.verified_email,
        locale=p.locale,
    )


def outbox_event(tenant: str, pk: str, event_type: str, detail: dict[str, Any], now_iso: str,
                 now_epoch: int) -> OutboxEvent:
    return OutboxEvent(pk, f"{keys.OUTBOX_PREFIX}{new_ulid()}", event_type=catalog.check_known(event_type),
                       tenant=tenant, occurred_at=now_iso, detail=detail, expires_at=now_epoch + OUTBOX_TTL_SECONDS)


class Members:
    def __init__(self, tenant: str):
        self.tenant = tenant

    def pk(self, member_id: str) -> str:
        return keys.member_pk(self.tenant, member_id)

    def get(self, member_id: str) -> rules.Member | None:
        profile = self.get_profile(member_id)
        return to_member(profile) if profile else None

    @guarded
    def get_profile(self, member_id: str) -> MemberProfile | None:
        try:
            return MemberProfile.get(self.pk(member_id), keys.PROFILE, consistent_read=True)
        except MemberProfile.DoesNotExist:
            return None

    def dashboard(self, member_id: str) -> list[TableItem]:
        """Profile, point lots, badges and progress: one Query of the member's dashboard range."""
        return call(lambda: read_range(self.pk(member_id), keys.DASHBOARD_FROM, keys.DASHBOARD_TO),
                    what="member dashboard")

    def enroll(self, member_id: str, e: rules.Enrollment, now_iso: str, now_epoch: int,
               verified_email: str | None = None) -> rules.Member:
        """Enroll; the email the token vouches for (if any, and if no other member holds it) is bound.
        A typed email is contact data only: it reserves nothing, so no answer says who else has it."""
        pk = self.pk(member_id)
        bind = verified_email
        for _ in range(REFERRAL_CODE_ATTEMPTS + 1):
            code = rules.new_referral_code()
            profile = MemberProfile(
                pk, keys.PROFILE, member_id=member_id, name=e.name, email=e.email, verified_email=bind,
                birthday=e.birthday.isoformat() if e.birthday else None,
                marketing_consent=e.marketing_consent, referral_code=code, locale=e.locale,
                referred_by=e.referred_by_code, joined_at=now_iso, updated_at=now_iso,
                last_activity_at=now_iso,
                GSI1PK=keys.members_list_pk(self.tenant), GSI1SK=f"{now_iso}#{member_id}",
            )
            tx = Transaction()
            tx.put("profile", profile, MemberProfile.PK.does_not_exist())
            if bind:
                tx.put("email", EmailClaim(keys.email_pk(self.tenant, bind), "MEMBER", member_id=member_id),
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
                    existing = c.old("profile")
                    if existing and _same_enrollment(existing, e):
                        # A repeat of the enrollment that committed (its answer was lost to a fault):
                        # the member as stored, so the caller's welcome step runs again (keyed by cause).
                        return to_member(MemberProfile.from_raw_data(existing))
                    raise UserError(ErrorCode.ALREADY_ENROLLED, "This member is already enrolled.") from None
                if c.failed_on("email"):
                    # Another account holds this verified address (two IdP users, one mailbox): it stays
                    # theirs; this member joins with it as contact data, unbound.
                    bind = None
                    continue
                if not c.failed_on("code"):
                    raise
        raise RuntimeError("could not find a free referral code")

    def _birthday_mark(self, birthday: date, member_id: str) -> BirthdayMark:
        return BirthdayMark(keys.birthday_pk(self.tenant, birthday.strftime("%m-%d")), member_id, member_id=member_id)

    def birthdays_on(self, month_day: str) -> list[str]:
        return call(lambda: [m.member_id for m in BirthdayMark.query(keys.birthday_pk(self.tenant, month_day))],
                    what="birthdays")

    @guarded
    def referral_code_owner(self, code: str) -> str | None:
        try:
            return ReferralCodeClaim.get(keys.referral_code_pk(self.tenant, code), "MEMBER").member_id
        except ReferralCodeClaim.DoesNotExist:
            return None

    def update_profile(self, member_id: str, change: rules.ProfileChange, now_iso: str,
                       verified_email: str | None = None) -> rules.Member:
        """Change the profile. A new email is contact data; the binding follows the token's verified
        email (a member who verifies later, or changes address at the IdP, gets it bound now)."""
        profile = self.get_profile(member_id)
        if profile is None:
            raise UserError(ErrorCode.NOT_ENROLLED, "Enroll before updating the profile.")
        bind = verified_email if verified_email and verified_email != profile.verified_email else None
        while True:
            try:
                return self._update_profile(member_id, profile, change, now_iso, bind)
            except _EmailHeld:
                bind = None  # held by another account: the change goes through without it

    def _update_profile(self, member_id: str, profile: MemberProfile, change: rules.ProfileChange, now_iso: str,
                        bind: str | None) -> rules.Member:
        actions = [MemberProfile.updated_at.set(now_iso), MemberProfile.version.add(1)]
        if change.changes("name"):
            actions.append(MemberProfile.name.set(change.name))
        if change.changes("marketing_consent"):
            actions.append(MemberProfile.marketing_consent.set(change.marketing_consent))
        if change.changes("locale"):
            actions.append(MemberProfile.locale.set(change.locale) if change.locale else MemberProfile.locale.remove())
        tx = Transaction()
        birthday = change.birthday
        if change.changes("birthday") and (birthday.isoformat() if birthday else None) != profile.birthday:  # type: ignore[union-attr]
            if profile.birthday:
                tx.delete("old-birthday", self._birthday_mark(date.fromisoformat(profile.birthday), member_id))
            if birthday is None:  # cleared: no birthday, no birthday points from now on
                actions.append(MemberProfile.birthday.remove())
            else:
                actions.append(MemberProfile.birthday.set(birthday.isoformat()))  # type: ignore[union-attr]
                tx.put("birthday", self._birthday_mark(birthday, member_id))  # type: ignore[arg-type]
        if change.changes("email") and change.email != profile.email:
            actions.append(MemberProfile.email.set(change.email))
        if bind:
            actions.append(MemberProfile.verified_email.set(bind))
            if profile.verified_email:
                tx.delete("old-email", EmailClaim(keys.email_pk(self.tenant, profile.verified_email), "MEMBER"),
                          EmailClaim.member_id == member_id)
            tx.put("email", EmailClaim(keys.email_pk(self.tenant, bind), "MEMBER", member_id=member_id),
                   EmailClaim.PK.does_not_exist())
        # The version condition turns a concurrent edit into a clean retry, not a lost email claim.
        tx.update("profile", profile, actions, MemberProfile.version == profile.version)
        try:
            tx.commit()
        except TransactionCancelled as c:
            if c.failed_on("email"):
                raise _EmailHeld() from None
            raise UserError(ErrorCode.CONFLICT, "The profile changed meanwhile; try again.") from None
        fresh = self.get_profile(member_id)
        assert fresh is not None
        return to_member(fresh)

    @guarded
    def ledger_entry(self, member_id: str, entry_id: str) -> LedgerEntry | None:
        """One entry of the member's history by its id (`TX#<id>`): a GetItem."""
        try:
            return LedgerEntry.get(self.pk(member_id), f"{keys.LEDGER_PREFIX}{entry_id}", consistent_read=True)
        except LedgerEntry.DoesNotExist:
            return None

    def list(self, first: int, after: dict | None) -> Page:
        list_pk = keys.members_list_pk(self.tenant)
        start = start_key(after, list_pk, "GSI1PK")
        return call(lambda: page(MemberProfile.lookup.query(list_pk, limit=first + 1, last_evaluated_key=start,
                                                            scan_index_forward=False),
                                 to_member, ("PK", "SK", "GSI1PK", "GSI1SK"), first), what="members")


class _EmailHeld(Exception):
    """The verified email is bound to another member."""


def _same_enrollment(raw: dict[str, Any], e: rules.Enrollment) -> bool:
    """Whether a stored profile (raw DynamoDB image) is what this enrollment would have written."""
    def s(name: str) -> str | None:
        v = raw.get(name)
        return v.get("S") if v else None

    return (s("email"), s("name"), s("birthday"), s("referredBy")) == (
        e.email, e.name, e.birthday.isoformat() if e.birthday else None, e.referred_by_code)
