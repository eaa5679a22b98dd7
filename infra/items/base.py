"""The table's base model: keys, sparse index attributes, TTL and the item-kind discriminator."""
from __future__ import annotations

from typing import Any

from pynamodb.attributes import DiscriminatorAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from infra.table import DUE_INDEX, LOOKUP_INDEX, TIER_DUE_INDEX


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


class TierDueIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = TIER_DUE_INDEX
        projection = KeysOnlyProjection()

    GSI3PK = UnicodeAttribute(hash_key=True)
    GSI3SK = UnicodeAttribute(range_key=True)


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
    GSI3PK = UnicodeAttribute(null=True)
    GSI3SK = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True, attr_name="expiresAt")  # TTL, epoch seconds

    lookup = LookupIndex()
    due = DueIndex()
    tier_due = TierDueIndex()

    @classmethod
    def _instantiate(cls, attribute_values: dict[str, dict[str, Any]]) -> Any:
        # Kinds with attributes named at run time (a profile's `qp:<month>` qualification) read them
        # from the raw item here: pynamodb keeps only the attributes a model declares.
        instance = super()._instantiate(attribute_values)
        extra = getattr(instance, "read_extra", None)
        if extra is not None:
            extra(attribute_values)
        return instance


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


def read_partition(pk: str, sk_condition: Any = None, *, consistent_read: bool = True) -> list[TableItem]:
    """Every item of a partition (or of a key range in it), each as its own model class.

    `TableItem.query` would add a filter naming every registered kind (DynamoDB allows 100 values
    in IN, and the filter costs time on every read while saving no capacity); this asks for the
    keys only and leaves unknown kinds out on our side.
    """
    connection = TableItem._get_connection()
    known = TableItem._get_discriminator_attribute()._discriminator_map  # kind -> model class
    items: list[TableItem] = []
    start = None
    while True:
        data = connection.query(pk, range_key_condition=sk_condition, consistent_read=consistent_read,
                                exclusive_start_key=start)
        for raw in data.get("Items", []):
            kind = raw.get("kind", {}).get("S")
            if kind in known:
                items.append(TableItem.from_raw_data(raw))
        start = data.get("LastEvaluatedKey")
        if not start:
            return items


def read_range(pk: str, low: str, high: str, *, consistent_read: bool = True) -> list[TableItem]:
    """`read_partition` of the sort keys `low` .. `high`, sent straight through the botocore client the
    models share: the member dashboard is read on every `me`, and building the request through
    PynamoDB's Connection costs about as much again as the raw call's own Python (bench/me_latency.py)."""
    connection = TableItem._get_connection()
    client = connection.connection.client
    known = TableItem._get_discriminator_attribute()._discriminator_map
    params: dict[str, Any] = {
        "TableName": TableItem.Meta.table_name, "ConsistentRead": consistent_read,
        "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :low AND :high",
        "ExpressionAttributeNames": {"#pk": "PK", "#sk": "SK"},
        "ExpressionAttributeValues": {":pk": {"S": pk}, ":low": {"S": low}, ":high": {"S": high}},
    }
    items: list[TableItem] = []
    while True:
        data = client.query(**params)
        for raw in data.get("Items", []):
            if raw.get("kind", {}).get("S") in known:
                items.append(TableItem.from_raw_data(raw))
        start = data.get("LastEvaluatedKey")
        if not start:
            return items
        params["ExclusiveStartKey"] = start
