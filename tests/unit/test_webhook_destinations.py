"""The SSRF guard on webhook endpoint URLs, judged with a stubbed resolver only: no test resolves a real
name or opens a connection."""
from __future__ import annotations

import pytest

from domain.errors import ErrorCode, UserError
from infra.events_out.destinations import check_destination, pinned_addresses

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"

DNS: dict[str, list[str]] = {
    "hooks.brand.example.com": [PUBLIC_V4],
    "dual.brand.co.jp": [PUBLIC_V4, PUBLIC_V6],
    "v6only.brand.io": [PUBLIC_V6],
    "xn--bcher-kva.de": [PUBLIC_V4],
    "localhost": ["127.0.0.1", "::1"],
    "receiver.localhost": ["127.0.0.1"],
    "lying.localhost": [PUBLIC_V4],
}


def stub_resolver(extra: dict[str, list[str]] | None = None):
    table = {**DNS, **(extra or {})}
    asked: list[str] = []

    def resolve(host: str) -> list[str]:
        asked.append(host)
        if host not in table:
            raise OSError(f"stub: no such host {host}")
        return table[host]

    resolve.asked = asked  # type: ignore[attr-defined]
    return resolve


def refused(url: str, *, extra: dict[str, list[str]] | None = None, allow_loopback: bool = False) -> UserError:
    with pytest.raises(UserError) as caught:
        check_destination(url, resolve=stub_resolver(extra), allow_loopback=allow_loopback)
    error = caught.value
    assert error.code is ErrorCode.INVALID and error.field == "url"
    return error


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("https://hooks.brand.example.com/kizuna", "https://hooks.brand.example.com/kizuna"),
        ("HTTPS://Hooks.Brand.Example.COM/kizuna?x=1", "https://hooks.brand.example.com/kizuna?x=1"),
        ("https://hooks.brand.example.com:443/a", "https://hooks.brand.example.com/a"),
        ("https://hooks.brand.example.com:8443/a", "https://hooks.brand.example.com:8443/a"),
        ("https://hooks.brand.example.com", "https://hooks.brand.example.com/"),
        ("https://hooks.brand.example.com/a#frag", "https://hooks.brand.example.com/a"),
        ("https://dual.brand.co.jp/in", "https://dual.brand.co.jp/in"),
        ("https://v6only.brand.io/in", "https://v6only.brand.io/in"),
        ("https://bücher.de/hook", "https://xn--bcher-kva.de/hook"),
    ],
)
def test_a_public_https_host_is_accepted_and_normalised(url: str, normalised: str) -> None:
    assert check_destination(url, resolve=stub_resolver()) == normalised


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://hooks.brand.example.com/in", "https://"),
        ("ftp://hooks.brand.example.com/in", "https://"),
        ("file:///etc/passwd", "https://"),
        ("gopher://hooks.brand.example.com/", "https://"),
        ("//hooks.brand.example.com/in", "https://"),
        ("hooks.brand.example.com/in", "https://"),
        ("", "Enter"),
    ],
)
def test_only_https_urls_are_accepted(url: str, says: str) -> None:
    assert says in refused(url).message


@pytest.mark.parametrize(
    "url",
    [
        "https://user:pass@hooks.brand.example.com/in",
        "https://user@hooks.brand.example.com/in",
        "https://hooks.brand.example.com@169.254.169.254/",
        "https://:@hooks.brand.example.com/",
    ],
)
def test_a_url_carrying_credentials_is_refused(url: str) -> None:
    assert "user name or password" in refused(url).message


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/",
        "https://2130706433/",
        "https://0177.0.0.1/",
        "https://0x7f.1/",
        "https://0x7f000001/",
        "https://127.1/",
        "https://017700000001/",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.5/",
        "https://8.8.8.8/",
        "https://[::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:7f00:1]/",
        "https://[fe80::1]/",
        "https://[2606:4700::1111]/",
        "https://[64:ff9b::a9fe:a9fe]/",
    ],
)
def test_an_ip_address_in_any_spelling_is_refused_as_a_host(url: str) -> None:
    assert "not an IP address" in refused(url).message


