"""Global object identification (Relay's `Node`): one id format, one registry, one `node(id:)`.

Every object a client may cache has an `id`: base64url (no padding) of `<Type>:<key>`, the key being
the object's own key in its tenant (a member id, a reward slug, a coupon code, ...). Ids never carry
the tenant: each tenant's API answers only for its own objects. Clients treat them as opaque.

A type becomes a Node by one registration, next to its definition:

    @node_type(load=..., may_ask=..., may_read=...)
    @strawberry.type
    class Reward(Node): ...

`load(info, key)` reads the object (None when there is none). `may_ask(info, key)` is checked before
any I/O, `may_read(info, obj)` after it; together they are the type's read authorization, and the
type's own query fields go through the same `read()`, so `node(id:)` never shows more than they do.
Whatever a caller may not read is null, exactly as if it did not exist: no existence oracle.
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Annotated, Any, Callable, Generic, TypeVar

import strawberry
from graphql import GraphQLError

from domain import bounds
from domain.errors import UserError
from resolvers.scalars import bounded_arg

T = TypeVar("T")
MAX_NODES = 100
_GLOBAL_ID = re.compile(r"[A-Za-z0-9_-]+")


def global_id(type_name: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).rstrip(b"=").decode()


def parse_global_id(value: object) -> tuple[str, str] | None:
    """(type name, key) of an id this API issued; None for anything else. Only the one spelling
    `global_id` writes is taken, so an object has exactly one id."""
    if not isinstance(value, str) or not 0 < len(value) <= bounds.NODE_ID_MAX or not _GLOBAL_ID.fullmatch(value):
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    type_name, sep, key = raw.partition(":")
    if not sep or not type_name or not key or global_id(type_name, key) != value:
        return None
    return type_name, key


def _anyone(info: Any, key: Any) -> bool:
    return True


def plain_key(key: str) -> bool:
    return not isinstance(bounds.IDENTIFIER.check(key), UserError) and key == key.strip()


@dataclass(frozen=True)
class NodeKind(Generic[T]):
    cls: type
    name: str
    load: Callable[[Any, str], T | None]
    may_ask: Callable[[Any, str], bool]
    may_read: Callable[[Any, T], bool]
    valid_key: Callable[[str], bool]

    def read(self, info: Any, key: str, *, load: Callable[[Any, str], T | None] | None = None) -> T | None:
        """The object if it exists and this caller may read it, else None. `load` replaces the
        registered loader where a caller needs a fresher read (a payload after a write)."""
        if not self.valid_key(key) or not self.may_ask(info, key):
            return None
        obj = (load or self.load)(info, key)
        return obj if obj is not None and self.may_read(info, obj) else None


REGISTRY: dict[str, NodeKind[Any]] = {}


def node_type(*, load: Callable[[Any, str], Any], may_ask: Callable[[Any, str], bool] = _anyone,
              may_read: Callable[[Any, Any], bool] = _anyone,
              valid_key: Callable[[str], bool] = plain_key) -> Callable[[type[T]], type[T]]:
    """Register a strawberry type (a subclass of Node, already decorated) as fetchable by `node(id:)`."""

    def register(cls: type[T]) -> type[T]:
        name = cls.__strawberry_definition__.name  # type: ignore[attr-defined]
        assert name not in REGISTRY, f"{name} is registered twice"
        REGISTRY[name] = NodeKind(cls, name, load, may_ask, may_read, valid_key)
        return cls

    return register


def kind(cls: type[T]) -> NodeKind[T]:
    return REGISTRY[cls.__strawberry_definition__.name]  # type: ignore[attr-defined]


def read(info: Any, cls: type[T], key: str, **kw: Any) -> T | None:
    """The one read of a Node type by key: what its query fields and `node(id:)` both use."""
    return kind(cls).read(info, key, **kw)


@strawberry.interface(description="An object with a global id. `node(id:)` fetches it again; clients cache it "
                                  "by `__typename` and `id` (Apollo and Relay do so by default).")
class Node:
    @strawberry.field(description="Global id: opaque and stable; the same object always has the same id. Pass it "
                                  "to `node(id:)`; arguments that take a member or a reward take it too.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(global_id(self.__strawberry_definition__.name, self.node_key()))  # type: ignore[attr-defined]

    def node_key(self) -> str:  # pragma: no cover - every Node type defines it
        raise NotImplementedError


def unwrap(value: str, type_name: str) -> str:
    """The key inside a global id of `type_name`; any other value unchanged (the object's own id)."""
    parsed = parse_global_id(value)
    return parsed[1] if parsed is not None and parsed[0] == type_name else value


def key_for(value: str, type_name: str, field: str) -> str:
    """The key an argument names: the key inside a global id of `type_name`, or else the value as the
    object's own id (a member id, a reward slug). Either way it must pass the id bound; a problem is a
    UserError naming `field`. (An own id that happens to be exactly the global id of another object
    of that type names that object; ids from identity providers and slugs never are.)"""
    checked = bounds.IDENTIFIER.check(unwrap(value, type_name))
    if isinstance(checked, UserError):
        raise UserError(checked.code, checked.message, field)
    return checked


def query_key_for(value: str, type_name: str, field: str) -> str:
    """`key_for` for a query argument: a problem is one BAD_USER_INPUT error, as for any query argument."""
    try:
        return key_for(value, type_name, field)
    except UserError as e:
        raise GraphQLError(f"{field}: {e.message}", extensions={"code": "BAD_USER_INPUT", "field": field,
                                                                "reason": e.code.value}) from None


def _parsed(value: str) -> tuple[NodeKind[Any], str] | None:
    parsed = parse_global_id(value)
    found = REGISTRY.get(parsed[0]) if parsed else None
    if found is None or parsed is None or not found.valid_key(parsed[1]):
        return None  # no such type, or a key no object of it can have: not an id this API issued
    return found, parsed[1]


def _not_ours(fields: list[str]) -> GraphQLError:
    return GraphQLError(f"{', '.join(fields)}: not an id this API returned; pass an object's `id` as it was given.",
                        extensions={"code": "BAD_USER_INPUT", "field": fields[0]})


NodeIdArg = Annotated[strawberry.ID, bounded_arg(bounds.NODE_ID)]
NodeIdsArg = Annotated[list[strawberry.ID], bounded_arg(bounds.NODE_ID)]


@strawberry.type
class NodeQueries:
    @strawberry.field(description="Any object by its global `id`: null when there is none or the caller may not read "
                                  "it (the same answer either way; each type's own read rules apply). An id this API "
                                  "did not issue is BAD_USER_INPUT.")
    def node(self, info: strawberry.Info, id: NodeIdArg) -> Node | None:
        found = _parsed(str(id))
        if found is None:
            raise _not_ours(["id"])
        return found[0].read(info, found[1])

    @strawberry.field(description=f"Objects by global id, in the order asked, each null where `node(id:)` would be "
                                  f"null; at most {MAX_NODES} ids. Each id is one read.")
    def nodes(self, info: strawberry.Info, ids: NodeIdsArg) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise GraphQLError(f"ids: at most {MAX_NODES} ids at once.",
                               extensions={"code": "BAD_USER_INPUT", "field": "ids", "reason": "OUT_OF_RANGE"})
        found = [_parsed(str(i)) for i in ids]
        bad = [f"ids.{n}" for n, f in enumerate(found) if f is None]
        if bad:
            raise _not_ours(bad)
        return [f[0].read(info, f[1]) for f in found if f is not None]
