"""Where a webhook may be sent: the guard against server-side request forgery (SSRF).

A webhook endpoint URL is typed by staff, but the request is made from inside our network, so a URL
naming the cloud metadata service (169.254.169.254), a loopback port or a private address would let
the endpoint reach what the internet cannot. The guard therefore accepts only https URLs whose host
is a real DNS name (no IP literal, and none of the numeric spellings resolvers accept: `2130706433`,
`0177.0.0.1`, `0x7f.1`), not a reserved or internal name, and which resolves, with EVERY address it
resolves to being public. IPv6 forms carrying an IPv4 address (mapped, 6to4, NAT64) are judged by the
IPv4 address inside.

It runs at registration (`check_destination`) and again at send time (`pinned_addresses`): a name can
resolve to a public address when registered and to a private one later (DNS rebinding), so the sender
connects to exactly the addresses just checked instead of resolving again.

Dev mode (`allow_loopback=True`) also accepts loopback, and plain http for a loopback host only, so the
local receiver works; it never opens private or link-local addresses.
"""
from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit, urlunsplit

from domain.errors import ErrorCode, UserError

Resolver = Callable[[str], Iterable[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2048
DEFAULT_PORTS = {"https": 443, "http": 80}

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_NUMERIC_LABEL = re.compile(r"^(?:[0-9]+|0x[0-9a-f]*)$")
_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x20\x7f\\]")

# Names that point inside a network or at nothing: loopback, cloud metadata services, mDNS, private
# suffixes and the special-use names of RFC 6761. A suffix matches the name itself and every name under it.
LOOPBACK_NAMES = ("localhost",)
INTERNAL_SUFFIXES = (
    "localhost", "localdomain", "local", "internal", "intranet", "lan", "home", "corp", "private",
    "home.arpa", "arpa", "test", "invalid", "example", "onion",
    "metadata.google.internal", "instance-data",
)
INTERNAL_NAMES = ("metadata", "instance-data.ec2.internal", "kubernetes.default.svc")

# Ranges refused by name, whatever `ipaddress`' idea of is_global is in this Python version.
REFUSED_NETWORKS: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.ip_network(net), reason)
    for net, reason in (
        ("0.0.0.0/8", "a 'this network' address"),
        ("10.0.0.0/8", "a private address"),
        ("100.64.0.0/10", "a carrier-grade NAT address"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address (the cloud metadata service lives there)"),
        ("172.16.0.0/12", "a private address"),
        ("192.0.0.0/24", "an IETF protocol assignment address"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.88.99.0/24", "a 6to4 relay address"),
        ("192.168.0.0/16", "a private address"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address"),
        ("::/128", "the unspecified address"),
        ("::1/128", "a loopback address"),
        ("::/96", "an IPv4-compatible (deprecated) address"),
        ("64:ff9b:1::/48", "a local NAT64 address"),
        ("100::/64", "a discard-only address"),
        ("2001::/32", "a Teredo address"),
        ("2001:db8::/32", "a documentation address"),
        ("3fff::/20", "a documentation address"),
        ("fc00::/7", "a private (unique local) address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local (deprecated) address"),
        ("ff00::/8", "a multicast address"),
    )
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def resolve_host(host: str) -> list[str]:
    """Every address the system resolver gives for `host` (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def check_destination(url: str, *, resolve: Resolver = resolve_host, allow_loopback: bool = False) -> str:
    """The URL normalised (lower-case scheme and host, default port dropped, no fragment), or a
    UserError(INVALID, field "url") saying why it may not receive webhooks."""
    return _checked(url, resolve, allow_loopback)[0]


def pinned_addresses(url: str, *, resolve: Resolver = resolve_host, allow_loopback: bool = False) -> list[str]:
    """The addresses to connect to for `url`, each one checked just now: the sender connects to these
    (sending the URL's host name for TLS and Host) so a second lookup cannot swap in another address."""
    return _checked(url, resolve, allow_loopback)[1]


def _invalid(message: str) -> UserError:
    return UserError(ErrorCode.INVALID, message, "url")


def _checked(url: str, resolve: Resolver, allow_loopback: bool) -> tuple[str, list[str]]:
    if not isinstance(url, str) or not url:
        raise _invalid("Enter the endpoint URL.")
    if len(url) > MAX_URL_LENGTH:
        raise _invalid(f"The endpoint URL is longer than {MAX_URL_LENGTH} characters.")
    if _UNSAFE_CHARACTERS.search(url):
        raise _invalid("The endpoint URL contains spaces, control characters or backslashes.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _invalid("The endpoint URL is not a valid URL (check the host and port).") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise _invalid("The endpoint URL must start with https://.")
    if "@" in parts.netloc:
        raise _invalid("The endpoint URL must not contain a user name or password.")
    if port == 0:
        raise _invalid("The endpoint URL's port must be between 1 and 65535.")
    raw_host = parts.hostname or ""
    if not raw_host:
        raise _invalid("The endpoint URL has no host.")

    if "%" in raw_host:
        raise _invalid("The endpoint URL's host must not contain percent signs or zone ids.")
    literal = _ip_literal(raw_host, bracketed="[" in parts.netloc)
    if literal is not None:
        if not (allow_loopback and literal.is_loopback):
            raise _invalid("The endpoint URL must name its host, not an IP address.")
        host, addresses = _bracketed(literal), [str(literal)]
        loopback_host = True
    else:
        host = _host_name(raw_host, allow_loopback)
        loopback_host = _is_loopback_name(host)
        addresses = _resolved(host, resolve, allow_loopback)

    if scheme == "http" and not (allow_loopback and loopback_host):
        raise _invalid("The endpoint URL must use https:// (plain http only for the local receiver in dev mode).")
    if loopback_host and any(not ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses):
        raise _invalid(f"The host {host} must resolve to loopback addresses only.")

    netloc = host if port is None or port == DEFAULT_PORTS[scheme] else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, "")), addresses


def _ip_literal(host: str, *, bracketed: bool) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        if bracketed:
            raise _invalid("The endpoint URL has an invalid IPv6 address.") from None
        return None


def _bracketed(address: IPAddress) -> str:
    return f"[{address}]" if address.version == 6 else str(address)


def _host_name(raw: str, allow_loopback: bool) -> str:
    if raw.endswith("."):
        raise _invalid("The endpoint URL's host must not end with a dot.")
    try:
        host = raw.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise _invalid("The endpoint URL's host is not a valid host name.") from None
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise _invalid("The endpoint URL's host is not a valid host name.")
    if _NUMERIC_LABEL.match(labels[-1]):
        # No top-level domain is numeric: this is an IP address in another spelling (decimal, octal, hex).
        raise _invalid("The endpoint URL must name its host, not an IP address.")
    if allow_loopback and _is_loopback_name(host):
        return host
    if host in INTERNAL_NAMES or any(host == s or host.endswith("." + s) for s in INTERNAL_SUFFIXES):
        raise _invalid(f"The host {host} is an internal name; webhooks go to public hosts only.")
    if len(labels) < 2:
        raise _invalid(f"The host {host} is not a fully qualified domain name.")
    return host


def _is_loopback_name(host: str) -> bool:
    return any(host == name or host.endswith("." + name) for name in LOOPBACK_NAMES)


def _resolved(host: str, resolve: Resolver, allow_loopback: bool) -> list[str]:
    try:
        found = list(resolve(host))
    except (OSError, UnicodeError, ValueError):
        found = []
    if not found:
        raise _invalid(f"The host {host} does not resolve.")
    addresses: list[str] = []
    for text in found:
        try:
            address = ipaddress.ip_address(str(text).split("%")[0])
        except ValueError:
            raise _invalid(f"The host {host} resolves to something that is not an address.") from None
        reason = refusal(address, allow_loopback=allow_loopback)
        if reason is not None:
            raise _invalid(f"The host {host} resolves to {address}, {reason}; webhooks go to public addresses only.")
        if str(address) not in addresses:
            addresses.append(str(address))
    return addresses


def refusal(address: IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Why a webhook may not be sent to `address`, or None when it is a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            inner = refusal(embedded, allow_loopback=allow_loopback)
            return None if inner is None else f"carrying {embedded}, {inner}"
    if allow_loopback and address.is_loopback:
        return None
    for network, reason in REFUSED_NETWORKS:
        if address.version == network.version and address in network:
            return reason
    checks = (
        (address.is_unspecified, "the unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_private, "a private address"),
        (address.is_multicast, "a multicast address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public address"),
    )
    return next((reason for refused, reason in checks if refused), None)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for: mapped (::ffff:a.b.c.d), 6to4 (2002:aabb:ccdd::)
    or NAT64 (64:ff9b::a.b.c.d); a connection to these reaches that IPv4 address."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None
