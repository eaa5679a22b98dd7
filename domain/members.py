"""Membership rules: what a valid enrollment or profile change is, and how referral codes look."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date

from domain import bounds
from domain.errors import ErrorCode, UserError, collect
from domain.points.balance import Balance

NAME_MAX = 100
EMAIL_MAX = bounds.EMAIL_MAX
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MIN_AGE_YEARS = 13
REFERRAL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O/1/I: read aloud without mistakes
REFERRAL_LENGTH = 8


@dataclass(frozen=True)
class Enrollment:
    name: str
    email: str
    birthday: date | None
    marketing_consent: bool
    referred_by_code: str | None = None
    locale: str | None = None  # the language messages to the member are in (BCP 47), if they said


class Keep:
    """The value of a field an update leaves as it is (the caller did not send it)."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP = Keep()


@dataclass(frozen=True)
class ProfileChange:
    """What a profile update changes: a field left at KEEP stays as it is; `birthday=None` clears the
    birthday (the other fields cannot be cleared)."""

    name: str | Keep = KEEP
    email: str | Keep = KEEP
    birthday: date | None | Keep = KEEP
    marketing_consent: bool | Keep = KEEP
    locale: str | None | Keep = KEEP

    def changes(self, field: str) -> bool:
        return not isinstance(getattr(self, field), Keep)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def vouched_email(email: object, verified: object) -> str | None:
    """The email an identity provider vouches for: its email claim, when its verified claim is true
    (a JSON true, or the string "true" some IdPs send) and the address is one we can store."""
    if verified is not True and verified != "true":
        return None
    if not isinstance(email, str) or check_email(email) is not None:
        return None
    return normalize_email(email)


def valid_member_id(member_id: str) -> bool:
    """Member ids come from the identity provider's `sub` and become keys: the shared id bound."""
    return not isinstance(bounds.IDENTIFIER.check(member_id), UserError) and member_id == member_id.strip()


def check_name(name: str | None, field: str = "name") -> UserError | None:
    if name is None:
        return None
    if not name.strip():
        return UserError(ErrorCode.REQUIRED, "Name is required.", field)
    if len(name) > NAME_MAX:
        return UserError(ErrorCode.TOO_LONG, f"Name must be at most {NAME_MAX} characters.", field)
    return None


def check_email(email: str | None, field: str = "email") -> UserError | None:
    if email is None:
        return None
    stored = bounds.problem(bounds.EMAIL.check(email), field)
    if stored is not None:
        return stored
    if not _EMAIL.match(email.strip()):
        return UserError(ErrorCode.INVALID, "Email is not a valid address.", field)
    return None


def check_birthday(birthday: date | None, today: date, field: str = "birthday") -> UserError | None:
    if birthday is None:
        return None
    if birthday > today:
        return UserError(ErrorCode.OUT_OF_RANGE, "Birthday cannot be in the future.", field)
    if birthday.year < today.year - 120:
        return UserError(ErrorCode.OUT_OF_RANGE, "Birthday is too far in the past.", field)
    age = today.year - birthday.year - ((today.month, today.day) < (birthday.month, birthday.day))
    if age < MIN_AGE_YEARS:
        return UserError(ErrorCode.OUT_OF_RANGE, f"Members must be at least {MIN_AGE_YEARS}.", field)
    return None


def validate_enrollment(enrollment: Enrollment, today: date) -> Enrollment:
    collect(
        check_name(enrollment.name),
        check_email(enrollment.email),
        check_birthday(enrollment.birthday, today),
    )
    return Enrollment(
        name=enrollment.name.strip(),
        email=normalize_email(enrollment.email),
        birthday=enrollment.birthday,
        marketing_consent=enrollment.marketing_consent,
        referred_by_code=(enrollment.referred_by_code or "").strip().upper() or None,
        locale=enrollment.locale,
    )


def validate_profile_change(change: ProfileChange, today: date) -> ProfileChange:
    def kept(value: object) -> bool:
        return isinstance(value, Keep)

    def required(value: object, field: str) -> UserError | None:
        return UserError(ErrorCode.REQUIRED, f"{field} cannot be cleared.", field) if value is None else None

    name, email, birthday, consent = change.name, change.email, change.birthday, change.marketing_consent
    collect(
        required(name, "name"), required(email, "email"), required(consent, "marketingConsent"),
        None if kept(name) else check_name(name),  # type: ignore[arg-type]
        None if kept(email) else check_email(email),  # type: ignore[arg-type]
        None if kept(birthday) else check_birthday(birthday, today),  # type: ignore[arg-type]
    )
    return ProfileChange(
        name=name if isinstance(name, Keep) else name.strip(),  # type: ignore[union-attr]
        email=email if isinstance(email, Keep) else normalize_email(email),  # type: ignore[arg-type]
        birthday=birthday,
        marketing_consent=consent,
        locale=change.locale,
    )


def new_referral_code() -> str:
    return "".join(secrets.choice(REFERRAL_ALPHABET) for _ in range(REFERRAL_LENGTH))


@dataclass(frozen=True)
class Member:
    id: str
    name: str
    email: str
    birthday: date | None
    marketing_consent: bool
    referral_code: str
    joined_at: str
    points: Balance
    tier: str | None = None
    referred_by: str | None = None
    verified_email: str | None = None  # bound to this member (orders, uniqueness); None until vouched for
    locale: str | None = None


def check_referrer(code: str | None, referrer_id: str | None, member_id: str) -> UserError | None:
    """A referral code must belong to another, existing member."""
    if code and (referrer_id is None or referrer_id == member_id):
        return UserError(ErrorCode.NOT_FOUND, "No other member has this referral code.", "referralCode")
    return None


def profile_complete(member: Member) -> bool:
    """What the `profile_completed` rule rewards: name, email and birthday given, marketing consent answered."""
    return bool(member.name and member.email and member.birthday)
