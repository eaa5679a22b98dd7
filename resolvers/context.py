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
    def welcome(self) -> Welcome:
        return Welcome(self.require_tenant(), self.programs, self.orders, self.action_credits)

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