@pytest.mark.parametrize(
    "url",
    [
        "https://localhost/",
        "https://LOCALHOST/",
        "https://receiver.localhost/",
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://metadata/",
        "https://instance-data/",
        "https://instance-data.ec2.internal/",
        "https://api.corp.internal/",
        "https://printer.local/",
        "https://router.home.arpa/",
        "https://1.0.0.127.in-addr.arpa/",
        "https://hooks.test/",
        "https://box.localdomain/",
        "https://kubernetes.default.svc/",
    ],
)
def test_an_internal_or_special_use_name_is_refused(url: str) -> None:
    assert "internal name" in refused(url).message


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://hooks.brand.example.com./", "end with a dot"),
        ("https://localhost./", "end with a dot"),
        ("https://jenkins/", "not a fully qualified"),
        ("https://hooks_brand.example.com/", "not a valid host name"),
        ("https://hooks..example.com/", "not a valid host name"),
        ("https://-hooks.example.com/", "not a valid host name"),
        ("https://hooks.brand.example.com%2e/", "percent"),
        ("https://127.0.0.1%2f@x.example.com/", "user name or password"),
        ("https://[::1%25lo]/", "percent"),
        ("https://[not-an-ip]/", "not a valid URL"),
        ("https://hooks.brand.example.com:99999/", "not a valid URL"),
        ("https://hooks.brand.example.com:0/", "port"),
        ("https:///path-only", "no host"),
        ("https://hooks.brand.example.com/a b", "spaces"),
        ("https://hooks.brand.example.com\\@evil.example/", "backslashes"),
        ("https://hooks.brand.example.com/\r\nHost: x", "control characters"),
        ("https://" + "a" * 64 + ".example.com/", "not a valid host name"),
        ("https://hooks.brand.example.com/" + "p" * 2048, "longer than 2048"),
    ],
)
def test_a_malformed_or_tricky_host_is_refused_with_the_reason(url: str, says: str) -> None:
    assert says in refused(url).message


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.254", "private"),
        ("192.168.1.10", "private"),
        ("fd12:3456::1", "private"),
        ("fc00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.127.255.254", "carrier-grade NAT"),
        ("0.0.0.0", "'this network'"),
        ("::", "unspecified"),
        ("224.0.0.251", "multicast"),
        ("239.1.2.3", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.10", "documentation"),
        ("198.51.100.7", "documentation"),
        ("203.0.113.99", "documentation"),
        ("2001:db8::1", "documentation"),
        ("198.18.0.1", "benchmarking"),
        ("192.0.0.8", "IETF protocol"),
        ("::ffff:127.0.0.1", "carrying 127.0.0.1, a loopback"),
        ("::ffff:169.254.169.254", "carrying 169.254.169.254, a link-local"),
        ("::ffff:10.0.0.1", "carrying 10.0.0.1, a private"),
        ("2002:7f00:1::1", "carrying 127.0.0.1, a loopback"),
        ("2002:a9fe:a9fe::", "carrying 169.254.169.254, a link-local"),
        ("2002:c0a8:0101::", "carrying 192.168.1.1, a private"),
        ("64:ff9b::7f00:1", "carrying 127.0.0.1, a loopback"),
        ("64:ff9b::a9fe:a9fe", "carrying 169.254.169.254, a link-local"),
        ("64:ff9b:1::1", "local NAT64"),
        ("::127.0.0.1", "IPv4-compatible"),
        ("2001::1", "Teredo"),
        ("fec0::1", "site-local"),
        ("100::1", "discard-only"),
    ],
)
def test_a_host_resolving_to_a_non_public_address_is_refused(address: str, reason: str) -> None:
    error = refused("https://rebind.attacker.example.net/", extra={"rebind.attacker.example.net": [address]})
    assert reason in error.message and "public addresses only" in error.message


@pytest.mark.parametrize("bad", ["127.0.0.1", "169.254.169.254", "10.0.0.1", "::1", "::ffff:192.168.0.1"])
def test_one_private_address_among_public_ones_is_enough_to_refuse(bad: str) -> None:
    error = refused("https://mixed.example.net/", extra={"mixed.example.net": [PUBLIC_V4, PUBLIC_V6, bad]})
    assert "public addresses only" in error.message


@pytest.mark.parametrize("answer", [[], ["not-an-address"]])
def test_a_host_with_no_usable_answer_is_refused(answer: list[str]) -> None:
    error = refused("https://empty.example.net/", extra={"empty.example.net": answer})
    assert "does not resolve" in error.message or "not an address" in error.message


