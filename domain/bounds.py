"""The bounds of every outside value that reaches a key, a date or a decimal: one definition each.

The GraphQL edge (resolvers/scalars.py) and the webhooks (domain/points/shopify.py) both check
through these, before any I/O, so a value the table or the date arithmetic cannot hold never gets
further than the caller's own error. Each check returns the clean value or a UserError without a
field; the edge names the field.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Callable, Generic, TypeVar

from domain.errors import ErrorCode, UserError

T = TypeVar("T")


@dataclass(frozen=True)
class Bound(Generic[T]):
    """One kind of outside value: its GraphQL name, what it accepts (in the caller's words) and its check."""

    name: str
    description: str
    check: Callable[[str], T | UserError]


def _text_check(pattern: re.Pattern[str], max_len: int, what: str,
                normalize: Callable[[str], str] = lambda s: s) -> Callable[[str], str | UserError]:
    def check(raw: str) -> str | UserError:
        value = normalize(raw.strip())
        if not value:
            return UserError(ErrorCode.REQUIRED, f"{what} is required.")
        if len(value) > max_len:
            return UserError(ErrorCode.TOO_LONG, f"{what} is at most {max_len} characters.")
        if not pattern.fullmatch(value):
            return UserError(ErrorCode.INVALID, f"{what} has characters that are not allowed.")
        return value
    return check


# -- keys ---------------------------------------------------------------------------------------
# Every key segment is short (DynamoDB allows 1,024 bytes of sort key) and plain ASCII without '#'
# (the key separator) or whitespace, so no value can reach into another key's range.
IDENTIFIER_MAX = 128
IDENTIFIER_CHARS = "letters, digits and . _ : / @ | + = ~ -"
_IDENTIFIER = re.compile(r"[A-Za-z0-9._:/@|+=~-]+")
IDENTIFIER = Bound(
    "ID",  # GraphQL's own ID scalar, checked against this bound by type
    f"An id: 1-{IDENTIFIER_MAX} characters of {IDENTIFIER_CHARS} (order, line, return, customer, member, "
    "reward and reference ids; idempotency keys).",
    _text_check(_IDENTIFIER, IDENTIFIER_MAX, "An id"))

# An object's global id (resolvers/nodes.py) is base64url of "<Type>:<key>", so it is longer than the
# key it wraps; arguments that take a member or reward by either id allow that length and check the
# key they unwrap against IDENTIFIER. The name stays "ID": it is GraphQL's ID scalar.
NODE_ID_MAX = 400
_NODE_ID = re.compile(r"[A-Za-z0-9_-]+")
NODE_ID = Bound(
    "ID",
    f"An object's `id` exactly as this API returned it: opaque, 1-{NODE_ID_MAX} characters of letters, "
    "digits, '-' and '_'.",
    _text_check(_NODE_ID, NODE_ID_MAX, "An id"))
REFERENCE = Bound(
    "ID",
    f"Its `id` as this API returned it, or its own id (1-{IDENTIFIER_MAX} characters of "
    f"{IDENTIFIER_CHARS}).",
    _text_check(_IDENTIFIER, NODE_ID_MAX, "An id"))

CODE_MAX = 32
_CODE = re.compile(r"[A-Z0-9-]+")
CODE = Bound(
    "Code",
    f"A coupon or referral code: 1-{CODE_MAX} letters, digits and '-', case-insensitive.",
    _text_check(_CODE, CODE_MAX, "A code", str.upper))

ACTION_MAX = 40
_ACTION = re.compile(r"[a-z0-9_-]+")
ACTION = Bound(
    "ActionName",
    f"An earn action's name: 1-{ACTION_MAX} characters of a-z, 0-9, '_' and '-', case-insensitive.",
    _text_check(_ACTION, ACTION_MAX, "An action name", str.lower))

# Bounds guard what storage and arithmetic can hold; what a value means (an email's shape, a
# birthday not in the future) is the domain's rule, so all of those are reported together.
EMAIL_MAX = 254
_EMAIL_CHARS = re.compile(r"[^\s\x00-\x1f\x7f]+")
EMAIL = Bound(
    "Email",
    f"An email address, at most {EMAIL_MAX} characters; compared in lower case.",
    _text_check(_EMAIL_CHARS, EMAIL_MAX, "An email address", str.lower))

_CURRENCY = re.compile(r"[A-Z]{3}")
CURRENCY = Bound(
    "CurrencyCode",
    "A 3-letter ISO 4217 currency code such as \"JPY\"; case-insensitive.",
    _text_check(_CURRENCY, 3, "A currency code", str.upper))

# -- text that is stored but never part of a key ------------------------------------------------
_NO_CONTROL = re.compile(r"[^\x00-\x1f\x7f]+")
_TEXT_NO_CONTROL = re.compile(r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+")
LABEL_MAX = 100
LABEL = Bound(
    "Label",
    f"A short name (category, SKU, tier, time zone, campaign): 1-{LABEL_MAX} characters, no control characters.",
    _text_check(_NO_CONTROL, LABEL_MAX, "A name"))

TEXT_MAX = 2000
_check_text = _text_check(_TEXT_NO_CONTROL, TEXT_MAX, "Text")
TEXT = Bound(
    "Text",
    f"Free text (a name, a description, a reason): up to {TEXT_MAX} characters; newlines and tabs are allowed. "
    "Where text is required, the field says so.",
    lambda raw: _check_text(raw) if raw.strip() else "")


# -- links --------------------------------------------------------------------------------------
# Shown to shoppers (a reward's image): https only, so a storefront never mixes content or follows
# a javascript:/data: link, and no credentials inside (they would be shown to every shopper).
URL_MAX = 2048
_URL_CHARS = re.compile(r"[!#$%&'()*+,\-./0-9:;=?@A-Z\[\]_a-z~]+")  # RFC 3986 characters, %-escapes included


def check_url(raw: str) -> str | UserError:
    value = check_endpoint_url(raw)  # the text checks both kinds of link share
    if isinstance(value, UserError):
        return value
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # a malformed [IPv6] host or port
        return UserError(ErrorCode.INVALID, "A URL is an https:// address with a host.")
    if parts.scheme.lower() != "https" or not host:
        return UserError(ErrorCode.INVALID, "A URL is an https:// address with a host.")
    if parts.username is not None or parts.password is not None:
        return UserError(ErrorCode.INVALID, "A URL carries no user name or password.")
    return value


URL = Bound("URL", f"An https:// URL with a host, at most {URL_MAX} characters, without credentials.", check_url)


def check_endpoint_url(raw: str) -> str | UserError:
    """A webhook endpoint's URL as text: its length and characters. Where it may point (https, a public
    host) is the SSRF guard's judgement (infra/events_out/destinations.py), which also knows dev mode."""
    value = raw.strip()
    if not value:
        return UserError(ErrorCode.REQUIRED, "A URL is required.")
    if len(value) > URL_MAX:
        return UserError(ErrorCode.TOO_LONG, f"A URL is at most {URL_MAX} characters.")
    if not _URL_CHARS.fullmatch(value):
        return UserError(ErrorCode.INVALID, "A URL has characters that are not allowed (escape spaces as %20).")
    return value


ENDPOINT_URL = Bound("EndpointUrl", f"A webhook endpoint: an https:// URL of a public host, at most {URL_MAX} "
                                    "characters.", check_endpoint_url)

# -- dates --------------------------------------------------------------------------------------
# One range for every timestamp that comes in. Everything the program adds to a date (return
# windows of a year, expiry of ten years, a cooldown) stays far inside datetime's year 9999.
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)
RANGE_TEXT = "from 2000-01-01 to 2099-12-31 (UTC)"


def check_moment(raw: str) -> datetime | UserError:
    """An ISO 8601 timestamp with a zone, inside the range; returned in UTC."""
    try:
        at = datetime.fromisoformat(raw.strip())
    except ValueError:
        return UserError(ErrorCode.INVALID, "A timestamp is ISO 8601 with a zone, e.g. 2026-11-22T10:00:00Z.")
    if at.tzinfo is None:
        return UserError(ErrorCode.INVALID, "A timestamp needs a time zone, e.g. 2026-11-22T10:00:00Z.")
    # Checked on the year first: converting year 1 or 9999 with an offset to UTC would itself overflow.
    if not EARLIEST.year - 1 <= at.year <= LATEST.year:
        return UserError(ErrorCode.OUT_OF_RANGE, f"Timestamps run {RANGE_TEXT}.")
    at = at.astimezone(timezone.utc)
    if not EARLIEST <= at < LATEST:
        return UserError(ErrorCode.OUT_OF_RANGE, f"Timestamps run {RANGE_TEXT}.")
    return at


def moment_problem(at: datetime | None, field: str) -> UserError | None:
    """For a datetime that is already parsed (the domain's own check of what reaches it)."""
    if at is None:
        return None
    return problem(check_moment(at.isoformat()), field)


DATETIME = Bound("DateTime", f"An ISO 8601 timestamp with a zone, {RANGE_TEXT}.", check_moment)

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2099, 12, 31)


