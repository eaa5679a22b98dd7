"""The typed per-request context: who is calling, for which tenant, and per-request loaders."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

import strawberry

from domain.access import Principal
from domain.errors import ErrorCode, UserError
from infra.items import TableItem
from infra.members import Members
from infra.points.adjustments import ActionCredits, Adjustments
from infra.points.orders import OrderBook
from infra.points.program_store import ProgramStore
from infra.points.rewards import RewardDesk
from infra.points.welcome import Welcome
from infra.posts.desk import PostDesk
from infra.posts.store import Posts
from infra.vip_events.cancellation import EventCancellation
from infra.vip_events.checkin import CheckIns
from infra.vip_events.registrations import Registrations
from infra.vip_events.jobs import FIRST_CHUNK, VipEventJobs


@dataclass
class Context:
    principal: Principal
    tenant: str | None
    correlation_id: str
    services: Any  # api.runtime.Services: clients and caches built once per container
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    idempotency_key: str | None = None  # from the Idempotency-Key header
    _memo: dict[tuple, Any] = field(default_factory=dict)

    def now(self) -> datetime:
        return self.clock()

    def require_tenant(self) -> str:
        if not self.tenant:
            raise UserError(ErrorCode.FORBIDDEN, "No program is configured for this endpoint.")
        return self.tenant

    @property
    def members(self) -> Members:
        return self.memo(("repo", "members"), lambda: Members(self.require_tenant()))

    @property
    def programs(self) -> ProgramStore:
        return self.memo(("repo", "programs"), lambda: ProgramStore(self.require_tenant(), self.services.programs))

    @property
    def orders(self) -> OrderBook:
        return self.memo(("repo", "orders"), lambda: OrderBook(self.require_tenant(), self.programs))

    @property
    def rewards(self) -> RewardDesk:
        return self.memo(("repo", "rewards"), lambda: RewardDesk(self.require_tenant(), self.programs))

    @property
    def adjustments(self) -> Adjustments:
        return self.memo(("repo", "adjustments"), lambda: Adjustments(self.require_tenant(), self.programs))

    @property
    def action_credits(self) -> ActionCredits:
        return self.memo(("repo", "actions"), lambda: ActionCredits(self.require_tenant(), self.programs, self.orders))

    @property
    def posts(self) -> Posts:
        return self.memo(("repo", "posts"), lambda: Posts(self.require_tenant(), self.programs))

    @property
    def post_desk(self) -> PostDesk:
        return self.memo(("repo", "post-desk"), lambda: PostDesk(self.require_tenant(), self.programs, self.posts))

    @property
    def welcome(self) -> Welcome:
        return Welcome(self.require_tenant(), self.programs, self.orders, self.action_credits)

    @property
    def vip_registrations(self) -> Registrations:
        return self.memo(("repo", "vip-registrations"), lambda: Registrations(self.require_tenant(), self.programs))

    @property
    def vip_check_ins(self) -> CheckIns:
        return self.memo(("repo", "vip-check-ins"), lambda: CheckIns(self.require_tenant(), self.programs))

    @property
    def vip_cancellations(self) -> EventCancellation:
        return self.memo(("repo", "vip-cancellations"), lambda: EventCancellation(self.require_tenant(), self.programs))

    @property
    def vip_event_jobs(self) -> VipEventJobs:
        """The refund walk's first chunk, run by `vipEventCancel` in the request (bounded by the chunk)."""
        return VipEventJobs(self.require_tenant(), self.programs, lease=False, chunk=FIRST_CHUNK)

    @property
    def actor(self) -> str:
        return f"{self.principal.kind.value}:{self.principal.subject}"

    def memo(self, key: tuple, load: Callable[[], Any]) -> Any:
        """Per-request loader cache: each key is loaded at most once per request."""
        if key not in self._memo:
            self._memo[key] = load()
        return self._memo[key]

    def forget_member(self, member_id: str) -> None:
        """After a write, the next read of this member's dashboard goes to the table again."""
        self._memo.pop(("card", member_id), None)

    def member_card(self, member_id: str) -> list[TableItem]:
        """The member's dashboard items (profile, lots, badges, progress) from one Query."""
        return self.memo(("card", member_id), lambda: self.members.dashboard(member_id))


Info = strawberry.Info[Context, None]
