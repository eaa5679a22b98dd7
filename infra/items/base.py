"""The table's base model: keys, sparse index attributes, TTL and the item-kind discriminator."""
from __future__ import annotations

from typing import Any

from pynamodb.attributes import DiscriminatorAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from infra.table import DUE_INDEX, LOOKUP_INDEX


class LookupIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = LOOKUP_INDEX
        projection = AllProjection()

    GSI1PK = UnicodeAttribute(hash_key=True)
    GSI1SK = UnicodeAttribute(range_key=True)


class DueIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = DUE_INDEX
        projection = AllProjection()

    GSI2PK = UnicodeAttribute(hash_key=True)
    GSI2SK = UnicodeAttribute(range_key=True)


class TableItem(Model):
    """Every item in the table. Subclasses name their kind; a Query returns the right subclass."""

    class Meta:
        table_name = "kizuna-unbound"  # bound at container start by bind_table()
        region = "us-east-1"
        host = None
        max_retry_attempts = 3
        connect_timeout_seconds = 2
        read_timeout_seconds = 5

    PK = UnicodeAttribute(hash_key=True)
    SK = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute(attr_name="kind")
    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    GSI2PK = UnicodeAttribute(null=True)
    GSI2SK = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True, attr_name="expiresAt")  # TTL, epoch seconds

    lookup = LookupIndex()
    due = DueIndex()


def bind_table(table_name: str, *, region: str, host: str | None = None,
               max_retry_attempts: int = 3, read_timeout_seconds: float = 5) -> Any:
    """Point the models at a table and build the one botocore client they share; returns it.

    With a `host` (DynamoDB Local) fixed dummy credentials are used, so no AWS account is needed.
    """
    meta = TableItem.Meta
    if host:
        meta.aws_access_key_id, meta.aws_secret_access_key = "local", "local"
    meta.table_name = table_name
    meta.region = region
    meta.host = host
    meta.max_retry_attempts = max_retry_attempts
    meta.read_timeout_seconds = read_timeout_seconds
    TableItem._connection = None
    connection = TableItem._get_connection()
    return connection.connection.client
