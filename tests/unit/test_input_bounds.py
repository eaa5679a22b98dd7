"""Every input position of the schema is bounded, found by walking the schema, not by a list."""
from __future__ import annotations

from decimal import Decimal

import pytest
from graphql import (GraphQLEnumType, GraphQLID, GraphQLInputObjectType, GraphQLList, GraphQLNonNull,
                     GraphQLScalarType, GraphQLString)

from domain import bounds
from domain.errors import UserError
from resolvers.scalars import DEFAULT_BOUNDS, Invalid, SCALAR_MAP, bound_of, check_arguments
from resolvers.schema import build_schema

SCHEMA = build_schema()._schema
BOUNDED_SCALARS = {d.name for d in SCALAR_MAP.values()}
SAFE_SCALARS = {"Int", "Boolean"}  # GraphQL itself bounds them (32-bit integers, true/false)
CURSOR_ARGS = {"after", "before"}  # opaque cursors: checked and authenticated by the cursor helper


def _leaf(type_):
    while isinstance(type_, (GraphQLNonNull, GraphQLList)):
        type_ = type_.of_type
    return type_


def input_positions():
    """(path, graphql-core argument or input field) for every input position of the schema."""
    seen_inputs = set()

    def walk_input(obj: GraphQLInputObjectType, path: str):
        if obj.name in seen_inputs:
            return
        seen_inputs.add(obj.name)
        for name, field in obj.fields.items():
            yield f"{path}.{name}", field
            leaf = _leaf(field.type)
            if isinstance(leaf, GraphQLInputObjectType):
                yield from walk_input(leaf, f"{obj.name}")

    for type_name, type_ in SCHEMA.type_map.items():
        if type_name.startswith("__") or not hasattr(type_, "fields") or isinstance(type_, GraphQLInputObjectType):
            continue
        for field_name, field in type_.fields.items():
            for arg_name, arg in field.args.items():
                yield f"{type_name}.{field_name}({arg_name})", arg
                leaf = _leaf(arg.type)
                if isinstance(leaf, GraphQLInputObjectType):
                    yield from walk_input(leaf, leaf.name)


POSITIONS = list(input_positions())


def test_the_walk_finds_the_inputs_that_reach_keys():
    names = {p for p, _ in POSITIONS}
    assert {"Mutation.couponConsume(code)", "OrderInput.orderId", "Mutation.activityRecord(reference)",
            "MemberEnrollInput.email", "MemberEnrollInput.referralCode", "Query.member(id)"} <= names


@pytest.mark.parametrize("path,definition", POSITIONS, ids=[p for p, _ in POSITIONS])
def test_every_input_position_is_bounded(path, definition):
    leaf = _leaf(definition.type)
    if isinstance(leaf, (GraphQLEnumType, GraphQLInputObjectType)):
        return
    assert isinstance(leaf, GraphQLScalarType)
    if leaf.name in SAFE_SCALARS or leaf.name in BOUNDED_SCALARS:
        return
    if leaf is GraphQLID:
        assert (bound_of(definition) or DEFAULT_BOUNDS[GraphQLID]).name == "ID"
        return
    name = path.rsplit("(", 1)[-1].rstrip(")")
    if leaf is GraphQLString and name in CURSOR_ARGS:
        return
    assert leaf is GraphQLString and bound_of(definition) is not None, (
        f"{path} takes {leaf.name} without a declared bound: use resolvers.scalars.bounded/bounded_arg")


def _too_long(definition) -> str:
    leaf = _leaf(definition.type)
    bound = bound_of(definition) or DEFAULT_BOUNDS.get(leaf)
    return "a" * 3000 if bound is not None else ""


@pytest.mark.parametrize("path,definition",
                         [(p, d) for p, d in POSITIONS if _leaf(d.type) in (GraphQLID, GraphQLString)
                          and p.rsplit("(", 1)[-1].rstrip(")") not in CURSOR_ARGS],
                         ids=[p for p, d in POSITIONS if _leaf(d.type) in (GraphQLID, GraphQLString)
                              and p.rsplit("(", 1)[-1].rstrip(")") not in CURSOR_ARGS])
