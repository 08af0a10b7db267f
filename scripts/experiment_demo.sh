#!/usr/bin/env bash
# Experiments on the demo shop (README, "Experiments"): a champion, a challenger (a tuning
# change) shadowed beside it, a canary of the challenger (1 week), an A/B test of it
# (4 weeks), and an A/A test (the champion against itself: never a win). Each is created,
# its campaign simulated and landed, the warehouse built, analyzed and published.
#
# Usage: make experiments (CUSTOMERS=20000), or with CLV_LAKE_DIR / CLV_DUCKDB_PATH /
# CLV_MLFLOW_TRACKING_URI pointing somewhere else.
set -euo pipefail

BIN=${BIN:-.venv/bin}
CUSTOMERS=${CUSTOMERS:-20000}
SEED=${SEED:-42}
AS_OF=${AS_OF:-2024-12-31}
AUDIENCE=${AUDIENCE:-8000}
WEAK="$(cd "$(dirname "$0")" && pwd)/experiment_demo_challenger.toml"

step() { printf '\n== %s\n' "$*"; }
land_and_build() {
    "$BIN/clv-jobs" check-landing
    "$BIN/clv-jobs" dbt build --quiet
    "$BIN/clv-jobs" dbt build --selector ml_marts --quiet
}
experiment() {  # kind challenger id [simulate options...]
    local kind=$1 version=$2 id=$3
    shift 3
    step "$kind test of version $version: create, simulate the campaign, land, build, analyze"
    "$BIN/clv-jobs" experiment create --kind "$kind" --challenger-version "$version" --audience-size "$AUDIENCE" --experiment-id "$id"
    "$BIN/clv-jobs" experiment simulate "$id" "$@"
    land_and_build
    "$BIN/clv-jobs" experiment analyze "$id"
    "$BIN/clv-jobs" dbt build --selector ml_marts --quiet  # publish the verdict
}
approve() {  # the approval step reads the newest verdict
    "$BIN/clv-jobs" approve 2 --by analyst --reason "$1" || echo "(approval refused: the newest verdict rejects version 2)"
}

step "1. The demo shop, its warehouse, a champion and its scores at $AS_OF"
"$BIN/clv-jobs" generate --customers "$CUSTOMERS" --seed "$SEED"
"$BIN/clv-jobs" check-landing
"$BIN/clv-jobs" dbt build --quiet
"$BIN/clv-jobs" train
"$BIN/clv-jobs" score --as-of-date "$AS_OF"

step "2. A challenger ($WEAK), shadowed beside the champion"
CLV_MODEL_CONFIG="${CLV_MODEL_CONFIG:+$CLV_MODEL_CONFIG:}$WEAK" "$BIN/clv-jobs" train
"$BIN/clv-jobs" shadow --model-version 2 --as-of-date "$AS_OF"
"$BIN/clv-jobs" experiment plan --kind ab --mde 0.1

experiment canary 2 canary-v2
approve "after the canary"
experiment ab 2 ab-v2
approve "after the A/B test"
experiment ab 1 aa-v1

step "3. The verdicts in the warehouse"
"$BIN/dbt" show --quiet --inline "select experiment_id, kind, verdict, days_observed, reasons from {{ ref('fct_experiments') }} order by starts_on" --limit 10
"$BIN/clv-jobs" decisions
