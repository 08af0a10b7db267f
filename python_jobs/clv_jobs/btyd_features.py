"""The BTYD side of the model: BG/NBD + Gamma-Gamma fitted per as-of date as features (P(alive),
expected purchases, expected order value, and the carry of a short label window to the horizon),
the BTYD revenue as a product of three factors and their exact Shapley values, and the BTYD base
margin the boosted objective starts from. `clv_jobs.model` re-exports all of it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clv_jobs import btyd

__all__ = [
    "RFM_COLUMNS",
    "BTYD_MARGIN_PREFIX",
    "BTYD_FEATURES",
    "BTYD_CARRY",
    "BTYD_REASONS",
    "require_columns",
    "btyd_features",
    "fit_btyd",
    "fits_from_dict",
    "btyd_revenue",
    "btyd_factors",
    "product_shapley",
    "base_margin",
]

RFM_COLUMNS = ["frequency", "recency_days", "tenure_days", "days_since_last_purchase", "monetary_value_usd"]
# Boost from the BG/NBD + Gamma-Gamma prediction: its log is the base margin of a Tweedie model,
# so the trees learn what the BTYD model misses (channels, web activity) instead of re-learning it.
BTYD_MARGIN_PREFIX = "btyd_margin:"


def require_columns(frame: pd.DataFrame, columns: list[str], where: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{where}: missing column(s) {missing}")


BTYD_FEATURES = ["btyd_p_alive", "btyd_expected_purchases", "btyd_expected_order_value_usd"]
# Not a feature: BG/NBD's E[X(horizon)] / E[X(label window)] per row, 1 when they are equal.
BTYD_CARRY = "btyd_carry"


BTYD_MAX_FIT_ROWS = 100_000


def btyd_features(
    frame: pd.DataFrame,
    horizon_days: int,
    max_fit_rows: int = BTYD_MAX_FIT_ROWS,
    fits: dict | None = None,
    carry_to_days: int | None = None,
) -> pd.DataFrame:
    """BG/NBD + Gamma-Gamma fitted on each as-of date's own rows (time in weeks): P(alive),
    expected purchases over the horizon and expected order value, per row.

    Unsupervised on history: only features (facts on or before the as-of date) go in, so these
    are as point-in-time as the features themselves. Every date's fit starts from the same point
    and does not depend on row order (the fits sum over sorted distinct values), so training and
    scoring compute bit-identical values for the same customers: scoring reads its rows in no
    fixed order. A date with more than `max_fit_rows` rows is fitted on a seeded sample of that
    many, drawn in customer-id order (seven parameters: the estimates barely move, the time is
    bounded); every row is scored. `fits` (from `fit_btyd`): apply these parameters instead of
    fitting, as a served model does for a handful of customers. `carry_to_days`: the column
    `BTYD_CARRY` holds E[X(carry_to_days)] / E[X(horizon_days)] (else 1).
    """
    require_columns(frame, RFM_COLUMNS + ["customer_id", "as_of_date", "avg_purchase_value_usd"], "BTYD inputs")
    out = pd.DataFrame(index=frame.index, columns=BTYD_FEATURES + [BTYD_CARRY], dtype=float)
    for _, idx in sorted(frame.groupby("as_of_date").indices.items()):
        part = frame.iloc[idx]
        bg, gg, mean_spend = fits_from_dict(fits) if fits is not None else _fit_btyd(part, max_fit_rows)
        x = part["frequency"].to_numpy(float)
        t_x = part["recency_days"].to_numpy(float) / 7
        t = part["tenure_days"].to_numpy(float) / 7
        if gg is not None:
            spend = gg.expected_order_value(x, part["monetary_value_usd"].to_numpy(float))
        else:
            spend = np.full(len(part), mean_spend)
        purchases = bg.expected_purchases(horizon_days / 7, x, t_x, t)
        carry = np.ones(len(part))
        if carry_to_days is not None and carry_to_days != horizon_days:
            # E[X(t)] > 0 for t > 0; the ratio lies in [1, carry_to_days / horizon_days].
            carry = bg.expected_purchases(carry_to_days / 7, x, t_x, t) / np.maximum(purchases, 1e-300)
        out.iloc[idx] = np.column_stack([bg.p_alive(x, t_x, t), purchases, spend, carry])
    return out.astype(float)


def _fit_btyd(part: pd.DataFrame, max_fit_rows: int):
    """(BG/NBD fit, Gamma-Gamma fit or None, mean order value) on one as-of date's rows."""
    x = part["frequency"].to_numpy(float)
    fit = slice(None)
    if len(part) > max_fit_rows:
        by_customer = np.argsort(part["customer_id"].astype(str).to_numpy(), kind="stable")
        fit = by_customer[np.random.default_rng(0).choice(len(part), max_fit_rows, replace=False)]
    t_x = part["recency_days"].to_numpy(float) / 7
    t = part["tenure_days"].to_numpy(float) / 7
    bg = btyd.fit_bg_nbd(x[fit], t_x[fit], t[fit])
    # sorted first, so the mean does not depend on row order either
    mean_spend = float(np.nanmean(np.sort(part["avg_purchase_value_usd"].to_numpy(float))))
    try:
        gg = btyd.fit_gamma_gamma(x[fit], part["monetary_value_usd"].to_numpy(float)[fit])
    except ValueError:  # no repeat buyers yet at this date
        gg = None
    return bg, gg, mean_spend


