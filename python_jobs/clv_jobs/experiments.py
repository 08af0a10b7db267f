"""Experiments that prove a model's business value (pure; `stages.experiment` does the I/O).

A **canary** sends the next campaign to an audience chosen 95 % by the champion's scores and 5 %
by the challenger's; the challenger passes if its audience converts no worse and unsubscribes no
more (one-sided tests) after a week. An **A/B test** splits customers 50 / 50 by a keyed hash of
(experiment, customer); each arm's audience is chosen by its model; the primary metric is revenue
per user of the whole arm (Welch), after four weeks. In both, an **exploration** share of the
audience is chosen at random (its outcomes are unbiased by any model: training data for later).

Every eligible customer (scored by both models at the scored as-of date) gets a group by
`experiment_stats.assign`; the sample-ratio-mismatch check compares the groups' sizes with the
planned shares and blocks the verdict when they differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from clv_jobs import experiment_stats as es

__all__ = [
    "KINDS",
    "VERDICTS",
    "Design",
    "group_shares",
    "build_assignments",
    "Result",
    "analyze",
]

# The treatment's share of the customers outside exploration; the minimum days are in conf/model.toml.
KINDS = {"canary": {"treatment_share": 0.05}, "ab": {"treatment_share": 0.5}}
VERDICTS = ("adopt", "reject", "inconclusive")


@dataclass(frozen=True)
class Design:
    experiment_id: str
    kind: str
    champion_version: str
    challenger_version: str
    scored_as_of_date: date
    audience_size: int
    exploration_share: float
    starts_on: date
    min_days: int

    @property
    def treatment_share(self) -> float:
        return KINDS[self.kind]["treatment_share"]

    @property
    def campaign_id(self) -> str:
        return f"campaign-{self.experiment_id}"


def group_shares(design: Design) -> dict[str, float]:
    """The planned share of the eligible customers in each group."""
    e, s = design.exploration_share, design.treatment_share
    return {"control": (1 - e) * (1 - s), "treatment": (1 - e) * s, "exploration": e}


def build_assignments(design: Design, champion: pd.Series, challenger: pd.Series) -> pd.DataFrame:
    """Every eligible customer's group, and the audience: the control group's top customers by
    the champion's predicted CLV, the treatment group's top by the challenger's, and a random
    sample of the exploration group (by a second keyed hash), in the planned proportions.

    `champion`, `challenger`: predicted CLV indexed by customer_id (their common customers are
    eligible)."""
    if design.kind not in KINDS:
        raise ValueError(f"experiment kind must be one of {sorted(KINDS)}, not {design.kind!r}")
    if not 0 <= design.exploration_share < 1:
        raise ValueError(f"the exploration share must be in [0, 1), got {design.exploration_share}")
    eligible = champion.index.intersection(challenger.index).sort_values()
    if design.audience_size < 1 or design.audience_size > len(eligible):
        raise ValueError(f"audience size must be between 1 and the {len(eligible):,} eligible customers")
    shares = group_shares(design)
    frame = pd.DataFrame({"customer_id": eligible})
    frame["group_name"] = es.assign(design.experiment_id, frame["customer_id"], shares)
    explore = round(design.audience_size * design.exploration_share)
    by_models = design.audience_size - explore
    treated = max(1, round(by_models * design.treatment_share))
    wanted = {"control": by_models - treated, "treatment": treated, "exploration": explore}
    frame["chosen_by"] = None
    frame["predicted_clv"] = np.nan
    frame["is_targeted"] = False
    for group, version, scores in (
        ("control", design.champion_version, champion),
        ("treatment", design.challenger_version, challenger),
        ("exploration", "random", None),
    ):
        members = frame.index[frame["group_name"] == group]
        if wanted[group] > len(members):
            raise ValueError(
                f"the {group} group has {len(members):,} customers, fewer than the {wanted[group]:,} its audience"
                " needs: lower --audience-size"
            )
        ids = frame.loc[members, "customer_id"]
        if scores is None:  # random, reproducibly: the lowest second hash
            rank = ids.map(lambda c: es.bucket(f"{design.experiment_id}/exploration", c))
            value = pd.Series(challenger.reindex(ids).to_numpy(), index=members)
            chosen = rank.sort_values(kind="stable").index[: wanted[group]]
        else:
            value = pd.Series(scores.reindex(ids).to_numpy(), index=members)
            chosen = value.sort_values(ascending=False, kind="stable").index[: wanted[group]]
        frame.loc[members, "predicted_clv"] = value
        frame.loc[chosen, "is_targeted"] = True
        frame.loc[members, "chosen_by"] = version
    return frame


@dataclass
class Result:
    verdict: str
    reasons: list[str]
    rows: list[dict] = field(default_factory=list)  # one per metric, for ml/experiment_results


def _row(metric: str, role: str, comparison: es.Comparison | None, n_c: int, n_t: int, passed, **extra) -> dict:
    values = {
        "control_value": comparison.control if comparison else None,
        "treatment_value": comparison.treatment if comparison else None,
        "difference": comparison.difference if comparison else None,
        "ci_low": comparison.ci_low if comparison else None,
        "ci_high": comparison.ci_high if comparison else None,
        "relative_lift": comparison.relative_lift if comparison else None,
        "p_value": comparison.p_value if comparison else None,
    }
    return {"metric_name": metric, "role": role, **values, "control_users": n_c, "treatment_users": n_t,
            "is_passed": passed, **extra}  # fmt: skip


def analyze(
    design: Design,
    outcomes: pd.DataFrame,
    days_observed: int,
    scoring_cost_ratio: float | None,
    config: dict,
) -> Result:
    """The verdict of an experiment from its customers' outcomes (one row per assigned customer:
    group_name, is_targeted, revenue_usd, orders, is_unsubscribed), the days of the window
    observed, and the challenger's scoring time over the champion's (its shadow run).

    Canary: adopt when the treatment's audience converts no worse (one-sided) and unsubscribes no
    more (one-sided). A/B: adopt when revenue per user is higher (two-sided Welch), reject when
    lower, else inconclusive; conversion and AOV are reported, unsubscribes and scoring cost guard.
    Either: a sample-ratio mismatch or fewer days than the minimum gives no verdict
    (inconclusive, with the reason)."""
    alpha = config["alpha"]
    groups = {g: outcomes[outcomes["group_name"] == g] for g in ("control", "treatment", "exploration")}
    shares = group_shares(design)
    rows, failed, reasons = [], [], []

    srm_p = es.srm_pvalue([len(groups[g]) for g in shares], list(shares.values()))
    srm_ok = srm_p >= config["srm_alpha"]
    rows.append(
        _row("sample_ratio", "srm", None, len(groups["control"]), len(groups["treatment"]), srm_ok, p_value=srm_p)
    )
    control, treatment = groups["control"], groups["treatment"]
    aud_c, aud_t = control[control["is_targeted"]], treatment[treatment["is_targeted"]]

    conversion = es.two_proportions(
        int((aud_c["orders"] > 0).sum()),
        len(aud_c),
        int((aud_t["orders"] > 0).sum()),
        len(aud_t),
        alpha,
        alternative="less" if design.kind == "canary" else "two-sided",
    )
    unsubscribes = es.two_proportions(
        int(aud_c["is_unsubscribed"].sum()),
        len(aud_c),
        int(aud_t["is_unsubscribed"].sum()),
        len(aud_t),
        alpha,
        alternative="greater",
    )
    unsub_ok = unsubscribes.p_value >= alpha
    rows.append(_row("unsubscribe_rate", "guardrail", unsubscribes, len(aud_c), len(aud_t), unsub_ok))
    if not unsub_ok:
        failed.append(f"unsubscribe rate higher: {unsubscribes.treatment:.2%} vs {unsubscribes.control:.2%}"
                      f" (one-sided p={unsubscribes.p_value:.3g})")  # fmt: skip
    cost_ok = scoring_cost_ratio is None or scoring_cost_ratio <= config["max_scoring_cost_ratio"]
    rows.append(
        _row(
            "scoring_cost_ratio", "guardrail", None, len(aud_c), len(aud_t), cost_ok, treatment_value=scoring_cost_ratio
        )
    )
    if not cost_ok:
        failed.append(
            f"scoring costs {scoring_cost_ratio:.2f}x the champion's (limit {config['max_scoring_cost_ratio']})"
        )

    if design.kind == "canary":
        conv_ok = conversion.p_value >= alpha
        rows.append(_row("conversion_rate", "primary", conversion, len(aud_c), len(aud_t), conv_ok))
        if not conv_ok:
            failed.append(f"converts worse: {conversion.treatment:.2%} vs {conversion.control:.2%}"
                          f" (one-sided p={conversion.p_value:.3g})")  # fmt: skip
        revenue = es.welch(aud_c["revenue_usd"], aud_t["revenue_usd"], alpha)
        rows.append(_row("revenue_per_targeted_user", "secondary", revenue, len(aud_c), len(aud_t), None))
        primary_ok, primary_note = (
            conv_ok,
            f"conversion no worse ({conversion.treatment:.2%} vs {conversion.control:.2%})",
        )
    else:
        revenue = es.welch(control["revenue_usd"], treatment["revenue_usd"], alpha)
        low, high = revenue.relative_ci
        primary_ok = revenue.p_value < alpha and revenue.difference > 0
        rows.append(_row("revenue_per_user", "primary", revenue, len(control), len(treatment), primary_ok))
        primary_note = (
            f"revenue per user {revenue.treatment:,.2f} vs {revenue.control:,.2f} USD,"
            f" lift {revenue.relative_lift:+.1%} (95% CI {low:+.1%} to {high:+.1%}, p={revenue.p_value:.3g})"
        )
        if revenue.p_value < alpha and revenue.difference < 0:
            failed.append(f"earns less: {primary_note}")
        rows.append(_row("conversion_rate", "secondary", conversion, len(aud_c), len(aud_t), None))
        buyers_c, buyers_t = aud_c[aud_c["orders"] > 0], aud_t[aud_t["orders"] > 0]
        if len(buyers_c) > 1 and len(buyers_t) > 1:
            aov = es.welch(buyers_c["revenue_usd"] / buyers_c["orders"], buyers_t["revenue_usd"] / buyers_t["orders"])
            rows.append(_row("average_order_value", "secondary", aov, len(buyers_c), len(buyers_t), None))

    explore = groups["exploration"]
    explore = explore[explore["is_targeted"]]
    if len(explore):
        rows.append(
            _row(
                "exploration_conversion_rate",
                "exploration",
                None,
                0,
                len(explore),
                None,
                treatment_value=float((explore["orders"] > 0).mean()),
            )  # fmt: skip
        )

    if not srm_ok:
        verdict = "inconclusive"
        reasons.append(f"sample ratio mismatch (p={srm_p:.2g} < {config['srm_alpha']}): the assignment or its"
                       " logging is broken, no verdict")  # fmt: skip
    elif days_observed < design.min_days:
        verdict = "inconclusive"
        reasons.append(f"ran {days_observed} of its {design.min_days} days")
    elif failed:
        verdict = "reject"
        reasons.extend(failed)
    elif primary_ok:
        verdict = "adopt"
        reasons.append(primary_note)
    else:
        verdict = "inconclusive"
        reasons.append(f"no significant difference: {primary_note}")
    for row in rows:
        row.update(verdict=verdict, reasons="; ".join(reasons), days_observed=days_observed)
    return Result(verdict, reasons, rows)
