"""A post's link, checked and written one way, so one post is recognised however it is pasted.

`normalize(platform, raw)` accepts only https links without credentials or a port other than 443, on
a host of the platform where the platform has one, and returns the canonical form: lowercase host
without `www.`/`m.`/mobile prefixes, no fragment, no trailing slash, no tracking parameters, and one
spelling per site (twitter.com is x.com; youtu.be/<id>, /shorts/<id>, /embed/<id> and /live/<id> are
youtube.com/watch?v=<id>). `url_key` is what the tenant-wide duplicate claim is keyed by."""
from __future__ import annotations

import hashlib
import re
from enum import Enum
from urllib.parse import parse_qsl, urlencode, urlsplit

from domain.errors import ErrorCode, UserError

URL_MAX = 2048


class Platform(Enum):
    INSTAGRAM = "INSTAGRAM"
    TIKTOK = "TIKTOK"
    YOUTUBE = "YOUTUBE"
    X = "X"
    LINE_VOOM = "LINE_VOOM"
    BLOG = "BLOG"
    OTHER = "OTHER"


# The hosts (and their subdomains) a platform's posts live on; BLOG and OTHER take any public host.
PLATFORM_HOSTS: dict[Platform, tuple[str, ...]] = {
    Platform.INSTAGRAM: ("instagram.com", "instagr.am"),
    Platform.TIKTOK: ("tiktok.com",),
    Platform.YOUTUBE: ("youtube.com", "youtu.be"),
    Platform.X: ("x.com", "twitter.com"),
    Platform.LINE_VOOM: ("voom.line.me", "linevoom.line.me", "timeline.line.me"),
}
NAMES = {Platform.INSTAGRAM: "An Instagram", Platform.TIKTOK: "A TikTok", Platform.YOUTUBE: "A YouTube",
         Platform.X: "An X", Platform.LINE_VOOM: "A LINE VOOM"}
# One spelling per site.
SAME_SITE = {"twitter.com": "x.com", "instagr.am": "instagram.com", "linevoom.line.me": "voom.line.me",
             "timeline.line.me": "voom.line.me", "youtube-nocookie.com": "youtube.com"}
MOBILE_PREFIXES = ("www.", "m.", "mobile.", "mbasic.", "web.")
# Parameters that say who shared a link or how, never which post it is.
TRACKING = frozenset({"igshid", "igsh", "si", "fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid",
                      "ref", "ref_src", "ref_url", "referrer", "source", "feature", "share_id", "share_app_id",
                      "_r", "_t", "is_from_webapp", "sender_device", "sender_web_id", "mibextid", "s", "t",
                      "utm", "spm", "pp", "img_index"})
# Sites whose post is named by the path alone: every query parameter is noise.
PATH_ONLY = frozenset({"instagram.com", "tiktok.com", "x.com", "voom.line.me"})
_CHARS = re.compile(r"[!#$%&'()*+,\-./0-9:;=?@A-Z\[\]_a-z~]+")
_HOST = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{6,20}")


def _bad(message: str) -> UserError:
    return UserError(ErrorCode.INVALID, message, "url")


def _site(host: str) -> str:
    for prefix in MOBILE_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix):]
            break
    return host


def _on(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def normalize(platform: Platform, raw: str) -> str:
    """The canonical https link of a post, or a UserError (field `url`) saying what is wrong with it."""
    value = raw.strip()
    if not value:
        raise UserError(ErrorCode.REQUIRED, "A link to the post is required.", "url")
    if len(value) > URL_MAX:
        raise UserError(ErrorCode.TOO_LONG, f"A link is at most {URL_MAX} characters.", "url")
    if not _CHARS.fullmatch(value):
        raise _bad("The link has characters that are not allowed (spaces, control characters, non-ASCII).")
    scheme = value.split(":", 1)[0].lower() if ":" in value else ""
    if scheme != "https":
        raise _bad("Only https:// links to a post are accepted.")
    try:
        parts = urlsplit(value)
        port = parts.port
        host = parts.hostname
    except ValueError:
        raise _bad("The link's host or port is not valid.") from None
    if not value[len(scheme):].startswith("://") or not host:
        raise _bad("The link needs a host: https://<site>/<post>.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise _bad("A link carries no user name or password.")
    if port not in (None, 443):
        raise _bad("A link uses the standard https port.")
    host = host.rstrip(".").lower()
    if not _HOST.fullmatch(host):
        raise _bad("The link's host is not a public site name.")
    site = _site(host)
    site = SAME_SITE.get(site, site)
    allowed = PLATFORM_HOSTS.get(platform)
    if allowed is not None:
        if not any(_on(site, d) for d in allowed):
            raise _bad(f"{NAMES[platform]} post's link is on {' or '.join(allowed)}.")
    else:
        if any(_on(site, d) for hosts in PLATFORM_HOSTS.values() for d in hosts):
            raise _bad("This link is on a platform of its own: choose that platform.")
    path = _without_dot_segments(re.sub(r"/{2,}", "/", parts.path or "")).rstrip("/")
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=False)
             if not k.lower().startswith("utm_") and k.lower() not in TRACKING]
    if platform is Platform.YOUTUBE or _on(site, "youtu.be") or _on(site, "youtube.com"):
        return _youtube(site, path, query)
    if any(_on(site, d) for d in PATH_ONLY):
        query = []
    tail = "?" + urlencode(sorted(query)) if query else ""
    return f"https://{site}{path}{tail}"


def _without_dot_segments(path: str) -> str:
    """`/p/x/../y` is `/p/y` and `/./` is `/`, as a browser resolves them (RFC 3986, 5.2.4), `%2e` too:
    otherwise one post could be pasted as many."""
    out: list[str] = []
    for segment in path.split("/"):
        plain = segment.replace("%2e", ".").replace("%2E", ".")
        if plain == ".":
            continue
        if plain == "..":
            if len(out) > 1:
                out.pop()
            continue
        out.append(segment)
    joined = "/".join(out)
    return joined if joined.startswith("/") or not joined else "/" + joined


def _youtube(site: str, path: str, query: list[tuple[str, str]]) -> str:
    video = None
    if _on(site, "youtu.be"):
        video = path.lstrip("/").split("/", 1)[0]
    else:
        segments = path.lstrip("/").split("/")
        if len(segments) >= 2 and segments[0] in ("shorts", "embed", "live", "v"):
            video = segments[1]
        elif path == "/watch":
            video = dict(query).get("v")
    if video:
        if not _VIDEO_ID.fullmatch(video):
            raise _bad("That is not a YouTube video's link.")
        return f"https://youtube.com/watch?v={video}"
    if _on(site, "youtu.be"):
        raise _bad("That is not a YouTube video's link.")
    return f"https://youtube.com{path}" + ("?" + urlencode(sorted(query)) if query else "")


def url_key(normalized: str) -> str:
    """The duplicate claim's key: sha256 of the canonical link (fixed length, no `#`)."""
    return hashlib.sha256(normalized.encode()).hexdigest()