def check_day(raw: str) -> date | UserError:
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        return UserError(ErrorCode.INVALID, "A date is written YYYY-MM-DD.")
    if not FIRST_DAY <= day <= LAST_DAY:
        return UserError(ErrorCode.OUT_OF_RANGE, "Dates run from 1900-01-01 to 2099-12-31.")
    return day


DATE = Bound("Date", "A calendar date, YYYY-MM-DD, from 1900-01-01 to 2099-12-31.", check_day)

# -- decimals -----------------------------------------------------------------------------------
# Money and factors: at most 12 digits before the point and 6 after. NaN, infinities and
# exponents that explode are refused before they reach a calculation.
DECIMAL_INTEGER_DIGITS = 12
DECIMAL_PLACES = 6
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?")
_DECIMAL_TEXT = "A decimal is written with digits and an optional point, e.g. \"12.50\"."


def check_decimal(raw: str) -> Decimal | UserError:
    text = raw.strip()
    if not _DECIMAL.fullmatch(text):  # refuses NaN, sNaN, Infinity and exponents of four digits or more
        return UserError(ErrorCode.INVALID, _DECIMAL_TEXT)
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only what Decimal parses
        return UserError(ErrorCode.INVALID, _DECIMAL_TEXT)
    if value.is_zero():
        return Decimal(0)
    value = Decimal(format(value, "f"))  # 1.5E+2 is kept as 150: one spelling of each amount
    places = -value.normalize().as_tuple().exponent
    if value.adjusted() >= DECIMAL_INTEGER_DIGITS or places > DECIMAL_PLACES:
        return UserError(ErrorCode.OUT_OF_RANGE, f"A decimal has at most {DECIMAL_INTEGER_DIGITS} digits before the "
                                                 f"point and {DECIMAL_PLACES} after it.")
    return value


