"""The monitor stage: drift of the features and predictions at an as-of date (against the
model's newest training population and against the previous scored date), the 30-day proxy and
KPI cohorts of every scored date whose 30 days have passed, the realized backtests of every
matured scored date, the retrain decision and the tiered alerts; each lands in its lake
partition (as_of_date=D)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from clv_jobs import alerts, lake, landing, ml_contracts, monitor, registry, warehouse
from clv_jobs.model import load_model_config
from clv_jobs.settings import Settings
from clv_jobs.stages.evaluate import PROXY_METRIC, landed_metric
from clv_jobs.stages.score import features_at, scored_dates

__all__ = ["MonitorOutcome", "run_monitor"]


@dataclass
class MonitorOutcome:
    as_of_date: date
    model_version: str
    drift: pd.DataFrame
    backtests: pd.DataFrame
    proxy: pd.DataFrame
    decision: monitor.RetrainDecision
    alerts: list[alerts.Alert]


def _read_scores(root: lake.LakeRoot, as_of: date) -> pd.DataFrame:
    partition = ("ml", "scores", f"as_of_date={as_of}")
    if not root.exists(*partition):
        raise ValueError(
            f"no scores at {as_of} ({root.uri(*partition)}): run `clv-jobs score --as-of-date {as_of}` first"
        )
    return root.read(*partition)


def _drift(settings, root, model, version, as_of_date, scores, limits, progress) -> pd.DataFrame:
    """Drift against the training reference and, when there is one, the previous scored date."""
    features = features_at(settings, as_of_date, progress)
    current = features.merge(scores[["customer_id", *monitor.PREDICTIONS]], on="customer_id", how="left")
    baseline = model.drift_baseline
    parts = [
        monitor.drift_table(baseline, current, limits["psi_warn"], limits["psi_alert"]).assign(
            reference="training", reference_as_of_date=baseline.get("as_of_date")
        )
    ]
    earlier = [d for d in scored_dates(settings.lake_dir) if d < as_of_date]
    if earlier:
        previous = earlier[-1]
        prev_scores = _read_scores(root, previous)
        prev = features_at(settings, previous, progress).merge(
            prev_scores[["customer_id", *monitor.PREDICTIONS]], on="customer_id", how="left"
        )
        kinds = {name: ref["kind"] for name, ref in baseline["columns"].items()}
        reference = monitor.drift_baseline(
            prev,
            [n for n, k in kinds.items() if k == "numeric"],
            [n for n, k in kinds.items() if k == "categorical"],
            {name: prev[name] for name in monitor.PREDICTIONS},
            bins=baseline["bins"],
            as_of_date=str(previous),
        )
        parts.append(
            monitor.drift_table(reference, current, limits["psi_warn"], limits["psi_alert"]).assign(
                reference="previous_scoring", reference_as_of_date=str(previous)
            )
        )
    drift = pd.concat(parts, ignore_index=True)
    drift["reference_as_of_date"] = pd.to_datetime(drift["reference_as_of_date"]).dt.date
    for reference, part in drift.groupby("reference", sort=False):
        progress(
            f"drift of {len(part)} columns against {reference}: "
            + ", ".join(f"{n} {s}" for s, n in part["status"].value_counts().items())
        )
    return drift


def _proxy(settings, root, dates: list[date], window: int, max_drop: float, progress) -> tuple[pd.DataFrame, list]:
    """The 30-day proxy and KPI cohorts of each scored date in `dates` (their window has passed)."""
    proxy_rows, cohort_rows = [], []
    if not dates:
        columns = [c for c in ml_contracts.ML_TABLES["proxy"].column_names if c != "monitored_at"]
        return pd.DataFrame(columns=columns).astype({"is_triggered": bool}), cohort_rows
    references = landed_metric(settings.lake_dir, PROXY_METRIC)
    in_list = ", ".join(f"'{d}'" for d in dates)
    realized = warehouse.read_mart(
        settings,
        "(select customer_id, as_of_date, revenue_next_30d_usd, purchase_days_next_30d"
        f" from marts.fct_customer_labels where as_of_date in ({in_list})) as l",
    )
    realized["as_of_date"] = pd.to_datetime(realized["as_of_date"]).dt.date
    progress(f"30-day proxy and KPI cohorts of the scores at {', '.join(map(str, dates))}")
    for scored in dates:
        scores = _read_scores(root, scored)
        joined = scores.merge(realized[realized["as_of_date"] == scored], on="customer_id", how="inner")
        for version, part in joined.groupby("model_version"):
            figures = monitor.proxy_metrics(part["predicted_clv"], part["revenue_next_30d_usd"])
            reference = references.get(str(version), float("nan"))
            drop = monitor.relative_drop(figures["spearman"], reference)
            proxy_rows.append(
                {
                    "scored_as_of_date": scored,
                    "model_version": str(version),
                    "window_days": window,
                    **figures,
                    "reference_spearman": reference,
                    "relative_drop": drop,
                    "is_triggered": bool(drop == drop and drop > max_drop),
                }
            )
            for row in monitor.kpi_cohorts(
                part["predicted_clv"], part["revenue_next_30d_usd"], part["purchase_days_next_30d"]
            ):
                cohort_rows.append(
                    {"scored_as_of_date": scored, "model_version": str(version), "window_days": window, **row}
                )
    return pd.DataFrame(proxy_rows), cohort_rows


def run_monitor(settings: Settings, as_of_date: date, progress=lambda m: None) -> MonitorOutcome:
    """Drift, proxy, backtests, the retrain decision and the alerts at `as_of_date`; each lands
    in its lake partition (as_of_date=D) and the alerts are routed by tier (`alerts`)."""
    config = load_model_config()
    limits = {**config["monitor"], "min_normalized_gini": config["gates"]["min_normalized_gini"]}
    root = lake.LakeRoot(settings.lake_dir)
    scores = _read_scores(root, as_of_date)
    versions = scores["model_version"].unique().tolist()
    if len(versions) != 1:
        raise ValueError(
            f"{root.uri('ml', 'scores', f'as_of_date={as_of_date}')}: expected one model version, found {versions}"
        )
    version = str(versions[0])
    model = registry.load_model_version(version)
    if model.drift_baseline is None:
        raise ValueError(
            f"model version {version} has no drift baseline (trained before monitoring existed): "
            f"retrain with `clv-jobs train` and score again"
        )
    drift = _drift(settings, root, model, version, as_of_date, scores, limits, progress)

    scored = scored_dates(settings.lake_dir)
    window = int(limits["proxy_window_days"])
    proxied = [d for d in scored if pd.Timestamp(d) + pd.Timedelta(days=window) <= pd.Timestamp(as_of_date)]
    # Only the scored dates of the last 13 months: older windows say little about today's model.
    proxied = [d for d in proxied if pd.Timestamp(d) >= pd.Timestamp(as_of_date) - pd.DateOffset(months=13)]
    proxy, cohorts = _proxy(settings, root, proxied, window, limits["max_proxy_drop"], progress)

    horizon = model.horizon_days
    matured = [d for d in scored if pd.Timestamp(d) + pd.Timedelta(days=horizon) <= pd.Timestamp(as_of_date)]
    backtests = _realized_backtests(settings, matured, horizon, progress)
    # The triggers judge the model now scoring: the proxy of dates an earlier champion scored
    # is published, but says nothing about this one.
    own_proxy = proxy[proxy["model_version"] == version]
    decision = monitor.retrain_decision(drift, backtests, limits, own_proxy)
    raised = monitor.monitor_alerts(drift, own_proxy, limits["key_features"], limits)

    monitored_at = registry.now_utc()
    lake_dir = settings.lake_dir
    ml_contracts.write(lake_dir, "drift", as_of_date, drift.assign(model_version=version, monitored_at=monitored_at))
    ml_contracts.write(lake_dir, "backtests", as_of_date, backtests.assign(monitored_at=monitored_at))
    ml_contracts.write(lake_dir, "proxy", as_of_date, proxy.assign(monitored_at=monitored_at))
    cohort_columns = [c for c in ml_contracts.ML_TABLES["kpi_cohorts"].column_names if c != "monitored_at"]
    cohort_frame = pd.DataFrame(cohorts, columns=cohort_columns).assign(monitored_at=monitored_at)
    ml_contracts.write(lake_dir, "kpi_cohorts", as_of_date, cohort_frame)
    training = drift[drift["reference"] == "training"]
    status = training["status"]
    proxy_status = "pending" if own_proxy.empty else ("alert" if own_proxy["is_triggered"].any() else "ok")
    run = {
        "model_version": version,
        "drift_status": _worst(status),
        "prediction_drift_status": _worst(status[training["feature_kind"] == "prediction"]),
        "columns_warn": int((status == "warn").sum()),
        "columns_alert": int((status == "alert").sum()),
        "backtests": len(backtests),
        "proxy_status": proxy_status,
        "retrain": decision.retrain,
        "reasons": "; ".join(decision.reasons) or "no drift alert, no proxy drop, no matured backtest below its limits",
        "monitored_at": monitored_at,
    }
    ml_contracts.write(lake_dir, "monitor_runs", as_of_date, [run])
    alerts.raise_alerts(lake_dir, raised, raised_by="monitor", model_version=version, as_of_date=as_of_date)
    ml_contracts.ensure_tables(lake_dir)
    if alerts.put_monitor_metrics(decision.retrain, run["columns_alert"], run["columns_warn"]):
        progress(f"CloudWatch {alerts.NAMESPACE}/RetrainRecommended = {int(decision.retrain)}")
    return MonitorOutcome(as_of_date, version, drift, backtests, proxy, decision, raised)


def _worst(status: pd.Series) -> str:
    for level in ("alert", "warn"):
        if (status == level).any():
            return level
    return "ok"


def _realized_backtests(settings: Settings, dates: list[date], horizon: int, progress) -> pd.DataFrame:
    """Scores at each date against the revenue customers then realized (inner join; scored
    customers without a complete label are counted, not hidden)."""
    rows, test_ginis = [], {}
    if dates:
        test_ginis = landed_metric(settings.lake_dir, "normalized_gini")
        progress(f"realized backtest of the scores at {', '.join(map(str, dates))} (horizon matured)")
        in_list = ", ".join(f"'{d}'" for d in dates)
        labels = warehouse.read_mart(
            settings,
            "(select customer_id, as_of_date, revenue_next_horizon_usd from marts.fct_customer_labels"
            f" where is_label_complete and as_of_date in ({in_list})) as l",
        )
        labels["as_of_date"] = pd.to_datetime(labels["as_of_date"]).dt.date
    root = lake.LakeRoot(settings.lake_dir)
    for scored in dates:
        scores = root.read("ml", "scores", f"as_of_date={scored}")
        realized = labels[labels["as_of_date"] == scored]
        joined = scores.merge(realized, on="customer_id", how="inner")
        # Scores made before a late or changed landing of the window they cover were made on
        # a history that has since been restated: the comparison says so.
        window_end = pd.Timestamp(scored) + pd.Timedelta(days=horizon + 1)
        restated = landing.restated_since(settings.lake_dir, scores["scored_at"].min(), window_end)
        if restated:
            progress(
                f"warning: the scores at {scored} predate a restatement of the history they cover "
                f"({len(restated)} file(s), e.g. {restated[0]}): their backtest compares against restated labels"
            )
        for version, part in joined.groupby("model_version"):
            rows.append(
                {
                    "scored_as_of_date": scored,
                    "model_version": str(version),
                    "horizon_days": horizon,
                    **monitor.backtest_metrics(part["predicted_clv"], part["revenue_next_horizon_usd"]),
                    "customers_unlabelled": int((scores["model_version"] == version).sum() - len(part)),
                    "test_normalized_gini": test_ginis.get(str(version), float("nan")),
                    "is_history_restated": bool(restated),
                }
            )
    columns = [c for c in ml_contracts.ML_TABLES["backtests"].column_names if c != "monitored_at"]
    return pd.DataFrame(rows, columns=columns)
