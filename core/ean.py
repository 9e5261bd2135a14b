"""The GS1 mod-10 check digit of an EAN (a grid connection's 18-digit id), defined once.

The payload digits are weighted 3, 1, 3, ... from the right (`weight`); the check digit is what
brings their weighted sum up to a multiple of ten. The scalar form (`check_digit`), the numpy
form for ids built in bulk (`check_digits`) and the polars form that validates a column
(`is_valid`) are all built from that one weight.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import polars as pl

EAN_LENGTH = 18
PAYLOAD_LENGTH = EAN_LENGTH - 1

_Total = TypeVar("_Total", int, np.ndarray, pl.Expr)


def weight(position: int) -> int:
    """The weight of the payload digit `position` places from the right (0: the rightmost): 3, 1, 3, ..."""
    return 3 if position % 2 == 0 else 1


def _digit_for(total: _Total) -> _Total:
    """The check digit for a weighted sum `total`: what makes it a multiple of ten."""
    return (10 - total % 10) % 10


def check_digit(payload: str) -> int:
    """The check digit of `payload`, a string of ASCII digits (17 for an EAN-18)."""
    if not (payload.isascii() and payload.isdigit()):
        raise ValueError(f"an EAN payload is a string of digits, not {payload!r}")
    return _digit_for(sum(int(digit) * weight(position) for position, digit in enumerate(reversed(payload))))


def with_check_digit(payload: str) -> str:
    """`payload` followed by its check digit: a 17-digit payload becomes a valid EAN-18."""
    return payload + str(check_digit(payload))


def check_digits(payloads: np.ndarray, length: int = PAYLOAD_LENGTH) -> np.ndarray:
    """The check digits (int64) of integer payloads of `length` digits, leading zeros included."""
    total = np.zeros(payloads.shape, dtype=np.int64)
    rest = payloads.astype(np.int64, copy=True)
    for position in range(length):  # position 0 is the rightmost digit
        total += (rest % 10) * weight(position)
        rest //= 10
    return _digit_for(total)


def is_valid(ean: pl.Expr) -> pl.Expr:
    """True for a string of 18 ASCII digits whose last is the check digit of the 17 before it."""
    digits = [ean.str.slice(i, 1).cast(pl.Int64, strict=False) for i in range(EAN_LENGTH)]
    weighted = pl.sum_horizontal(
        [digit * weight(PAYLOAD_LENGTH - 1 - i) for i, digit in enumerate(digits[:PAYLOAD_LENGTH])]
    )
    return ean.str.contains(rf"^[0-9]{{{EAN_LENGTH}}}$") & (_digit_for(weighted) == digits[PAYLOAD_LENGTH])
