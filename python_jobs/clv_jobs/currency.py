"""Reference FX rates: USD per unit of each currency the demo data uses.

`seeds/currency_rates.csv` holds the same rates for dbt (a test keeps the two equal); real
deployments replace the seed with their finance team's rates.
"""

from __future__ import annotations

__all__ = ["USD_PER_UNIT"]

USD_PER_UNIT: dict[str, float] = {
    "USD": 1.0,
    "GBP": 1.27,
    "EUR": 1.08,
    "AUD": 0.66,
    "CHF": 1.13,
}
