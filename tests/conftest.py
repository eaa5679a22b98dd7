"""Shared fixtures: one DynamoDB Local per test session, a table per session, a fresh tenant per test."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Iterator

import pytest

from api.dev_idp import DevIdentityProvider
from api.http import Api
from api.runtime import Services, build_services
from api.settings import Settings
from infra import dynamodb_local
from infra.table import create_table
from tests.support import GraphQLClient, new_tenant

# No email, token or birthday in any log line of the run (fails the session otherwise).
pytest_plugins = ["tests.log_privacy"]


class MovableClock:
    """The API's clock in tests: real time unless a test moves it."""

    def __init__(self) -> None:
        self.fixed: datetime | None = None

    def __call__(self) -> datetime:
        return self.fixed or datetime.now(timezone.utc)

    def set(self, at: datetime) -> None:
        self.fixed = at


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[str]:
    local = dynamodb_local.start()
    yield local.endpoint
    local.stop()


@pytest.fixture(scope="session")
def idp() -> DevIdentityProvider:
    return DevIdentityProvider("https://idp.test/tenant-a", audience="kizuna-test")


@pytest.fixture(scope="session")
def other_idp() -> DevIdentityProvider:
    return DevIdentityProvider("https://idp.test/tenant-b", audience="kizuna-test", kid="other-1")


@pytest.fixture(scope="session")
def tenants() -> dict[str, str]:
    return {"a": new_tenant(), "b": new_tenant()}


def make_settings(endpoint: str, table: str, issuers: tuple, env: str = "production", **kw: object) -> Settings:
    return Settings(env=env, table_name=table, region="us-east-1", dynamodb_endpoint=endpoint, issuers=issuers,
                    **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def table_name(dynamodb_endpoint: str) -> str:
    return f"kizuna-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def services(dynamodb_endpoint: str, table_name: str, idp: DevIdentityProvider, other_idp: DevIdentityProvider,
             tenants: dict[str, str]) -> Services:
    settings = make_settings(dynamodb_endpoint, table_name,
                             (idp.issuer_settings(tenants["a"]), other_idp.issuer_settings(tenants["b"])),
                             default_tenant=tenants["a"], webhook_secrets={tenants["a"]: "test-webhook-secret"})
    built = build_services(settings)
    create_table(built.dynamodb, table_name)
    return built


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def api(services: Services, clock: MovableClock) -> Api:
    return Api(services, clock=clock)


@pytest.fixture
def tenant(tenants: dict[str, str]) -> str:
    return tenants["a"]


@pytest.fixture
def member_id() -> str:
    return f"m-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def client(api: Api) -> GraphQLClient:
    return GraphQLClient(api)


@pytest.fixture
def member(client: GraphQLClient, idp: DevIdentityProvider, member_id: str) -> GraphQLClient:
    """A client signed in as a fresh, not yet enrolled member."""
    return client.as_(idp.member_token(member_id))


@pytest.fixture
def admin(client: GraphQLClient, idp: DevIdentityProvider) -> GraphQLClient:
    return client.as_(idp.staff_token("staff-admin", "kizuna-admins"))


ENROLL = """
mutation Enroll($input: MemberEnrollInput!) {
  memberEnroll(input: $input) {
    member { id memberId name email referralCode points { available pending lifetime debt } }
    userErrors { field code message }
  }
}"""


def enroll(c: GraphQLClient, name: str = "Aiko", email: str | None = None, **extra: object) -> dict:
    email = email or f"{uuid.uuid4().hex[:10]}@example.com"
    data = c.ok(ENROLL, {"input": {"name": name, "email": email, **extra}})
    payload = data["memberEnroll"]
    assert payload["userErrors"] == [], payload
    return payload["member"]


@pytest.fixture
def enrolled(member: GraphQLClient) -> GraphQLClient:
    enroll(member)
    return member


@pytest.fixture(scope="session")
def stream_of_table(services: Services) -> tuple[object, str]:
    """The session table's stream: a DynamoDB Streams client of the session's DynamoDB Local and the ARN."""
    import boto3

    s = services.settings
    client = boto3.client("dynamodbstreams", endpoint_url=s.dynamodb_endpoint, region_name=s.region,
                          aws_access_key_id="local", aws_secret_access_key="local")
    arn = services.dynamodb.describe_table(TableName=s.table_name)["Table"]["LatestStreamArn"]
    return client, arn


@pytest.fixture
def events(services: Services, stream_of_table: tuple[object, str]):
    """The event processor with the registered listeners, at the tip of the session table's stream: a test
    makes a change, calls `events.drain()` and then sees what listeners made of it (docs/design.md,
    "How features hear about changes"). Only what is written after the fixture was made comes through."""
    from infra.events.listeners import register_all
    from infra.events.processor import Processor, env_factory
    from infra.events.stream import StreamReader

    register_all()
    client, arn = stream_of_table
    return Processor(env_factory(services.programs), reader=StreamReader(client, arn, start="LATEST"))
