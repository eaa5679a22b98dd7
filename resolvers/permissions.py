"""Who may call a field. Declared next to each query and mutation, checked before it runs."""
from __future__ import annotations

from typing import Any

from strawberry.exceptions import StrawberryGraphQLError
from strawberry.permission import BasePermission

from domain.access import Kind, Role


class Requires(BasePermission):
    message = "You are not allowed to do this."
    error_extensions = {"code": "FORBIDDEN"}

    def allowed(self, principal: Any) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        principal = info.context.principal
        if principal.kind is Kind.ANONYMOUS:
            raise StrawberryGraphQLError("Sign in to do this.", extensions={"code": "UNAUTHENTICATED"})
        return self.allowed(principal)


class IsMember(Requires):
    def allowed(self, principal: Any) -> bool:
        return principal.kind is Kind.MEMBER


class IsStaff(Requires):
    def allowed(self, principal: Any) -> bool:
        return principal.is_staff()


class IsAdmin(Requires):
    def allowed(self, principal: Any) -> bool:
        return principal.is_staff(Role.ADMIN)


class IsService(Requires):
    def allowed(self, principal: Any) -> bool:
        return principal.kind is Kind.SERVICE


class IsPartner(Requires):
    def allowed(self, principal: Any) -> bool:
        return principal.kind is Kind.PARTNER


class IsStaffOrService(Requires):
    def allowed(self, principal: Any) -> bool:
        return principal.kind is Kind.SERVICE or principal.is_staff()


def can_read_catalog(info: Any) -> bool:
    """What a storefront shows (the program summary, the rewards catalog): members, staff and the
    order system; callers without a token only when the program is public (`Program.public`)."""
    principal = info.context.principal
    if principal.kind in (Kind.MEMBER, Kind.SERVICE) or principal.is_staff():
        return True
    return principal.kind is Kind.ANONYMOUS and info.context.programs.program().public


class CanReadCatalog(BasePermission):
    message = "You are not allowed to do this."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        if can_read_catalog(info):
            return True
        if info.context.principal.kind is Kind.ANONYMOUS:
            raise StrawberryGraphQLError("Sign in to do this.", extensions={"code": "UNAUTHENTICATED"})
        return False
