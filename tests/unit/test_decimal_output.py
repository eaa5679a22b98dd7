"""Decimals leave the API as plain digits, exactly, whatever number a resolver computed them as."""
from decimal import Decimal

import pytest

from resolvers.scalars import plain_decimal


@pytest.mark.parametrize("value,text", [(Decimal("1E+2"), "100"), (Decimal("20000.50"), "20000.50"), (5, "5"),
                                        (0.1, "0.1"), (Decimal("0.000001"), "0.000001")])
def test_a_decimal_is_written_in_plain_digits(value, text):
    assert plain_decimal(value) == text
