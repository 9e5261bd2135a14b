"""The energy products a grid connection delivers, and the unit each one's volume is in."""

from __future__ import annotations

from typing import Final

# Electricity in kWh, gas in m3; in this order wherever products are listed.
UNIT_OF_PRODUCT: Final[dict[str, str]] = {"ELK": "kWh", "GAS": "m3"}