def test_a_3000_character_string_is_refused_at_every_string_and_id_position(path, definition):
    value = [_too_long(definition)] if isinstance(_leaf_list(definition.type), GraphQLList) else _too_long(definition)
    _, found = check_arguments({"x": value}, {"x": definition})
    assert [e.code.value for e in found] == ["TOO_LONG"], path


def _leaf_list(type_):
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return type_


def test_problems_name_their_field_path_and_every_problem_is_reported_at_once():
    order = SCHEMA.mutation_type.fields["orderRecord"]
    bad = {"orderId": "x" * 200, "currency": "JPY", "orderedAt": Invalid(UserError(bounds.ErrorCode.OUT_OF_RANGE, "r")),
           "lines": [{"id": "ok", "quantity": 1, "price": Decimal(1)}, {"id": "bad id", "quantity": 1,
                                                                          "price": Decimal(1)}],
           "subtotal": Decimal(1), "total": Decimal(1), "email": "a b@example.com"}
    _, found = check_arguments({"input": bad}, order.args)
    assert {(e.field, e.code.value) for e in found} == {
        ("orderId", "TOO_LONG"), ("orderedAt", "OUT_OF_RANGE"), ("lines.1.id", "INVALID"), ("email", "INVALID")}


def test_checked_values_come_back_normalised():
    redeem = SCHEMA.mutation_type.fields["couponConsume"]
    checked, found = check_arguments({"code": " kz-abc ", "orderId": 12345678901234567890}, redeem.args)
    assert found == [] and checked == {"code": "KZ-ABC", "orderId": 12345678901234567890}


@pytest.mark.parametrize("raw", ["9999-12-31T00:00:00Z", "0001-01-01T00:00:00+14:00", "1999-12-31T23:59:59Z",
                                 "2100-01-01T00:00:00Z", "2026-01-01T00:00:00", "yesterday"])
def test_timestamps_outside_the_one_range_or_without_a_zone_are_refused(raw):
    assert isinstance(bounds.check_moment(raw), UserError)


def test_timestamps_inside_the_range_come_back_in_utc():
    at = bounds.check_moment("2026-11-22T10:00:00+09:00")
    assert at.isoformat() == "2026-11-22T01:00:00+00:00"


@pytest.mark.parametrize("raw", ["NaN", "sNaN", "Infinity", "-Infinity", "1e999", "1e15", "0.0000001",
                                 "1234567890123", "12,50", "", "0x10"])
def test_decimals_refuse_nan_infinity_exploding_exponents_and_extra_digits(raw):
    assert isinstance(bounds.check_decimal(raw), UserError)


@pytest.mark.parametrize("raw,value", [("12.50", Decimal("12.50")), ("1.5e2", Decimal("150")), ("-5", Decimal(-5)),
                                       ("999999999999.999999", Decimal("999999999999.999999")), ("0e5", Decimal(0))])
def test_decimals_inside_the_bound_are_kept_exactly(raw, value):
    assert bounds.check_decimal(raw) == value


@pytest.mark.parametrize("bound,raw", [(bounds.IDENTIFIER, "a#b"), (bounds.IDENTIFIER, "a b"),
                                       (bounds.IDENTIFIER, "x" * 129), (bounds.CODE, "KZ_1"),
                                       (bounds.EMAIL, "a\nb@example.com"), (bounds.LABEL, "tab\there"),
                                       (bounds.TEXT, "bell\x07"), (bounds.CURRENCY, "JP"), (bounds.ACTION, "Re view")])
def test_key_and_text_bounds_refuse_what_the_table_cannot_hold_safely(bound, raw):
    assert isinstance(bound.check(raw), UserError)
