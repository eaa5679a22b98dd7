"""Key builders for the single table. Every partition key starts with the tenant: `T#<tenant>#...`."""
from __future__ import annotations

import re

_TENANT = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


def check_tenant(tenant: str) -> str:
    if not _TENANT.match(tenant):
        raise ValueError(f"invalid tenant id {tenant!r}")
    return tenant


def member_pk(tenant: str, member_id: str) -> str:
    return f"T#{tenant}#M#{member_id}"


def program_pk(tenant: str) -> str:
    return f"T#{tenant}#PROGRAM"


def email_pk(tenant: str, email: str) -> str:
    return f"T#{tenant}#EMAIL#{email}"


def referral_code_pk(tenant: str, code: str) -> str:
    return f"T#{tenant}#REFCODE#{code}"


def members_list_pk(tenant: str) -> str:
    return f"T#{tenant}#MEMBERS"


def coupon_pk(tenant: str, code: str) -> str:
    return f"T#{tenant}#COUPON#{code}"


def audit_pk(tenant: str) -> str:
    return f"T#{tenant}#AUDIT"


def due_pk(tenant: str, job: str) -> str:
    """GSI2 partition of one scheduled job's due items (e.g. RELEASE, EXPIRE, INACTIVE, REMIND)."""
    return f"T#{tenant}#DUE#{job}"


# Sort keys inside a member's partition. The dashboard range (BADGE# .. PROG#~) holds what a
# member screen needs: badges, point lots, the profile and progress; history (TX#) and the
# outbox (~OUT#) sort outside it so the dashboard Query stays small.
PROFILE = "PROFILE"
DASHBOARD_FROM = "BADGE#"
DASHBOARD_TO = "PROG#~"
LEDGER_PREFIX = "TX#"
LOT_PREFIX = "LOT#"
OUTBOX_PREFIX = "~OUT#"
SOURCE_PREFIX = "SRC#"
IDEMPOTENCY_PREFIX = "IDEM#"


def order_pk(tenant: str, order_id: str) -> str:
    return f"T#{tenant}#ORDER#{order_id}"


def webhook_pk(tenant: str, webhook_id: str) -> str:
    return f"T#{tenant}#WEBHOOK#{webhook_id}"


def order_sk(order_id: str) -> str:
    return f"{SOURCE_PREFIX}order#{order_id}"


def birthday_pk(tenant: str, month_day: str) -> str:
    return f"T#{tenant}#BDAY#{month_day}"


def webhook_failures_pk(tenant: str) -> str:
    """Signed webhook deliveries that could not be processed, newest last by `<receivedAt>#<ulid>`."""
    return f"T#{tenant}#WEBHOOKFAIL"