def fit_btyd(frame: pd.DataFrame, max_fit_rows: int = BTYD_MAX_FIT_ROWS) -> dict:
    """The BTYD parameters fitted on the newest as-of date of `frame`, as plain numbers."""
    newest = frame[frame["as_of_date"] == frame["as_of_date"].max()]
    bg, gg, mean_spend = _fit_btyd(newest, max_fit_rows)
    return {
        "bg_nbd": [bg.r, bg.alpha, bg.a, bg.b],
        "gamma_gamma": None if gg is None else [gg.p, gg.q, gg.gamma],
        "mean_order_value_usd": mean_spend,
        "as_of_date": f"{pd.Timestamp(newest['as_of_date'].iloc[0]):%Y-%m-%d}",
    }


def fits_from_dict(fits: dict):
    bg = btyd.BetaGeoFit(*fits["bg_nbd"], log_likelihood=float("nan"))
    gg = None if fits["gamma_gamma"] is None else btyd.GammaGammaFit(*fits["gamma_gamma"], log_likelihood=float("nan"))
    return bg, gg, float(fits["mean_order_value_usd"])


# The BTYD revenue as a product of three factors; their Shapley values are a BTYD model's reasons.
BTYD_REASONS = ["btyd_p_alive", "btyd_purchases_if_alive", "btyd_expected_order_value_usd"]


def btyd_revenue(frame: pd.DataFrame) -> np.ndarray:
    """BG/NBD expected purchases x Gamma-Gamma expected order value (the BTYD columns)."""
    require_columns(frame, BTYD_FEATURES, "BTYD revenue")
    purchases = frame["btyd_expected_purchases"].to_numpy(float)
    return np.maximum(purchases * frame["btyd_expected_order_value_usd"].to_numpy(float), 0.0)


def btyd_factors(frame: pd.DataFrame) -> np.ndarray:
    """(P(alive), expected purchases if alive, expected order value) per row: in BG/NBD the
    expected purchases are P(alive) times those of an alive customer, so the product of the three
    columns is `btyd_revenue`."""
    require_columns(frame, BTYD_FEATURES, "BTYD factors")
    alive = frame["btyd_p_alive"].to_numpy(float)
    purchases = frame["btyd_expected_purchases"].to_numpy(float)
    if_alive = np.divide(purchases, alive, out=np.zeros(len(frame)), where=alive > 0)
    return np.column_stack([alive, if_alive, frame["btyd_expected_order_value_usd"].to_numpy(float)])


def product_shapley(factors: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Exact Shapley values of f = the product of the columns of `factors`, each player moving its
    factor from `reference` to the row's value; the last column is f(reference). Rows sum to f."""
    from itertools import combinations
    from math import factorial

    n, k = factors.shape
    values = np.zeros((n, k + 1))
    values[:, -1] = np.prod(reference)
    for i in range(k):
        others = [j for j in range(k) if j != i]
        for size in range(k):
            weight = factorial(size) * factorial(k - size - 1) / factorial(k)
            for chosen in combinations(others, size):
                moved = np.ones(n)
                for j in others:
                    moved = moved * (factors[:, j] if j in chosen else reference[j])
                values[:, i] += weight * moved * (factors[:, i] - reference[i])
    return values


def base_margin(frame: pd.DataFrame, objective: str) -> np.ndarray | None:
    """Log of the BTYD revenue prediction for `btyd_margin:` objectives, else None."""
    if not objective.startswith(BTYD_MARGIN_PREFIX):
        return None
    require_columns(frame, BTYD_FEATURES, "BTYD margin")
    revenue = frame["btyd_expected_purchases"].to_numpy(float) * frame["btyd_expected_order_value_usd"].to_numpy(float)
    return np.log(np.maximum(revenue, 1e-3))
