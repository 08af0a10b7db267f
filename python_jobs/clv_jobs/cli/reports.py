"""`clv-jobs` commands that report: the build summary, the decision story and the benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clv_jobs.cli._common import app, bench_app, progress
from clv_jobs.settings import load_settings


@app.command()
def summary(
    run_results: Annotated[
        list[Path], typer.Option(help="dbt run_results.json file(s) whose tests to count; repeat the option.")
    ] = [Path("target/run_results.json")],  # noqa: B006 (typer reads the default; it is never mutated)
) -> None:
    """Print what the last build produced: customers, lines, feature rows, splits, rules, tests."""
    import json

    from clv_jobs import warehouse

    settings = load_settings()
    counts = warehouse.build_summary(settings)
    typer.echo("clv-warehouse: what the build produced")
    for label, value in counts["tables"].items():
        typer.echo(f"  {label:<46} {value:>12,}")
    typer.echo("  training examples by split:     " + ", ".join(f"{k} {v:,}" for k, v in counts["splits"].items()))
    typer.echo("  cleaning rules (rows affected / rows seen):")
    for rule in counts["rules"]:
        typer.echo(
            f"    {rule['source_table'] + '.' + rule['rule_name']:<52} {rule['rule_action']:<22} "
            f"{rule['rows_affected']:>10,} / {rule['rows_in']:,}"
        )
    ml = warehouse.ml_summary(settings)
    if ml is not None and ml["evaluations"]:
        _print_champion_table(ml["champion"], ml["evaluations"])
    if ml is not None and ml["tiers"]:
        first = ml["tiers"][0]
        typer.echo(
            f"  scores at {first['as_of_date']} (model version {first['model_version']}; value over the model's "
            "horizon, fct_clv_scores.horizon_days), by value tier:"
        )
        order = {"platinum": 0, "gold": 1, "silver": 2, "bronze": 3}
        for row in sorted(ml["tiers"], key=lambda r: order.get(r["value_tier"], 9)):
            typer.echo(
                f"    {row['value_tier']:<10} {int(row['customers']):>8,} customers, mean predicted value "
                f"${row['predicted_clv_mean']:>9,.2f}, mean churn probability {row['churn_probability_mean']:.2f}"
            )
        for row in ml["decisions"]:
            typer.echo(f"  registry: version {row['model_version']} -> {row['decision']} ({row['reasons']})")
        for row in ml["monitoring"]:
            typer.echo(
                f"  drift at {row['as_of_date']} (model version {row['model_version']}): {row['drift_status']} "
                f"({row['columns_alert']} columns alert, {row['columns_warn']} warn; predictions "
                f"{row['prediction_drift_status']})"
            )
            verdict = "retrain recommended" if row["is_retrain_recommended"] else "no retrain needed"
            typer.echo(f"  monitor decision: {verdict} ({row['reasons']})")
        for row in ml["backtests"]:
            typer.echo(
                f"  realized backtest of the scores at {row['scored_as_of_date']} (version {row['model_version']}, "
                f"{int(row['customers']):,} customers): RMSE {row['rmse']:,.1f}, normalized Gini "
                f"{row['normalized_gini']:.3f} (at training: {row['test_normalized_gini']:.3f})"
            )
        reports = sorted(settings.reports_dir.glob("model-*/model_card.md"))
        if reports:
            typer.echo(f"  model card: {reports[-1]}  (champion vs baselines table inside)")
        typer.echo("  MLflow UI: .venv/bin/mlflow ui --backend-store-uri sqlite:///mlflow.db")
        typer.echo(
            "  tables: marts.fct_clv_scores, marts.dim_customer_clv, marts.rpt_clv_segments, marts.fct_feature_drift,"
            " marts.fct_model_backtest, marts.fct_monitor_runs, marts.fct_model_decisions"
        )
    existing = [path for path in run_results if path.exists()]
    if existing:
        results = [r for path in existing for r in json.loads(path.read_text())["results"]]
        statuses: dict[str, int] = {}
        for result in results:
            if result["unique_id"].startswith(("test.", "unit_test.")):
                statuses[result["status"]] = statuses.get(result["status"], 0) + 1
        typer.echo("  dbt tests: " + ", ".join(f"{n} {status}" for status, n in sorted(statuses.items())))
        if any(status not in {"pass"} for status in statuses):
            raise typer.Exit(code=1)


@app.command()
def decisions(
    limit: Annotated[int, typer.Option(help="Show the last N decisions.", min=1)] = 50,
) -> None:
    """Print the model lifecycle as dbt published it (marts.fct_model_decisions), oldest first:
    when, which version, what happened, who decided and why."""
    from clv_jobs import warehouse

    rows = warehouse.read_mart(
        load_settings(),
        "(select decided_at, model_version, decision, decided_by, reasons from marts.fct_model_decisions) as d",
    ).sort_values("decided_at", kind="stable")
    if rows.empty:
        typer.echo("no decisions published yet: run `dbt build --selector ml_marts` after train")
        return
    typer.echo("model decisions (marts.fct_model_decisions), oldest first:")
    for row in rows.tail(limit).itertuples():
        reasons = row.reasons if len(row.reasons) <= 140 else row.reasons[:137] + "..."
        typer.echo(
            f"  {row.decided_at:%Y-%m-%d %H:%M:%S}  v{row.model_version:<3} {row.decision:<24} "
            f"by {row.decided_by:<12} {reasons}"
        )


def _print_champion_table(version: str, evaluations: list[dict]) -> None:
    metrics = ["rmse", "mae", "normalized_gini", "top10_capture", "bias"]
    values = {(r["model_name"], r["metric_name"]): r["metric_value"] for r in evaluations}
    models = ["xgboost"] + sorted({r["model_name"] for r in evaluations} - {"xgboost", "oracle"})
    if ("oracle", "rmse") in values:
        models.append("oracle")
    typer.echo(f"  champion (model version {version}) vs baselines on its test as-of date:")
    typer.echo("    " + f"{'model':<20}" + "".join(f"{m:>17}" for m in metrics))
    for model in models:
        label = "xgboost (champion)" if model == "xgboost" else model
        cells = "".join(f"{values.get((model, m), float('nan')):>17,.3f}" for m in metrics)
        typer.echo(f"    {label:<20}{cells}")


@bench_app.command("features")
def bench_features(
    customers: Annotated[
        list[int], typer.Option("--customers", help="Scale(s) to run; repeat the option for several.")
    ] = [100_000, 1_000_000],  # noqa: B006 (typer reads the default; it is never mutated)
    as_of_first: Annotated[str, typer.Option(help="First as-of date of the spine.")] = "2023-01-31",
    as_of_last: Annotated[str, typer.Option(help="Last as-of date (12 month ends by default).")] = "2023-12-31",
    work_dir: Annotated[Path, typer.Option(help="Scratch folder for the lakes and DuckDB files.")] = Path(".bench"),
) -> None:
    """Generate + dbt build at each scale; print seconds and peak memory (MB) of each step."""
    from clv_jobs import bench

    rows = bench.bench_features(customers, work_dir, load_settings().dbt_project_dir, as_of_first, as_of_last)
    header = [
        "customers",
        "transaction_lines",
        "feature_rows",
        "generate_s",
        "generate_peak_mb",
        "dbt_build_s",
        "dbt_build_peak_mb",
    ]
    typer.echo(" | ".join(header))
    for row in rows:
        typer.echo(" | ".join(f"{row[h]:,}" if isinstance(row[h], int) else str(row[h]) for h in header))


@bench_app.command("landing")
def bench_landing_command(
    customers: Annotated[
        list[int], typer.Option("--customers", help="Scale(s) to run; repeat the option for several.")
    ] = [100_000, 1_000_000],  # noqa: B006 (typer reads the default; it is never mutated)
    work_dir: Annotated[Path, typer.Option(help="Scratch folder for the lakes.")] = Path(".bench"),
) -> None:
    """check-landing at each scale: the first check of a whole lake, then one new day."""
    from clv_jobs import bench

    rows = bench.bench_landing(customers, work_dir, load_settings().dbt_project_dir)
    typer.echo(" | ".join(rows[0]))
    for row in rows:
        typer.echo(" | ".join(f"{v:,}" if isinstance(v, int) else str(v) for v in row.values()))


@bench_app.command("nightly")
def bench_nightly_command(
    customers: Annotated[
        list[int], typer.Option("--customers", help="Scale(s) to run; repeat the option for several.")
    ] = [100_000, 1_000_000],  # noqa: B006 (typer reads the default; it is never mutated)
    work_dir: Annotated[Path, typer.Option(help="Scratch folder for the lakes and DuckDB files.")] = Path(".bench"),
) -> None:
    """The nightly build after one new day, incremental against --full-refresh, at each scale."""
    from clv_jobs import bench

    for row in bench.bench_nightly(customers, work_dir, load_settings().dbt_project_dir):
        typer.echo(" | ".join(f"{k}: {v:,}" if isinstance(v, int) else f"{k}: {v}" for k, v in row.items()))


@bench_app.command("scoring")
def bench_scoring_command(
    customers: Annotated[
        int, typer.Option(help="Rows to score (the warehouse's customers, tiled).", min=1)
    ] = 1_000_000,
    as_of_date: Annotated[str, typer.Option(help="As-of date whose features are tiled.")] = "2024-12-31",
    work_dir: Annotated[Path, typer.Option(help="Scratch folder for the DuckDB file and lake.")] = Path(".bench"),
) -> None:
    """Time `clv-jobs score`'s steps at scale with the champion (run `make demo` first), with
    exact SHAP reasons and with the approximation."""
    from clv_jobs import bench

    rows = bench.bench_scoring(customers, load_settings(), as_of_date, work_dir, progress=progress)
    typer.echo(" | ".join(rows[0]))
    for row in rows:
        typer.echo(" | ".join(f"{v:,}" if isinstance(v, int) else str(v) for v in row.values()))