DECIMAL = Bound("Decimal", f"A decimal string such as \"12.50\": at most {DECIMAL_INTEGER_DIGITS} digits before the "
                           f"point and {DECIMAL_PLACES} after; no exponents, NaN or infinity.", check_decimal)


def value_or_raise(checked: T | UserError, field: str | None) -> T:
    """For domain code that wants an exception: the checked value, or its error naming `field`."""
    if isinstance(checked, UserError):
        raise UserError(checked.code, checked.message, field)
    return checked


def problem(checked: object, field: str) -> UserError | None:
    """The error of a check, named for `field`, or None when the value passed."""
    if isinstance(checked, UserError):
        return UserError(checked.code, checked.message, field)
    return None


# -- members' posts (domain/posts: what a link, a caption and a tag mean is checked there) ----------
# A pasted link of any scheme, so `javascript:` or `http:` is answered by the posts rules with the rest.
POST_LINK_MAX = 2048
_POST_LINK = re.compile(r"[^\s\x00-\x1f\x7f]+")
POST_LINK = Bound(
    "PostLink",
    f"A link to a post as pasted: 1-{POST_LINK_MAX} characters without spaces or control characters "
    "(only https links on the platform's site are accepted).",
    _text_check(_POST_LINK, POST_LINK_MAX, "A link"))
CAPTION_MAX = 2200  # Instagram's own limit; control characters are the posts rule's (domain/posts/rules.py)
_check_caption = _text_check(re.compile(r"[\s\S]+"), CAPTION_MAX, "A caption")
CAPTION = Bound(
    "Caption",
    "A caption: up to 2,200 characters; newlines and tabs are allowed, other control characters are not "
    "(the posts rules check them, with the rest of the post).",
    lambda raw: _check_caption(raw) if raw.strip() else "")
TAG_MAX = 40
_TAG = re.compile(r"[^\x00-\x1f\x7f]+")
TAG = Bound("Tag", "A tag: letters, digits and _, at most 30 (a leading # is dropped; stored in lower case).",
            _text_check(_TAG, TAG_MAX, "A tag"))

# -- VIP events: the check-in code a ticket's QR code carries (random, URL-safe base64) ------------------
TICKET_CODE_MAX = 64
_TICKET_CODE = re.compile(r"[A-Za-z0-9_-]+")
TICKET_CODE = Bound("TicketCode", f"A ticket's check-in code as scanned: 1-{TICKET_CODE_MAX} letters, digits, - and _.",
                    _text_check(_TICKET_CODE, TICKET_CODE_MAX, "A ticket code"))

# -- events out: a published event type's name, as the catalog spells it (PointsEarned) ---------------
EVENT_TYPE_MAX = 64
_EVENT_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9]*")
EVENT_TYPE = Bound("EventType", f"A published event type's name, such as PointsEarned: 1-{EVENT_TYPE_MAX} letters "
                   "and digits.", _text_check(_EVENT_TYPE, EVENT_TYPE_MAX, "An event type"))

# -- a member's language for messages: a BCP 47 tag such as ja-JP or en ---------------------------------
LOCALE_MAX = 35
_LOCALE = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*")
LOCALE = Bound("Locale", f"A language tag (BCP 47) such as ja-JP or en: letters, digits and '-', at most {LOCALE_MAX}.",
               _text_check(_LOCALE, LOCALE_MAX, "A locale"))

ALL: tuple[Bound, ...] = (IDENTIFIER, NODE_ID, REFERENCE, CODE, ACTION, EMAIL, CURRENCY, LABEL, TEXT, URL, ENDPOINT_URL,
                          DATETIME, DATE, DECIMAL, POST_LINK, CAPTION, TAG, TICKET_CODE, EVENT_TYPE, LOCALE)
