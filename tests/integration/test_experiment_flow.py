"""A challenger's experiments as a newcomer runs them on the demo shop: a canary, then an A/B
test with a planted lift, each created, simulated, landed, built, analyzed and published; the
verdicts reach the tables and the approval step."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from conftest import AS_OF, clv_jobs

pytestmark = pytest.mark.slow

WEAK = """
[xgboost]
seed = 7
colsample_bytree = 0.6
"""


def land_and_build(env: dict) -> None:
    clv_jobs(env, "check-landing")
    clv_jobs(env, "dbt", "build")
    clv_jobs(env, "dbt", "build", "--selector", "ml_marts")


@pytest.fixture(scope="module")
def challenger(product):
    """A second model (a tuning change) registered as challenger and shadowed beside the champion."""
    from pathlib import Path

    weak = Path(product["WORK"]) / "weak.toml"
    weak.write_text(WEAK)
    env = {**product, "CLV_MODEL_CONFIG": f"{product['CLV_MODEL_CONFIG']}:{weak}"}
    assert "decision: challenger" in clv_jobs(env, "train")
    assert "shadow passed" in clv_jobs(product, "shadow", "--model-version", "2", "--as-of-date", AS_OF)
    return product


def query(env: dict, sql: str, *params):
    with duckdb.connect(env["CLV_DUCKDB_PATH"], read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def test_a_canary_then_an_ab_test_reach_the_tables_and_the_approval(challenger):
    env = challenger
    created = clv_jobs(
        env, "experiment", "create", "--kind", "canary", "--challenger-version", "2", "--audience-size", "800"
    )
    assert "experiment canary-v2-2025-01-01: canary, challenger 2 vs champion 1" in created
    audience = pd.read_csv(f"{env['CLV_REPORTS_DIR']}/experiments/canary-v2-2025-01-01/audience.csv")
    assert audience["group_name"].value_counts().to_dict() == {"control": 684, "exploration": 80, "treatment": 36}
    assert set(audience["campaign_id"]) == {"campaign-canary-v2-2025-01-01"}

    clv_jobs(env, "experiment", "simulate", "canary-v2-2025-01-01")
    land_and_build(env)
    canary = clv_jobs(env, "experiment", "analyze", "canary-v2-2025-01-01")
    for line in (
        "srm         sample_ratio",
        "guardrail   unsubscribe_rate",
        "primary     conversion_rate",
        "verdict: ",
    ):
        assert line in canary

    # The A/B test starts after the canary's week. At 2,000 customers organic purchases swamp a
    # realistic effect (see `experiment plan`): the planted lift makes its audience nearly all buy.
    created = clv_jobs(
        env, "experiment", "create", "--kind", "ab", "--challenger-version", "2", "--audience-size", "1200"
    )
    assert "experiment ab-v2-2025-01-08: ab" in created
    clv_jobs(env, "experiment", "simulate", "ab-v2-2025-01-08", "--true-lift", "10")
    land_and_build(env)
    ab = clv_jobs(env, "experiment", "analyze", "ab-v2-2025-01-08")
    assert "verdict: ADOPT: revenue per user" in ab and "95% CI" in ab
    clv_jobs(env, "dbt", "build", "--selector", "ml_marts")  # publish the verdict

    published = query(env, "select experiment_id, kind, verdict, days_observed from marts.fct_experiments order by 1")
    assert [(e, k, d) for e, k, _, d in published] == [
        ("ab-v2-2025-01-08", "ab", 28),
        ("canary-v2-2025-01-01", "canary", 7),
    ]
    assert published[0][2] == "adopt"
    primary = query(
        env,
        "select relative_lift, ci_low, ci_high, p_value from marts.fct_experiment_results"
        " where experiment_id = ? and metric_role = 'primary'",
        "ab-v2-2025-01-08",
    )[0]
    assert primary[0] > 0 and primary[1] > 0 and primary[3] < 0.05
    # every assigned customer is in the outcomes, each window's orders attributed
    counts = query(
        env,
        "select o.experiment_id, count(*), sum(o.orders) from marts.fct_experiment_outcomes as o group by 1 order by 1",
    )
    eligible = query(env, "select count(*) from marts.dim_customer_clv where as_of_date = ?", AS_OF)[0][0]
    assert [c[1] for c in counts] == [eligible, eligible] and all(c[2] > 0 for c in counts)
    decisions = query(
        env, "select decision from marts.fct_model_decisions where model_version = '2' order by decided_at"
    )
    assert [d for (d,) in decisions][-4:] == [
        "experiment_created",
        query(env, "select 'experiment_' || case verdict when 'adopt' then 'adopted' when 'reject' then 'rejected'"
                   " else 'inconclusive' end from marts.fct_experiments where kind = 'canary'")[0][0],
        "experiment_created",
        "experiment_adopted",
    ]  # fmt: skip
    # an adopted experiment lets a person approve the challenger
    assert "approved" in clv_jobs(env, "approve", "2", "--by", "ana", "--reason", "the A/B test won")
