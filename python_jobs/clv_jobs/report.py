"""Evaluation report of a training run: metric tables, plots and the model card (files)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no screen

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from clv_jobs import evaluate

__all__ = ["metrics_table", "slice_table", "write_plots", "shap_importance", "model_card", "add_oracle"]


def add_oracle(
    test: pd.DataFrame, columns: list[str], lake_dir: Path | str, as_of, horizon_days: int
) -> tuple[pd.DataFrame, str]:
    """The synthetic generator's oracle as `pred_oracle` (appended to `columns`; customers it
    does not list expect 0) when the lake has one for this as-of date and horizon. Returns the
    frame and a note saying which."""
    from clv_jobs.lake import LakeRoot

    root, partition = LakeRoot(lake_dir), ("oracle", "expected_revenue", f"as_of_date={as_of}")
    if not root.exists(*partition):
        return test, "no oracle (real data)"
    oracle = root.read(*partition)
    if int(oracle["horizon_days"].iloc[0]) != horizon_days:
        return test, f"no oracle: the lake's oracle is for a {int(oracle['horizon_days'].iloc[0])}-day horizon"
    oracle = oracle[["customer_id", "expected_revenue_usd"]].rename(columns={"expected_revenue_usd": "pred_oracle"})
    test = test.merge(oracle, on="customer_id", how="left")
    test["pred_oracle"] = test["pred_oracle"].fillna(0.0)
    columns.append("pred_oracle")
    return test, "oracle: the generator's expected revenue from the latent rates"


def metrics_table(test: pd.DataFrame, label: str, prediction_columns: list[str]) -> pd.DataFrame:
    """One row per model (pred_<name> columns): headline metrics on the test rows."""
    rows = []
    for column in prediction_columns:
        rows.append({"model": column.removeprefix("pred_"), **evaluate.regression_metrics(test[label], test[column])})
    return pd.DataFrame(rows)


def slice_table(test: pd.DataFrame, label: str, column: str, slices: list[str]) -> pd.DataFrame:
    frames = []
    for slice_name in slices:
        table = evaluate.metrics_by_slice(test[label], test[column], test[slice_name])
        table.insert(0, "slice_name", slice_name)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def shap_importance(contributions: np.ndarray, feature_names: list[str]) -> pd.Series:
    """Mean |SHAP| per input feature, one-hot columns summed back to their categorical."""
    mean_abs = np.abs(contributions[:, :-1]).mean(axis=0)
    groups = [name.split("=", 1)[0] for name in feature_names]
    return pd.Series(mean_abs, index=groups).groupby(level=0).sum().sort_values(ascending=False)


def write_plots(
    test: pd.DataFrame, label: str, prediction_columns: list[str], importance: pd.Series, out_dir: Path
) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    fig, ax = plt.subplots(figsize=(6, 5))
    for column in prediction_columns:
        x, y = evaluate.lorenz_curve(test[label], test[column])
        ax.plot(x, y, label=column.removeprefix("pred_"))
    ax.plot([0, 1], [0, 1], "k--", linewidth=0.8, label="random")
    ax.set_xlabel("share of customers (by prediction, highest first)")
    ax.set_ylabel("share of realized revenue")
    ax.set_title("Lorenz curves on the test as-of date")
    ax.legend(fontsize=8)
    paths.append(out_dir / "lorenz.png")
    fig.savefig(paths[-1], dpi=110, bbox_inches="tight")
    plt.close(fig)

    table = evaluate.decile_table(test[label], test["pred_xgboost"])
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.bar(table["decile"] - 0.2, table["mean_predicted"], width=0.4, label="predicted")
    ax.bar(table["decile"] + 0.2, table["mean_actual"], width=0.4, label="realized")
    ax.set_xlabel("decile of predicted CLV (1 = highest)")
    ax.set_ylabel("mean revenue over the horizon (USD)")
    ax.set_title("Calibration by decile (XGBoost)")
    ax.legend()
    paths.append(out_dir / "calibration_deciles.png")
    fig.savefig(paths[-1], dpi=110, bbox_inches="tight")
    plt.close(fig)

    top = importance.head(15)[::-1]
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.barh(top.index, top.values)
    ax.set_xlabel("mean |SHAP value| (USD)")
    ax.set_title("Global feature importance (XGBoost contributions)")
    paths.append(out_dir / "shap_importance.png")
    fig.savefig(paths[-1], dpi=110, bbox_inches="tight")
    plt.close(fig)
    return paths


def _markdown(frame: pd.DataFrame, floatfmt: str = ".3f") -> str:
    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = []
    for _, row in frame.iterrows():
        cells = [format(v, floatfmt) if isinstance(v, float) else str(v) for v in row]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join([head, rule, *rows])


def _carried(as_of: dict) -> str:
    if as_of.get("label_days", as_of["horizon_days"]) >= as_of["horizon_days"]:
        return ""
    return (
        f"\nThe history is too short for {as_of['horizon_days']}-day training labels: the model learned "
        f"{as_of['label_days']} days and carries each customer to {as_of['horizon_days']} by BG/NBD's ratio of "
        f"expected purchases; its churn probability is of no purchase within "
        f"{min(180, as_of['label_days'])} days (ADR 0015)."
    )


def model_card(
    *,
    model_version: str,
    run_id: str,
    as_of: dict[str, str],
    rows: dict[str, int],
    objective: str,
    metrics: pd.DataFrame,
    slices: pd.DataFrame,
    fairness: dict,
    gate_reasons: list[str],
    decision: str,
    importance: pd.Series,
) -> str:
    """Markdown: intended use, data, metrics against every baseline, slices, fairness, limitations."""
    gates = "all gates passed" if not gate_reasons else "; ".join(gate_reasons)
    top = ", ".join(importance.head(5).index)
    return f"""# Model card: clv-xgboost version {model_version}

MLflow run `{run_id}`. Decision: **{decision}** ({gates}).

## Intended use
Rank and value existing customers (at least one purchase) by predicted net revenue over the next
{as_of["horizon_days"]} days, for marketing prioritisation and value tiers. Not for individual
credit, pricing or eligibility decisions; not for customers without purchase history.

## Data
`fct_clv_training_examples`: train as-of dates {as_of["train_first"]} to {as_of["train_last"]}
({rows["train"]:,} rows), validation {as_of["valid"]} ({rows["valid"]:,}), test {as_of["test"]}
({rows["test"]:,}). Every training and validation label window ends on or before the test date.{_carried(as_of)}
Chosen on validation among the model families: {objective}. Top reasons: {top}.

## Metrics on the test as-of date, against every baseline
{_markdown(metrics)}

## Slices (the candidate)
{_markdown(slices[["slice_name", "slice_value", "rows", "rmse", "normalized_gini", "bias"]])}

## Fairness
Disparate-impact ratio of mean prediction across `{fairness["slice"]}`: {fairness["ratio"]:.3f}
(the gate requires at least {fairness["threshold"]}, unless a ratio this low is likely by chance:
permutation p = {fairness["p_value"]:.3f}, the gate fails below {fairness["alpha"]}).

## Limitations
Trained on one shop's history; seasonality is learnt only through the as-of dates seen in
training. Predictions ignore discounting and margin. Customers whose behaviour changes after the
as-of date (promotions, new channels) are outside what the features can see.
"""
