"""What a post is, what may happen to it, and what it earns: plain rules, no storage.

States: PENDING (submitted, in the moderation queue) -> APPROVED or REJECTED; a moderator may reverse a
decision either way; REMOVED is final (staff after approval, or the member deleting it). Points follow
the state: `creditedPoints` on the post is what is credited for it now, so approving again credits only
when nothing is, and every reversal takes back exactly that."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from domain.bounds import CAPTION_MAX, check_url
from domain.errors import ErrorCode, UserError, UserErrors
from domain.posts.settings import PostSettings
from domain.posts.urls import Platform, normalize

TAGS_MAX = 10
TAG_MAX = 30
MEDIA_MAX = 10
DISPLAY_NAME_MAX = 50
MESSAGE_MAX = 500
_TAG = re.compile(r"[a-z0-9_]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


class PostState(Enum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    REMOVED = "REMOVED"


class RejectReason(Enum):
    NOT_OUR_PRODUCT = "NOT_OUR_PRODUCT"
    LINK_BROKEN = "LINK_BROKEN"
    PRIVATE_ACCOUNT = "PRIVATE_ACCOUNT"
    INAPPROPRIATE = "INAPPROPRIATE"
    SPAM = "SPAM"
    NOT_THEIR_CONTENT = "NOT_THEIR_CONTENT"
    GUIDELINES = "GUIDELINES"
    OTHER = "OTHER"


class RemoveReason(Enum):
    GUIDELINES = "GUIDELINES"
    TAKEN_DOWN = "TAKEN_DOWN"  # the post is gone from the platform
    NOT_THEIR_CONTENT = "NOT_THEIR_CONTENT"
    MEMBER_REQUEST = "MEMBER_REQUEST"
    DELETED_BY_MEMBER = "DELETED_BY_MEMBER"  # postDelete
    OTHER = "OTHER"


class RewardStatus(Enum):
    NONE = "NONE"  # not decided yet, or nothing is credited now
    CREDITED = "CREDITED"  # the points are available
    HELD = "HELD"  # the points are pending until `releaseAt`
    CAPPED = "CAPPED"  # approved over the member's cap for the period: no points
    NO_POINTS = "NO_POINTS"  # approved; the program gives no points for it (a gift coupon may still come)
    REVERSED = "REVERSED"  # the points were taken back (rejected or removed)
    FORFEITED = "FORFEITED"  # removed while held: the pending points were forfeited
    KEPT = "KEPT"  # removed, the member keeps the points (removal policy KEEP)


@dataclass(frozen=True)
class Submission:
    platform: Platform
    url: str  # canonical (urls.normalize)
    caption: str
    tags: tuple[str, ...]
    media_urls: tuple[str, ...]
    display_name: str | None
    order_id: str | None


def _caption(raw: str | None) -> str | UserError:
    value = (raw or "").strip()
    if len(value) > CAPTION_MAX:
        return UserError(ErrorCode.TOO_LONG, f"A caption is at most {CAPTION_MAX:,} characters.", "caption")
    if _CONTROL.search(value):
        return UserError(ErrorCode.INVALID, "A caption has control characters.", "caption")
    return value


def _tags(raw: list[str] | None) -> tuple[str, ...] | list[UserError]:
    raw = raw or []
    problems: list[UserError] = []
    if len(raw) > TAGS_MAX:
        problems.append(UserError(ErrorCode.OUT_OF_RANGE, f"At most {TAGS_MAX} tags.", "tags"))
    out: list[str] = []
    for i, t in enumerate(raw[:TAGS_MAX * 2]):
        tag = tag_of(t, f"tags.{i}")
        if isinstance(tag, UserError):
            problems.append(tag)
        elif tag not in out:
            out.append(tag)
    return problems if problems else tuple(out)


def tag_of(raw: str, field: str = "tag") -> str | UserError:
    """A tag as stored and filtered by: a leading # dropped, lower case, 1-TAG_MAX letters, digits or _."""
    tag = raw.strip().lstrip("#").lower()
    if not tag or len(tag) > TAG_MAX or not _TAG.fullmatch(tag):
        return UserError(ErrorCode.INVALID, f"A tag is 1-{TAG_MAX} letters, digits or _ (a leading # is dropped).", field)
    return tag


def _media(raw: list[str] | None) -> tuple[str, ...] | list[UserError]:
    raw = raw or []
    problems: list[UserError] = []
    if len(raw) > MEDIA_MAX:
        problems.append(UserError(ErrorCode.OUT_OF_RANGE, f"At most {MEDIA_MAX} media links.", "mediaUrls"))
    out: list[str] = []
    for i, u in enumerate(raw[:MEDIA_MAX * 2]):
        checked = check_url(u)
        if isinstance(checked, UserError):
            problems.append(UserError(checked.code, checked.message, f"mediaUrls.{i}"))
        elif checked not in out:
            out.append(checked)
    return problems if problems else tuple(out)


