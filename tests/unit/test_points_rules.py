"""The points rules on their own: earning, refunds, balances, lots and expiry."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.errors import ErrorCode, UserError, UserErrors
from domain.points import balance as b
from domain.points import lots
from domain.points import orders as o
from domain.points import program as p

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
PROGRAM = p.Program(earn_rates=(p.EarnRate("JPY", Decimal(100)), p.EarnRate("USD", Decimal(1))))


def order(*lines: o.OrderLine, subtotal: str, total: str | None = None, currency: str = "JPY", **kw) -> o.Order:
    return o.Order(id="1001", currency=currency, ordered_at=T0, lines=lines, subtotal=Decimal(subtotal),
                   total=Decimal(total or subtotal), email="a@example.com", **kw)


def line(id: str, price: str, qty: int = 1, **kw) -> o.OrderLine:
    return o.OrderLine(id=id, quantity=qty, price=Decimal(price), **kw)


def test_points_are_earned_on_goods_after_discounts_not_tax_or_shipping():
    e = o.earn(order(line("a", "6000"), line("b", "4000"), subtotal="9000", total="10400"), PROGRAM)
    assert e.points == 90
    assert [x.points for x in e.lines] == [54, 36]
    assert sum(x.paid for x in e.lines) == Decimal("9000")


def test_total_paid_basis_includes_tax_and_shipping_when_the_program_says_so():
    program = p.Program(earn_rates=PROGRAM.earn_rates, basis=p.EarnBasis.TOTAL_PAID)
    assert o.earn(order(line("a", "9000"), subtotal="9000", total="10400"), program).points == 104


def test_line_shares_always_add_up_to_the_order_points():
    e = o.earn(order(line("a", "333"), line("b", "333"), line("c", "334"), subtotal="1000"), PROGRAM)
    assert e.points == 10 and sum(x.points for x in e.lines) == 10


def test_rounding_follows_the_program():
    lines = (line("a", "199"),)
    assert o.earn(order(*lines, subtotal="199"), PROGRAM).points == 1
    up = p.Program(earn_rates=PROGRAM.earn_rates, rounding=p.Rounding.UP)
    assert o.earn(order(*lines, subtotal="199"), up).points == 2


def test_sku_and_category_multipliers_and_campaigns_multiply():
    program = p.Program(
        earn_rates=PROGRAM.earn_rates,
        multipliers=(p.Multiplier(Decimal(3), category="skincare"), p.Multiplier(Decimal(2), sku="TEE")),
        campaigns=(p.Campaign("double weekend", Decimal(2), T0 - timedelta(days=1), T0 + timedelta(days=1)),))
    e = o.earn(order(line("a", "1000", category="skincare"), line("b", "1000", sku="TEE"), line("c", "1000"),
                     subtotal="3000"), program)
    assert [x.points for x in e.lines] == [60, 40, 20]
    later = order(line("a", "1000"), subtotal="1000")
    later = o.Order(**{**later.__dict__, "ordered_at": T0 + timedelta(days=2)})
    assert o.earn(later, program).points == 10


def test_tier_multiplier_hook_applies_to_order_earnings():
    program = p.Program(earn_rates=PROGRAM.earn_rates, tier_multipliers=(("gold", Decimal("1.5")),))
    assert o.earn(order(line("a", "10000"), subtotal="10000"), program, tier="gold").points == 150
    assert o.earn(order(line("a", "10000"), subtotal="10000"), program, tier=None).points == 100


def test_unknown_currency_and_absurd_amounts_are_refused_with_codes():
    with pytest.raises(UserErrors) as bad:
        o.validate_order(order(line("a", "-5"), subtotal="-5", currency="XXX"), PROGRAM)
    codes = {e.code for e in bad.value.errors}
    assert {ErrorCode.UNKNOWN_CURRENCY, ErrorCode.OUT_OF_RANGE} <= codes
    with pytest.raises(UserErrors):
        o.validate_order(order(line("a", "1e12"), subtotal="1e12"), PROGRAM)
    with pytest.raises(UserError):
        o.parse_amount("12,50", "total")
    with pytest.raises(UserError):
        o.parse_amount("NaN", "total")


def test_return_window_starts_at_delivery_and_honours_category_policies():
    program = p.Program(earn_rates=PROGRAM.earn_rates, return_window_days=30,
                        category_return_window_days=(("furniture", 100),))
    assert o.release_at(order(line("a", "1"), subtotal="1"), program) == T0 + timedelta(days=30)
    delivered = order(line("a", "1", category="furniture"), subtotal="1", delivered_at=T0 + timedelta(days=5))
    assert o.release_at(delivered, program) == T0 + timedelta(days=105)


def test_partial_refunds_reverse_in_proportion_and_never_lose_points_to_rounding():
    lines = (o.LinePoints("a", None, Decimal("3000"), 33), o.LinePoints("b", None, Decimal("1000"), 10))
    first = o.refund_reversal(lines, (o.ReturnedLine("a", Decimal("1000")),))
    assert first.points == 11
    second = o.refund_reversal(first.lines, (o.ReturnedLine("a", Decimal("1000")),))
    third = o.refund_reversal(second.lines, (o.ReturnedLine("a", Decimal("1000")),))
    assert first.points + second.points + third.points == 33
    with pytest.raises(UserErrors):  # the line is used up: a further refund of it is refused
        o.refund_reversal(third.lines, (o.ReturnedLine("a", Decimal("50")),))
    with pytest.raises(UserErrors):
        o.refund_reversal(lines, (o.ReturnedLine("zz", Decimal(1)),))


def test_the_four_return_resolutions():
    program = p.Program(exchange_bonus_points=50, store_credit_points=p.StoreCreditPoints.REVERSE)
    assert o.points_for_return(o.ReturnResolution.REFUND, program) == (True, 0)
    assert o.points_for_return(o.ReturnResolution.EXCHANGE, program) == (False, 50)
    assert o.points_for_return(o.ReturnResolution.WARRANTY_EXCHANGE, program) == (False, 0)
    assert o.points_for_return(o.ReturnResolution.STORE_CREDIT, program) == (True, 0)
    keep = p.Program(store_credit_points=p.StoreCreditPoints.KEEP)
    assert o.points_for_return(o.ReturnResolution.STORE_CREDIT, keep) == (False, 0)


def test_the_exchange_bonus_is_withheld_above_the_return_rate_gate():
    gated = p.Program(exchange_bonus_points=50, exchange_bonus_max_return_rate=Decimal("0.5"))
    assert o.return_rate_decides(o.ReturnResolution.EXCHANGE, gated)
    assert not o.return_rate_decides(o.ReturnResolution.REFUND, gated)
    assert not o.return_rate_decides(o.ReturnResolution.EXCHANGE, p.Program(exchange_bonus_points=50))
    half, most = o.ReturnRate(orders=4, returns=2, window_days=180), o.ReturnRate(orders=4, returns=3, window_days=180)
    assert o.points_for_return(o.ReturnResolution.EXCHANGE, gated, half) == (False, 50)
    assert o.points_for_return(o.ReturnResolution.EXCHANGE, gated, most) == (False, 0)


def test_time_zones_are_iana_names_and_local_time_follows_them():
    assert p.known_zone("Asia/Tokyo") and p.known_zone("UTC")
    for bad in ("Mars/Olympus", "../etc/passwd", "/etc/localtime", "", "x" * 300):
        assert not p.known_zone(bad), bad
    at = datetime(2027, 1, 1, 3, tzinfo=timezone.utc)
    assert p.Program(timezone="America/Los_Angeles").local_time(at).date().isoformat() == "2026-12-31"


def test_reversal_takes_pending_first_then_available_and_the_rest_becomes_debt():
    m = b.reverse(b.Balance(available=30, pending=20), 70, pending_of_order=20)
    assert (m.pending, m.available, m.debt, m.consumed) == (-20, -30, 20, 30)
    assert m.net == -70
    after = m.applied_to(b.Balance(available=30, pending=20))
    assert after.available == 0 and after.debt == 20


def test_later_earnings_repay_debt_first():
    m = b.credit(b.Balance(debt=20), 50)
    assert (m.available, m.debt, m.new_lot, m.net) == (30, -20, 30, 50)


def test_spending_more_than_available_is_refused():
    with pytest.raises(UserError) as e:
        b.spend(b.Balance(available=5), 10)
    assert e.value.code is ErrorCode.INSUFFICIENT_POINTS


def test_every_movement_nets_to_its_ledger_points():
    balance = b.Balance(available=40, pending=10, debt=0)
    for m in (b.hold(10), b.credit(balance, 5), b.release(balance, 10), b.spend(balance, 40), b.expire(3),
              b.reverse(balance, 45, 10)):
        before, after = balance, m.applied_to(balance)
        assert (after.available + after.pending - after.debt) - (before.available + before.pending - before.debt) == m.net


def test_lots_are_consumed_oldest_expiring_first():
    ls = [lots.Lot("LOT#NEVER", 20, T0, None), lots.Lot("LOT#2027-03", 50, T0, datetime(2027, 4, 1, tzinfo=timezone.utc)),
          lots.Lot("LOT#2027-01", 30, T0, datetime(2027, 2, 1, tzinfo=timezone.utc))]
    left = lots.what_is_left(ls, 40)
    assert [(x.lot.key, x.left) for x in left] == [("LOT#2027-01", 0), ("LOT#2027-03", 40), ("LOT#NEVER", 20)]


def test_the_walk_follows_expiry_not_key_when_old_per_credit_lots_and_buckets_mix():
    # A lot written before buckets expiring 20 March sorts after the bucket `LOT#2027-03` by key, but
    # expires before it (the bucket lasts until March ends): it is spent first.
    old = lots.Lot("LOT#2027-03-20T10:00:00+00:00#01J", 30, T0, datetime(2027, 3, 20, 10, tzinfo=timezone.utc))
    bucket = lots.Lot("LOT#2027-03", 50, T0, datetime(2027, 4, 1, tzinfo=timezone.utc))
    assert [(x.lot.key, x.left) for x in lots.what_is_left([bucket, old], 40)] == [(old.key, 0), (bucket.key, 40)]


def test_expiring_soon_reports_the_next_expiry_within_the_horizon():
    ls = [lots.Lot("LOT#2026-11", 30, T0, T0 + timedelta(days=19)),
          lots.Lot("LOT#2027-06", 50, T0, T0 + timedelta(days=200))]
    soon = lots.expiring_soon(ls, 10, T0, 30)
    assert soon == lots.ExpiringSoon(20, T0 + timedelta(days=19))
    assert lots.expiring_soon(ls, 30, T0, 30) is None


def test_under_inactivity_expiry_a_sooner_dated_bucket_is_announced_before_everything_goes():
    # A bucket dated under "after earning" before the switch, and the undated one of the inactivity rule.
    dated = lots.Lot("LOT#2026-11", 30, T0, T0 + timedelta(days=10))
    undated = lots.Lot("LOT#NEVER", 50, T0, None)
    idle_at = T0 + timedelta(days=20)
    assert lots.expiring_soon([dated, undated], 10, T0, 30, idle_at) == lots.ExpiringSoon(20, dated.expires_at)
    # The inactivity date first, or the same day: everything goes then.
    assert lots.expiring_soon([dated, undated], 10, T0, 30, T0 + timedelta(days=5)) == lots.ExpiringSoon(
        70, T0 + timedelta(days=5))
    assert lots.expiring_soon([dated, undated], 10, T0, 30, dated.expires_at) == lots.ExpiringSoon(
        70, dated.expires_at)
    # A dated bucket already spent announces nothing; past the horizon, the inactivity date alone.
    assert lots.expiring_soon([dated, undated], 30, T0, 30, T0 + timedelta(days=60)) is None
    assert lots.expiring_soon([dated, undated], 30, T0, 30, idle_at) == lots.ExpiringSoon(50, idle_at)


def test_points_earned_in_a_month_expire_together_when_the_month_n_months_later_ends():
    after = p.Program(expiry_mode=p.ExpiryMode.AFTER_EARNING, expiry_months=12)
    end_of_feb_2027 = datetime(2027, 3, 1, tzinfo=timezone.utc)
    for earned in (datetime(2026, 2, 1, tzinfo=timezone.utc), datetime(2026, 2, 28, 23, 59, 59, tzinfo=timezone.utc),
                   datetime(2026, 2, 14, 18, tzinfo=timezone(timedelta(hours=9)))):
        assert lots.lot_expiry(earned, after) == end_of_feb_2027
        assert lots.bucket(lots.lot_expiry(earned, after)) == "2027-02"
    # Months are UTC months: 1 March 05:00 in Tokyo is still February in UTC.
    assert lots.lot_expiry(datetime(2026, 3, 1, 5, tzinfo=timezone(timedelta(hours=9))), after) == end_of_feb_2027
    assert lots.lot_expiry(datetime(2026, 3, 1, tzinfo=timezone.utc), after) == datetime(2027, 4, 1, tzinfo=timezone.utc)
    assert lots.bucket(None) == lots.NEVER_BUCKET
    assert lots.add_months(datetime(2026, 1, 31), 1) == datetime(2026, 2, 28)


def test_a_bucket_gives_at_least_n_months_after_earning_and_at_most_a_month_more():
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    for months in (1, 2, 12, 13, 120):
        program = p.Program(expiry_mode=p.ExpiryMode.AFTER_EARNING, expiry_months=months)
        for hours in range(0, 3 * 366 * 24, 37):  # every 37 hours over three years: all days and hours
            earned = start + timedelta(hours=hours)
            expires = lots.lot_expiry(earned, program)
            assert expires is not None and expires > lots.add_months(earned, months), (earned, months)
            assert expires <= lots.add_months(earned, months + 1), (earned, months)


def test_expiry_dates_follow_the_policy():
    assert lots.lot_expiry(T0, p.Program()) is None
    idle = p.Program(expiry_mode=p.ExpiryMode.AFTER_INACTIVITY, expiry_months=6)
    assert lots.inactivity_expiry(T0, idle) == datetime(2027, 5, 1, tzinfo=timezone.utc)


def test_program_validation_reports_every_problem():
    bad = p.Program(earn_rates=(p.EarnRate("yen", Decimal(0)),), return_window_days=400,
                    actions=(p.ActionRule("Bad Name!", 0),))
    with pytest.raises(UserErrors) as e:
        p.validate(bad)
    assert len(e.value.errors) >= 4


def test_program_survives_a_storage_round_trip():
    program = p.Program(
        earn_rates=(p.EarnRate("JPY", Decimal(100)),), multipliers=(p.Multiplier(Decimal(2), sku="X"),),
        campaigns=(p.Campaign("c", Decimal(2), T0, T0 + timedelta(days=2), ("a",)),),
        actions=(p.ActionRule("review_written", 50, 3, p.Period.MONTH, 60, Decimal("0.5")),),
        category_return_window_days=(("furniture", 90),), expiry_mode=p.ExpiryMode.AFTER_INACTIVITY,
        tier_multipliers=(("gold", Decimal("1.5")),))
    assert p.from_dict(p.to_dict(program)) == program


def test_categories_match_whatever_their_case():
    program = p.Program(earn_rates=PROGRAM.earn_rates, multipliers=(p.Multiplier(Decimal(2), category="skincare"),),
                        category_return_window_days=(("Furniture", 90),))
    assert o.earn(order(line("a", "1000", category="Skincare "), subtotal="1000"), program).points == 20
    assert program.window_days_for("furniture") == 90
