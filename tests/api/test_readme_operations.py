"""Every GraphQL operation README.md shows works as printed on the demo data `make run` starts with.

The operations are read from the README itself, never copied here: each ```graphql block, with the
headers written as comments on its first lines (`# Authorization: Bearer <member token>`,
`# Idempotency-Key: ...`) and its variables in the ```json block right under it. They run in the
order printed, over real HTTP against the ASGI app under uvicorn, in dev mode, on a tenant seeded by
`api.demo.seed_demo` (twice, as after a restart), each with the token the README names (none for a
block whose first line says `# No token`): the one
`make run` prints on the line the README's table of tokens gives (`api.local.banner`, signed by a
dev IdP this API trusts). A value written `<a.b.c>` is taken from the answer of an operation above
it, as a reader would. Each must answer 200 with no `errors`, no `userErrors` and no null root
field. The README's curl request runs the same way.
"""
from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from graphql import parse

from api.demo import seed_demo
from api.http import Api
from api.local import banner
from tests.api.demo_support import demo_services
from tests.support import live_server

README = Path(__file__).resolve().parents[2] / "README.md"
LOCAL_URL = "http://127.0.0.1:8000"  # where the README says `make run` serves

FENCE = re.compile(r"^```(?P<lang>[a-z]*)[ \t]*\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
HEADER = re.compile(r"^#\s*(?P<name>[A-Za-z][A-Za-z0-9-]*):\s*(?P<value>.+?)\s*$")
TOKEN = re.compile(r"<(?P<who>[a-z][a-z ]*token)>")
NO_TOKEN = re.compile(r"^#\s*No token\b")
FROM_ANSWER = re.compile(r"<(?P<path>[A-Za-z_]\w*(?:\.\w+)+)>")


@dataclass
class Operation:
    line: int  # where its block starts in README.md
    query: str
    headers: dict[str, str]
    variables: str | None = None  # JSON text, still with its placeholders

    def __str__(self) -> str:
        return f"README.md line {self.line}:\n{self.query}\nvariables: {self.variables}"


@dataclass
class CurlRequest:
    line: int
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


def readme_operations(text: str) -> list[Operation]:
    """The ```graphql blocks in order, with the headers on their first comment lines and the ```json
    block that follows one directly (nothing but blank lines between) as its variables."""
    fences = list(FENCE.finditer(text))
    ops: list[Operation] = []
    for i, fence in enumerate(fences):
        if fence.group("lang") != "graphql":
            continue
        line = text.count("\n", 0, fence.start()) + 1
        body = fence.group("body")
        headers: dict[str, str] = {}
        for row in body.splitlines():
            found = HEADER.match(row)
            if not found:
                break
            headers[found.group("name")] = found.group("value")
        # A block for visitors says so on its first line (`# No token: ...`) and is sent without one.
        anonymous = bool(NO_TOKEN.match(body))
        assert anonymous or "Authorization" in headers, (
            f"README.md line {line}: the block names no Authorization header and does not say `# No token`")
        op = Operation(line, body, headers)
        following = fences[i + 1] if i + 1 < len(fences) else None
        if following and following.group("lang") == "json" and not text[fence.end():following.start()].strip():
            op.variables = following.group("body")
        ops.append(op)
    return ops


def readme_curl_requests(text: str) -> list[CurlRequest]:
    """`curl` commands to the GraphQL endpoint in ```sh blocks: URL, -H headers and the -d body."""
    found: list[CurlRequest] = []
    for fence in FENCE.finditer(text):
        if fence.group("lang") != "sh" or "curl " not in fence.group("body"):
            continue
        words = shlex.split(fence.group("body").replace("\\\n", " "), comments=True)
        while "curl" in words:
            words = words[words.index("curl") + 1:]
            request = CurlRequest(text.count("\n", 0, fence.start()) + 1, "")
            it = iter(words)
            for word in it:
                if word == "curl":
                    break
                if word == "-H":
                    name, _, value = next(it).partition(":")
                    request.headers[name.strip()] = value.strip()
                elif word == "-d":
                    request.body = next(it)
                elif word.startswith("http"):
                    request.url = word
            if request.url.endswith("/graphql"):
                found.append(request)
    return found


def from_answers(path: str, answers: list[dict[str, Any]]) -> Any:
    """`a.b.c` in the latest answer that has it (list items by index), as a reader copies a value."""
    for data in reversed(answers):
        value: Any = data
        for part in path.split("."):
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                break
        else:
            return value
    raise AssertionError(f"no answer above has {path}")


def fill(text: str, answers: list[dict[str, Any]]) -> str:
    """Each `<a.b.c>` replaced by its value; inside a string (JSON or GraphQL) a string goes in as its content."""
    def value(m: re.Match[str]) -> str:
        found = from_answers(m.group("path"), answers)
        return json.dumps(found)[1:-1] if isinstance(found, str) else json.dumps(found)
    return FROM_ANSWER.sub(value, text)


def user_errors(data: Any, path: str = "data") -> list[tuple[str, Any]]:
    """Every non-empty `userErrors` anywhere in an answer, with where it was."""
    found: list[tuple[str, Any]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "userErrors" and value:
                found.append((f"{path}.{key}", value))
            else:
                found += user_errors(value, f"{path}.{key}")
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += user_errors(value, f"{path}.{i}")
    return found


# -- the API as `make run` serves it, and the tokens it prints -------------------------------------------

def printed_tokens(banner_text: str) -> dict[str, str]:
    """`make run`'s token lines (`  member  demo-member-1: eyJ...`): label, whitespace collapsed -> token."""
    return {" ".join(m.group("label").split()): m.group("token")
            for m in re.finditer(r"^\s+(?P<label>\w[^:\n]*?)\s*:\s*(?P<token>eyJ[\w-]+\.[\w-]+\.[\w-]+)\s*$",
                                 banner_text, re.MULTILINE)}


def readme_token_table(text: str) -> dict[str, str]:
    """The README's table of tokens: placeholder (`member token`) -> the label `make run` prints it with."""
    return {m.group("who"): " ".join(m.group("label").split())
            for m in re.finditer(r"^\| `<(?P<who>[a-z ]+token)>` \| `(?P<label>[^`]+)` \|", text, re.MULTILINE)}


@dataclass(frozen=True)
class LocalApi:
    base: str
    tokens: dict[str, str]  # the README's placeholders -> the tokens `make run` prints for them
    missing: dict[str, str]  # placeholders whose label `make run` does not print


@pytest.fixture(scope="module")
def local_api(dynamodb_endpoint, table_name, services, idp) -> Iterator[LocalApi]:
    """Dev mode, the demo data, on a tenant of its own (`services` makes sure the session's table exists),
    with the tokens `make run`'s banner prints, signed by a dev IdP this API trusts."""
    del services
    tenant, built = demo_services(dynamodb_endpoint, table_name, idp)
    # `make run` seeds at every start, on the data the last run left: a restart must add nothing (the
    # balances the README quotes are checked after this second seeding).
    seed_demo(tenant, built.programs)
    with live_server(Api(built)) as base:
        printed = printed_tokens(banner(base, dynamodb_endpoint, idp))
        table = readme_token_table(README.read_text(encoding="utf-8"))
        yield LocalApi(base, {who: printed[label] for who, label in table.items() if label in printed},
                       {who: label for who, label in table.items() if label not in printed})


def with_tokens(value: str, api: LocalApi, where: object) -> str:
    def token(m: re.Match[str]) -> str:
        who = m.group("who")
        assert who not in api.missing, f"{where}: the README's <{who}> is what `make run` prints as " \
                                       f"`{api.missing[who]}`, and it prints no such line"
        assert who in api.tokens, f"{where}: <{who}> is not in the README's table of tokens"
        return api.tokens[who]
    return TOKEN.sub(token, value)


# -- the tests -------------------------------------------------------------------------------------------

def test_the_readme_shows_every_step_of_a_storefront_walk_through_as_runnable_operations():
    ops = readme_operations(README.read_text(encoding="utf-8"))
    roots = {selection.name.value for op in ops for definition in parse(op.query).definitions
             for selection in definition.selection_set.selections}
    for needed in ("me", "rewards", "rewardRedeem", "couponValidate", "couponConsume", "orderRecord",
                   "orderDeliver", "orderReturnRecord", "memberEnroll"):
        assert needed in roots, f"README.md shows no operation with {needed} (found {sorted(roots)})"
    redeem = next(op for op in ops if "rewardRedeem" in op.query)
    assert "Idempotency-Key" in redeem.headers, "the README's redeem sends no Idempotency-Key"


def test_every_token_the_readme_names_is_one_make_run_prints(local_api):
    assert local_api.tokens, "README.md has no table of the tokens its operations use"
    assert local_api.missing == {}, f"`make run` prints no line for {local_api.missing}"


def test_every_graphql_operation_in_the_readme_succeeds_on_the_demo_data_as_printed(local_api):
    text = README.read_text(encoding="utf-8")
    ops = readme_operations(text)
    answers: list[dict[str, Any]] = []
    with httpx.Client(base_url=local_api.base, timeout=60) as http:
        for op in ops:
            headers = {name: with_tokens(value, local_api, op) for name, value in op.headers.items()}
            variables = json.loads(fill(op.variables, answers)) if op.variables else None
            payload = {"query": fill(op.query, answers), "variables": variables}
            resp = http.post("/graphql", json=payload, headers={"accept": "application/json", **headers})
            assert resp.status_code == 200, f"{op}\n{resp.status_code} {resp.text}"
            body = resp.json()
            assert not body.get("errors"), f"{op}\n{json.dumps(body, indent=1)}"
            data = body.get("data") or {}
            assert data and all(v is not None for v in data.values()), f"{op}\nnull in {json.dumps(body, indent=1)}"
            assert user_errors(data) == [], f"{op}\n{json.dumps(body, indent=1)}"
            answers.append(data)

    # The balances the README quotes for demo-member-1 are what the first dashboard shows.
    stated = re.search(r"starts with ([\d,]+) points available and ([\d,]+) pending", text)
    assert stated, "README.md no longer says what demo-member-1 starts with"
    points = answers[0]["me"]["points"]
    assert (points["available"], points["pending"]) == tuple(int(n.replace(",", "")) for n in stated.groups())


def test_the_readme_curl_request_answers_with_the_member_s_points(local_api):
    requests = readme_curl_requests(README.read_text(encoding="utf-8"))
    assert requests, "README.md shows no curl request to /graphql"
    env = {"$MEMBER_TOKEN": local_api.tokens["member token"]}  # "Send the printed member token"
    for request in requests:
        assert request.url.startswith(LOCAL_URL), request
        headers = {}
        for name, value in request.headers.items():
            for var, token in env.items():
                value = value.replace(var, token)
            assert "$" not in value, f"README.md line {request.line}: unknown variable in {name}: {value}"
            headers[name] = value
        resp = httpx.post(local_api.base + request.url[len(LOCAL_URL):], content=request.body.encode(),
                          headers=headers, timeout=60)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert not body.get("errors") and body["data"]["me"] is not None, body


def test_a_readme_value_from_an_earlier_answer_is_the_latest_answer_that_has_it():
    answers = [{"me": {"referralCode": "AIKO1234", "points": {"available": 1}}}, {"me": {"points": {"available": 2}}}]
    assert from_answers("me.points.available", answers) == 2
    assert from_answers("me.referralCode", answers) == "AIKO1234"
    assert fill('{"code": "<me.referralCode>"}', answers) == '{"code": "AIKO1234"}'
    with pytest.raises(AssertionError):
        from_answers("me.tier", answers)
