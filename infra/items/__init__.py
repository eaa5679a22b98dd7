"""PynamoDB models of the one table: a base model with a discriminator and one class per item kind."""
from infra.items.base import TableItem, bind_table, read_partition
from infra.items.member import BirthdayMark, EmailClaim, MemberProfile, ReferralCodeClaim
from infra.items.outbox import OutboxEvent

__all__ = ["TableItem", "bind_table", "read_partition", "BirthdayMark", "MemberProfile", "EmailClaim", "ReferralCodeClaim", "OutboxEvent"]
