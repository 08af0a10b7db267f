"""The statistics of an experiment, pure: Welch's t-test on revenue per user, the two-proportion
z-test (two-sided, and one-sided for guardrails), the sample-ratio-mismatch check, the sample
size for a minimum detectable effect, and the deterministic keyed-hash assignment.

The tests hold them honest by simulation (tests/unit/test_experiment_stats.py): A/A false
positives near the nominal 5 %, planted lifts found at the planned power, a broken assignment
caught, and Welch's statistic equal to scipy's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = [
    "Comparison",
    "welch",
    "welch_from_moments",
    "two_proportions",
    "srm_pvalue",
    "sample_size_mean",
    "sample_size_proportion",
    "bucket",
    "assign",
]


@dataclass(frozen=True)
class Comparison:
    """Treatment against control: the difference, its confidence interval, the relative lift
    and the p-value of the test asked for (two-sided, or one-sided in the named direction)."""

    control: float
    treatment: float
    difference: float
    ci_low: float
    ci_high: float
    relative_lift: float
    statistic: float
    p_value: float

    @property
    def relative_ci(self) -> tuple[float, float]:
        """The interval of the difference over the control's level (the lift's interval)."""
        base = self.control if self.control else float("nan")
        return self.ci_low / base, self.ci_high / base


def welch_from_moments(mean_c, var_c, n_c, mean_t, var_t, n_t, alpha: float = 0.05, alternative: str = "two-sided"):
    """Welch's t-test from each group's mean, sample variance (ddof 1) and size; arrays work
    element-wise (the simulations run thousands of experiments at once). Returns (difference,
    se, t, df, p, ci_low, ci_high)."""
    mean_c, var_c, n_c, mean_t, var_t, n_t = map(np.asarray, (mean_c, var_c, n_c, mean_t, var_t, n_t))
    a, b = var_c / n_c, var_t / n_t
    se = np.sqrt(a + b)
    diff = mean_t - mean_c
    with np.errstate(divide="ignore", invalid="ignore"):
        t = diff / se
        df = (a + b) ** 2 / (a**2 / (n_c - 1) + b**2 / (n_t - 1))
    if alternative == "two-sided":
        p = 2 * stats.t.sf(np.abs(t), df)
    elif alternative == "greater":
        p = stats.t.sf(t, df)
    elif alternative == "less":
        p = stats.t.cdf(t, df)
    else:
        raise ValueError(f"alternative must be two-sided, greater or less, not {alternative!r}")
    half = stats.t.ppf(1 - alpha / 2, df) * se
    return diff, se, t, df, p, diff - half, diff + half


def welch(control, treatment, alpha: float = 0.05, alternative: str = "two-sided") -> Comparison:
    """Welch's t-test of treatment against control (e.g. revenue per user)."""
    c, t = np.asarray(control, dtype=float), np.asarray(treatment, dtype=float)
    if c.size < 2 or t.size < 2:
        raise ValueError(f"Welch's t-test needs at least 2 users per group, got {c.size} and {t.size}")
    diff, _, stat, _, p, low, high = welch_from_moments(
        c.mean(), c.var(ddof=1), c.size, t.mean(), t.var(ddof=1), t.size, alpha, alternative
    )
    return Comparison(
        float(c.mean()),
        float(t.mean()),
        float(diff),
        float(low),
        float(high),
        float(diff / c.mean()) if c.mean() else float("nan"),
        float(stat),
        float(p),
    )


