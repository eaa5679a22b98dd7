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


def member_of(pk: str) -> str:
    """The member of a member partition key (tenants and member ids never contain `#`)."""
    return pk.split("#M#", 1)[1]


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
# member screen needs and nothing that grows with a member's history: badges, point lots (one per
# expiry bucket), the profile and progress. Everything that accumulates sorts outside it: the action
# counters (ACT#, before BADGE#), sources (SRC#), reward use (RLIM#), history (TX#), and after PROG#~
# idempotency records (~IDEM#) and the outbox (~OUT#). docs/design.md, "Bounded dashboard".
PROFILE = "PROFILE"
DASHBOARD_FROM = "BADGE#"
DASHBOARD_TO = "PROG#~"
LEDGER_PREFIX = "TX#"
LOT_PREFIX = "LOT#"
OUTBOX_PREFIX = "~OUT#"
SOURCE_PREFIX = "SRC#"
IDEMPOTENCY_PREFIX = "~IDEM#"
# Where idempotency records were written before they left the dashboard range; they live a day (TTL),
# so a retry arriving across the upgrade is still recognised. Drop once no such record can be left.
LEGACY_IDEMPOTENCY_PREFIX = "IDEM#"
ACTION_COUNT_PREFIX = "ACT#"  # sorts before DASHBOARD_FROM: one counter per action and period, outside


def lot_sk(bucket: str) -> str:
    """`LOT#2027-03` (points that expire when March 2027 ends) or `LOT#NEVER`: see domain/points/lots.py."""
    return f"{LOT_PREFIX}{bucket}"


def idempotency_sk(key: str) -> str:
    return f"{IDEMPOTENCY_PREFIX}{key}"


def action_count_sk(action: str, period: str) -> str:
    """A rule's counter for one period (`ACT#review#2026-11`), or its last credit (`ACT#review#LAST`)."""
    return f"{ACTION_COUNT_PREFIX}{action}#{period}"


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


def job_pk(tenant: str, job: str) -> str:
    """A scheduled job's own items: its lease (`LEASE`) and its place in the due index (`CURSOR`)."""
    return f"T#{tenant}#JOB#{job}"


# VIP events (infra/vip_events/items.py): an event's partition holds its definition and counters
# (`EVENT`), one registration per member (`REG#<member>`), the waitlist in join order
# (`WAIT#<seq>`), invitations (`INVITE#<member>`) and check-in scans (`SCAN#<scanId>`).
def vip_event_pk(tenant: str, event_id: str) -> str:
    return f"T#{tenant}#VIPEVENT#{event_id}"


def vip_events_list_pk(tenant: str) -> str:
    """GSI1 partition of the tenant's events, by start time."""
    return f"T#{tenant}#VIPEVENTS"


def member_tickets_pk(tenant: str, member_id: str) -> str:
    """GSI1 partition of one member's registrations (their tickets), by event start."""
    return f"T#{tenant}#M#{member_id}#TICKETS"


def ticket_pk(tenant: str, code_hash: str) -> str:
    """Where a check-in code (its SHA-256, never the code) leads: event and member."""
    return f"T#{tenant}#TICKET#{code_hash}"


VIP_EVENT_SK = "EVENT"
REGISTRATION_PREFIX = "REG#"
WAITLIST_PREFIX = "WAIT#"
INVITATION_PREFIX = "INVITE#"
SCAN_PREFIX = "SCAN#"
VIP_STATS_SK = "VIPSTATS"  # in the member's partition, after PROG#~: outside the dashboard


def registration_sk(member_id: str) -> str:
    return f"{REGISTRATION_PREFIX}{member_id}"


def waitlist_sk(seq: int) -> str:
    return f"{WAITLIST_PREFIX}{seq:012d}"


# -- members' posts (infra/posts) ----------------------------------------------------------------
# In the member's partition, all after PROG#~ and before ~: outside the dashboard range.
POST_PREFIX = "UGC#"  # one per post, `UGC#<post ulid>`: the member's posts, newest last
POST_STATS_SK = "UGCSTATS"  # the member's record with posts (approved, last rejection): auto-approval
UNBOX_PREFIX = "UNBOX#"  # one per delivered order: the unboxing invite, then the order's one unboxing post
POST_OWNER_SK = "POST"


def post_sk(post_id: str) -> str:
    return f"{POST_PREFIX}{post_id}"


def unbox_sk(order_id: str) -> str:
    return f"{UNBOX_PREFIX}{order_id}"


def post_pk(tenant: str, post_id: str) -> str:
    """Which member a post id belongs to (`POST`): the moderation mutations and `node(id:)` look it up."""
    return f"T#{tenant}#POST#{post_id}"


def post_url_pk(tenant: str, url_key: str) -> str:
    """The tenant-wide claim of one canonical post link (sha256): a link is rewarded at most once."""
    return f"T#{tenant}#POSTURL#{url_key}"


def post_queue_pk(tenant: str, platform: str | None = None) -> str:
    """The moderation queue (GSI1, every platform) or one platform's queue (GSI2), while a post is pending."""
    return f"T#{tenant}#POSTQ" + (f"#{platform}" if platform else "")


def feed_pk(tenant: str, scope: str) -> str:
    """One list of the community feed: `ALL`, `P:<platform>` or `T:<tag>`; sort key `<approvedAt>#<post>`."""
    return f"T#{tenant}#FEED#{scope}"


# VIP check-in, no-shows and cancellation (infra/vip_events/checkin.py, no_shows.py, cancellation.py).
TICKET_SK = "TICKET"
VIP_NO_SHOW_DUE = "VIPNOSHOW"  # GSI2 `T#t#DUE#VIPNOSHOW` / `<endsAt>#<event>` on the EVENT item
VIP_CANCEL_DUE = "VIPCANCEL"  # GSI2 `T#t#DUE#VIPCANCEL` / `<cancelledAt>#<event>` while refunds are pending


def scan_sk(scan_id: str) -> str:
    return f"{SCAN_PREFIX}{scan_id}"


# Partner brands (infra/partners/).
RATE_PREFIX = "RATE#"


def partner_pk(tenant: str, partner_id: str) -> str:
    """One partner brand of a tenant: its registration and its rate-limit windows."""
    return f"T#{tenant}#PARTNER#{partner_id}"


def rate_window_sk(window_start_epoch: int) -> str:
    """One fixed window of a partner's rate limit, named by the epoch second it starts at."""
    return f"{RATE_PREFIX}{window_start_epoch}"
