"""What a container builds once: settings, the DynamoDB client, the token verifier and the schema."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import strawberry

from api.auth import KeySource, TokenVerifier
from api.settings import Settings
from infra.cursors import CursorCodec
from infra.events_out.destinations import resolve_host
from infra.items import bind_table
from infra.points.program_store import ProgramCache
from resolvers.schema import build_schema


@dataclass
class Services:
    settings: Settings
    dynamodb: Any  # the botocore DynamoDB client every model and repository shares
    verifier: TokenVerifier
    schema: strawberry.Schema
    programs: ProgramCache  # program configuration and rewards, cached per container
    cursors: CursorCodec  # seals and opens every connection's cursors
    # How webhook endpoint hosts are resolved for the SSRF guard: the system resolver; tests put a stub
    # here so that no test ever asks DNS about, or connects to, anything but the loopback interface.
    resolve_host: Callable[[str], list[str]] = resolve_host


def build_services(settings: Settings, key_sources: Mapping[str, KeySource] | None = None) -> Services:
    # One botocore retry: infra/dynamo_errors.py retries throttles and conflicts itself within a bounded
    # budget, so a caller hears RETRY_LATER in about two seconds instead of after botocore's long backoff.
    client = bind_table(settings.table_name, region=settings.region, host=settings.dynamodb_endpoint,
                        max_retry_attempts=1)
    return Services(
        settings=settings,
        dynamodb=client,
        verifier=TokenVerifier(settings, key_sources),
        schema=build_schema(dev=settings.dev, max_depth=settings.max_depth,
                            max_aliases=settings.max_aliases, max_tokens=settings.max_tokens),
        programs=ProgramCache(settings.program_cache_seconds),
        cursors=CursorCodec(settings.cursor_secret),
    )