def two_proportions(x_c, n_c, x_t, n_t, alpha: float = 0.05, alternative: str = "two-sided") -> Comparison:
    """The two-proportion z-test (pooled standard error for the test, unpooled for the interval)
    of treatment's rate against control's. `alternative`: two-sided, greater (treatment higher:
    e.g. a guardrail on unsubscribes) or less (treatment lower: e.g. conversion no worse)."""
    x_c, n_c, x_t, n_t = map(np.asarray, (x_c, n_c, x_t, n_t))
    p_c, p_t = x_c / n_c, x_t / n_t
    pooled = (x_c + x_t) / (n_c + n_t)
    se_test = np.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_t))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se_test > 0, (p_t - p_c) / np.where(se_test > 0, se_test, 1), 0.0)
    if alternative == "two-sided":
        p = 2 * stats.norm.sf(np.abs(z))
    elif alternative == "greater":
        p = stats.norm.sf(z)
    elif alternative == "less":
        p = stats.norm.cdf(z)
    else:
        raise ValueError(f"alternative must be two-sided, greater or less, not {alternative!r}")
    se = np.sqrt(p_c * (1 - p_c) / n_c + p_t * (1 - p_t) / n_t)
    half = stats.norm.ppf(1 - alpha / 2) * se
    diff = p_t - p_c
    return Comparison(
        float(p_c),
        float(p_t),
        float(diff),
        float(diff - half),
        float(diff + half),
        float(diff / p_c) if p_c else float("nan"),
        float(z),
        float(p),
    )


def srm_pvalue(observed: list[int], expected_shares: list[float]) -> float:
    """Chi-square test that the groups' sizes match the planned shares (a sample-ratio mismatch
    means the assignment or the logging is broken: no verdict should be read)."""
    observed = np.asarray(observed, dtype=float)
    shares = np.asarray(expected_shares, dtype=float)
    if observed.shape != shares.shape or observed.sum() == 0:
        raise ValueError(f"SRM check: {len(observed)} groups observed for {len(shares)} planned shares")
    return float(stats.chisquare(observed, observed.sum() * shares / shares.sum()).pvalue)


def sample_size_mean(
    mde: float,
    sd: float,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    sd_treatment: float | None = None,
) -> int:
    """Users in the control group for Welch's two-sided test to find a difference of `mde` (same
    unit as `sd`) with `power`; the treatment group has `ratio` times as many. A lift that scales
    revenue scales its spread too: give `sd_treatment` (default `sd`)."""
    sd_t = sd if sd_treatment is None else sd_treatment
    if mde <= 0 or sd <= 0 or sd_t <= 0:
        raise ValueError("sample size: the minimum detectable effect and the standard deviations must be > 0")
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return int(np.ceil((sd**2 + sd_t**2 / ratio) * (z / mde) ** 2))


def sample_size_proportion(base: float, mde: float, alpha: float = 0.05, power: float = 0.8, ratio: float = 1.0) -> int:
    """Users in the control group for the two-sided two-proportion test to find a change of `mde`
    (absolute) from the rate `base`; the treatment group has `ratio` times as many."""
    p1, p2 = base, base + mde
    if not (0 < p1 < 1 and 0 < p2 < 1) or mde == 0:
        raise ValueError(f"sample size: rates must stay in (0, 1), got {p1} and {p2}")
    pbar = (p1 + ratio * p2) / (1 + ratio)
    za, zb = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    top = za * np.sqrt(pbar * (1 - pbar) * (1 + 1 / ratio)) + zb * np.sqrt(p1 * (1 - p1) + p2 * (1 - p2) / ratio)
    return int(np.ceil((top / mde) ** 2))


def bucket(experiment_id: str, customer_id: str) -> float:
    """A number in [0, 1) from a keyed hash of (experiment, customer): the same pair always gets
    the same number, different experiments are independent."""
    digest = hashlib.sha256(f"{experiment_id}\x1f{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(experiment_id: str, customer_ids, groups: dict[str, float]) -> list[str]:
    """Each customer's group: the shares of `groups` (in order) cut [0, 1) into intervals and
    the customer's `bucket` falls in one. Deterministic: a rerun assigns the same groups."""
    names = list(groups)
    shares = np.asarray([groups[n] for n in names], dtype=float)
    if (shares < 0).any() or not np.isclose(shares.sum(), 1.0):
        raise ValueError(f"group shares must be >= 0 and sum to 1, got {groups}")
    edges = np.cumsum(shares)[:-1]
    points = np.fromiter((bucket(experiment_id, str(c)) for c in customer_ids), dtype=float)
    return [names[i] for i in np.searchsorted(edges, points, side="right")]