def test_a_host_that_does_not_resolve_is_refused_as_such() -> None:
    assert refused("https://nowhere.example.net/").message == "The host nowhere.example.net does not resolve."


@pytest.mark.parametrize("address", ["::ffff:93.184.215.14", "2002:5db8:d70e::1", "64:ff9b::5db8:d70e"])
def test_an_ipv6_form_of_a_public_ipv4_address_is_judged_by_that_address(address: str) -> None:
    resolve = stub_resolver({"v4inv6.example.net": [address]})
    assert check_destination("https://v4inv6.example.net/", resolve=resolve) == "https://v4inv6.example.net/"


def test_pinned_addresses_are_every_checked_address_once_in_resolver_order() -> None:
    resolve = stub_resolver({"twice.example.net": [PUBLIC_V6, PUBLIC_V4, PUBLIC_V6]})
    assert pinned_addresses("https://twice.example.net/hook", resolve=resolve) == [PUBLIC_V6, PUBLIC_V4]


def test_pinning_checks_again_so_a_name_rebound_to_metadata_after_registration_is_refused() -> None:
    table = {"flip.example.net": [PUBLIC_V4]}

    def resolve(host: str) -> list[str]:
        return table[host]

    assert check_destination("https://flip.example.net/", resolve=resolve) == "https://flip.example.net/"
    table["flip.example.net"] = ["169.254.169.254"]
    with pytest.raises(UserError) as caught:
        pinned_addresses("https://flip.example.net/", resolve=resolve)
    assert "link-local" in caught.value.message


def test_a_refused_host_name_is_never_looked_up() -> None:
    resolve = stub_resolver()
    for url in ("https://localhost/", "https://2130706433/", "https://metadata.google.internal/", "https://[::1]/"):
        with pytest.raises(UserError):
            check_destination(url, resolve=resolve)
    assert resolve.asked == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("url", "normalised", "pinned"),
    [
        ("http://localhost:8787/hooks", "http://localhost:8787/hooks", ["127.0.0.1", "::1"]),
        ("http://127.0.0.1:8787/hooks", "http://127.0.0.1:8787/hooks", ["127.0.0.1"]),
        ("http://[::1]:8787/hooks", "http://[::1]:8787/hooks", ["::1"]),
        ("https://receiver.localhost/", "https://receiver.localhost/", ["127.0.0.1"]),
        ("https://hooks.brand.example.com/", "https://hooks.brand.example.com/", [PUBLIC_V4]),
    ],
)
def test_dev_mode_also_accepts_the_local_receiver(url: str, normalised: str, pinned: list[str]) -> None:
    assert check_destination(url, resolve=stub_resolver(), allow_loopback=True) == normalised
    assert pinned_addresses(url, resolve=stub_resolver(), allow_loopback=True) == pinned


@pytest.mark.parametrize(
    ("url", "extra", "says"),
    [
        ("http://hooks.brand.example.com/", None, "https://"),
        ("http://lying.localhost/", None, "loopback addresses only"),
        ("http://localhost/", {"localhost": ["10.0.0.1"]}, "private"),
        ("http://localhost/", {"localhost": ["169.254.169.254"]}, "link-local"),
        ("https://inside.example.net/", {"inside.example.net": ["192.168.0.10"]}, "private"),
        ("https://meta.example.net/", {"meta.example.net": ["169.254.169.254"]}, "link-local"),
        ("http://10.0.0.1/", None, "not an IP address"),
        ("http://169.254.169.254/", None, "not an IP address"),
        ("http://2130706433/", None, "not an IP address"),
        ("https://metadata.google.internal/", None, "internal name"),
    ],
)
def test_dev_mode_still_refuses_private_and_link_local_destinations(
    url: str, extra: dict[str, list[str]] | None, says: str
) -> None:
    assert says in refused(url, extra=extra, allow_loopback=True).message


def test_the_default_resolver_is_the_system_one() -> None:
    # Named, not called: the suite never resolves a real name.
    import inspect

    from infra.events_out import destinations

    assert inspect.signature(check_destination).parameters["resolve"].default is destinations.resolve_host
    assert "getaddrinfo" in inspect.getsource(destinations.resolve_host)