def display_name(raw: str | None) -> str | None | UserError:
    if raw is None:
        return None
    value = raw.strip()
    if not value:
        return None
    if len(value) > DISPLAY_NAME_MAX:
        return UserError(ErrorCode.TOO_LONG, f"A display name is at most {DISPLAY_NAME_MAX} characters.",
                         "displayName")
    if _LINE_CONTROL.search(value):
        return UserError(ErrorCode.INVALID, "A display name has control characters.", "displayName")
    return value


def check_submission(platform: Platform, url: str, caption: str | None, tags: list[str] | None,
                     media_urls: list[str] | None, name: str | None, order_id: str | None) -> Submission:
    """The submission with every field checked and normalised, or UserErrors with every problem."""
    problems: list[UserError] = []
    try:
        canonical = normalize(platform, url)
    except UserError as e:
        problems.append(e)
        canonical = ""
    parts: dict[str, object] = {"caption": _caption(caption), "tags": _tags(tags), "media": _media(media_urls),
                                "name": display_name(name)}
    for v in parts.values():
        if isinstance(v, UserError):
            problems.append(v)
        elif isinstance(v, list):
            problems += v
    if problems:
        raise UserErrors(problems)
    return Submission(platform, canonical, parts["caption"], parts["tags"], parts["media"],  # type: ignore[arg-type]
                      parts["name"], order_id)  # type: ignore[arg-type]


def check_edit(caption: str | None, tags: list[str] | None, media_urls: list[str] | None,
               name: str | None, *, sent: set[str]) -> dict[str, object]:
    """The fields an edit changes (only those `sent`), checked; UserErrors with every problem."""
    out: dict[str, object] = {}
    problems: list[UserError] = []
    for key, value in (("caption", _caption(caption) if "caption" in sent else None),
                       ("tags", _tags(tags) if "tags" in sent else None),
                       ("media_urls", _media(media_urls) if "media_urls" in sent else None),
                       ("display_name", display_name(name) if "display_name" in sent else None)):
        if key not in sent:
            continue
        if isinstance(value, UserError):
            problems.append(value)
        elif isinstance(value, list):
            problems += value
        else:
            out[key] = value
    if problems:
        raise UserErrors(problems)
    return out


def check_message(raw: str | None, field: str = "message") -> str | None:
    if raw is None or not raw.strip():
        return None
    value = raw.strip()
    if len(value) > MESSAGE_MAX:
        raise UserError(ErrorCode.TOO_LONG, f"A message is at most {MESSAGE_MAX} characters.", field)
    if _CONTROL.search(value):
        raise UserError(ErrorCode.INVALID, "A message has control characters.", field)
    return value


def may_approve(state: PostState) -> None:
    if state not in (PostState.PENDING, PostState.REJECTED):
        raise UserError(ErrorCode.INVALID_STATE, f"A post that is {state.value.lower()} cannot be approved.", "postId")


def may_reject(state: PostState) -> None:
    if state not in (PostState.PENDING, PostState.APPROVED):
        raise UserError(ErrorCode.INVALID_STATE, f"A post that is {state.value.lower()} cannot be rejected.", "postId")


def may_remove(state: PostState, *, by_member: bool) -> None:
    if state is PostState.REMOVED:
        raise UserError(ErrorCode.INVALID_STATE, "This post was removed already.", "postId")
    if not by_member and state is not PostState.APPROVED:
        raise UserError(ErrorCode.INVALID_STATE, "Only an approved post is removed; reject a pending one.", "postId")


def may_edit(state: PostState) -> None:
    if state is PostState.REMOVED:
        raise UserError(ErrorCode.INVALID_STATE, "A removed post cannot be edited.", "postId")


@dataclass(frozen=True)
class Stats:
    """A member's record with posts: what the auto-approval rules read."""

    approved: int = 0
    last_rejected_at: datetime | None = None


def auto_approves(settings: PostSettings, rank: int | None, stats: Stats, now: datetime) -> bool:
    """Whether a new post of this member is approved without a moderator."""
    if settings.auto_approve_min_rank is not None and rank is not None and rank >= settings.auto_approve_min_rank:
        return True
    if settings.auto_approve_after_posts is not None and stats.approved >= settings.auto_approve_after_posts:
        clean_since = now - timedelta(days=settings.auto_approve_clean_days)
        return stats.last_rejected_at is None or stats.last_rejected_at < clean_since
    return False


def auto_rules_set(settings: PostSettings) -> bool:
    return settings.auto_approve_min_rank is not None or settings.auto_approve_after_posts is not None


def release_at(settings: PostSettings, approved_at: datetime) -> datetime | None:
    return approved_at + timedelta(days=settings.hold_days) if settings.hold_days > 0 else None
