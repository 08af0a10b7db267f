"""BG/NBD (Fader, Hardie & Lee 2005) and Gamma-Gamma (Fader & Hardie 2013), fitted by maximum
likelihood. Pure NumPy/SciPy: the CLV baseline every model is compared with.

Inputs are the BTYD summary per customer: ``frequency`` (repeat purchase periods), ``recency``
(first to last purchase) and ``T`` (first purchase to the end of calibration), in one time unit,
and ``monetary_value`` (mean value of the repeat purchases).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

__all__ = ["BetaGeoFit", "GammaGammaFit", "fit_bg_nbd", "fit_gamma_gamma"]


def _check(frequency, recency, T) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, t_x, t = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    if np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > t + 1e-9):
        raise ValueError("BTYD summary needs frequency >= 0 and 0 <= recency <= T")
    return x, t_x, t


def _bg_nbd_log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, t: np.ndarray) -> np.ndarray:
    r, alpha, a, b = params
    log_b_ab = special.betaln(a, b)
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    term_alive = special.betaln(a, b + x) - log_b_ab - (r + x) * np.log(alpha + t)
    with np.errstate(divide="ignore", invalid="ignore"):
        term_dropped = np.where(
            x > 0,
            special.betaln(a + 1, np.maximum(b + x - 1, 1e-12)) - log_b_ab - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return common + np.logaddexp(term_alive, term_dropped)


@dataclass(frozen=True)
class BetaGeoFit:
    """A fitted BG/NBD model. Parameters in the time unit of the data it was fitted on."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float

    def p_alive(self, frequency, recency, T) -> np.ndarray:
        """Probability each customer is still active at the end of calibration."""
        x, t_x, t = _check(frequency, recency, T)
        return 1.0 / (1.0 + self._odds_dropped(x, t_x, t))

    def _odds_dropped(self, x, t_x, t) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            odds = (self.a / np.maximum(self.b + x - 1, 1e-12)) * np.exp(
                (self.r + x) * (np.log(self.alpha + t) - np.log(self.alpha + t_x))
            )
        return np.where(x > 0, odds, 0.0)

    def expected_purchases(self, horizon: float, frequency, recency, T) -> np.ndarray:
        """Expected purchases in (T, T + horizon] given each customer's history (FHL 2005 eq. 10)."""
        x, t_x, t = _check(frequency, recency, T)
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = horizon / (alpha + t + horizon)
        hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
        head = (a + b + x - 1) / (a - 1)
        body = 1.0 - np.exp((r + x) * (np.log(alpha + t) - np.log(alpha + t + horizon))) * hyp
        return head * body / (1.0 + self._odds_dropped(x, t_x, t))


def fit_bg_nbd(frequency, recency, T, initial: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)) -> BetaGeoFit:
    """Maximum-likelihood BG/NBD fit (parameters optimised on the log scale)."""
    x, t_x, t = _check(frequency, recency, T)
    # The likelihood depends on (x, t_x, T) only; far fewer distinct triples than customers
    # (recency and T are whole days).
    (x, t_x, t), weights = _distinct_rows(x, t_x, t)

    def negative_ll(log_params: np.ndarray) -> float:
        value = -np.sum(weights * _bg_nbd_log_likelihood(np.exp(log_params), x, t_x, t))
        return value if np.isfinite(value) else 1e300

    result = _minimize(negative_ll, np.log(initial))
    r, alpha, a, b = np.exp(result.x)
    return BetaGeoFit(float(r), float(alpha), float(a), float(b), float(-result.fun))


@dataclass(frozen=True)
class GammaGammaFit:
    """A fitted Gamma-Gamma spend model."""

    p: float
    q: float
    gamma: float
    log_likelihood: float

    def expected_order_value(self, frequency, monetary_value) -> np.ndarray:
        """Posterior mean order value; the population mean for customers without repeats."""
        x = np.asarray(frequency, dtype=float)
        m = np.asarray(monetary_value, dtype=float)
        p, q, g = self.p, self.q, self.gamma
        population = p * g / (q - 1)
        weight = p * x / (p * x + q - 1)
        return np.where(x > 0, (1 - weight) * population + weight * m, population)


def fit_gamma_gamma(frequency, monetary_value, initial: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> GammaGammaFit:
    """Maximum-likelihood Gamma-Gamma fit on repeat buyers (frequency > 0, monetary value > 0)."""
    x = np.asarray(frequency, dtype=float)
    m = np.asarray(monetary_value, dtype=float)
    keep = (x > 0) & (m > 0)
    if not keep.any():
        raise ValueError("Gamma-Gamma needs at least one repeat buyer with a positive monetary value")
    (x, m), weights = _distinct_rows(x[keep], m[keep])

    def negative_ll(log_params: np.ndarray) -> float:
        p, q, g = np.exp(log_params)
        px = p * x
        ll = (
            special.gammaln(px + q)
            - special.gammaln(px)
            - special.gammaln(q)
            + q * np.log(g)
            + (px - 1) * np.log(m)
            + px * np.log(x)
            - (px + q) * np.log(x * m + g)
        )
        value = -np.sum(weights * ll)
        return value if np.isfinite(value) else 1e300

    result = _minimize(negative_ll, np.log(initial))
    p, q, g = np.exp(result.x)
    return GammaGammaFit(float(p), float(q), float(g), float(-result.fun))


def _distinct_rows(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each distinct row of `columns` once, sorted, with its count as a weight: a weighted
    log-likelihood over them is exact. Sorted, because a sum in input order differs in its last
    bits with the order and the finite-difference gradient turns that into parameters that differ
    at 1e-4; scoring reads rows in whatever order the warehouse returns them."""
    rows, counts = np.unique(np.column_stack(columns), axis=0, return_counts=True)
    return rows.T, counts.astype(float)


def _minimize(fun, x0: np.ndarray) -> optimize.OptimizeResult:
    # L-BFGS-B (numerical gradient) converges in ~100 evaluations; when it reports failure or
    # stops on a bound, Nelder-Mead, robust to the likelihood's flat regions, starts over and a
    # gradient polish follows. Log parameters are bounded to [-10, 10]: beyond that the
    # gamma-function terms cancel in floating point and an optimizer can "improve" the
    # likelihood on rounding error alone.
    bounds = [(-10.0, 10.0)] * len(x0)
    quick = optimize.minimize(fun, x0, method="L-BFGS-B", bounds=bounds)
    if quick.success and np.all(np.abs(quick.x) < 9.99):
        return quick
    first = optimize.minimize(
        fun, x0, method="Nelder-Mead", bounds=bounds, options={"maxiter": 20_000, "xatol": 1e-8, "fatol": 1e-10}
    )
    second = optimize.minimize(fun, first.x, method="L-BFGS-B", bounds=bounds)
    return min((quick, first, second), key=lambda result: result.fun)
