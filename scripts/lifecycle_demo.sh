#!/usr/bin/env bash
# The model lifecycle on a shop whose behaviour shifts (README, "The model lifecycle"): a
# champion trained on older matured labels, a monitor that raises the trigger, a retrain that
# could not differ (the alert persists and says why), newer labels maturing, a retrain on them,
# the challenger's shadow run, a person's approval, the promotion, the next scoring on the new
# champion, the monitor again, and the decision story published by dbt.
#
# Usage: make lifecycle (CUSTOMERS=20000), or with CLV_LAKE_DIR / CLV_DUCKDB_PATH /
# CLV_MLFLOW_TRACKING_URI pointing somewhere else (the tests run it on a small shop).
set -euo pipefail

BIN=${BIN:-.venv/bin}
CUSTOMERS=${CUSTOMERS:-20000}
SEED=${SEED:-42}
# From July 2023 on every order is worth twice as much: a shift the champion never saw.
SHIFT=${SHIFT:-2023-07-01:2}
OLD_TEST_DATE=${OLD_TEST_DATE:-2023-06-30}
AS_OF=${AS_OF:-2024-12-31}
PREVIOUS_AS_OF=${PREVIOUS_AS_OF:-2024-11-30}

# The story's departures from conf/model.toml (why: in the file); the caller's own overrides,
# if any, come after it and win.
STORY_CONFIG="$(cd "$(dirname "$0")" && pwd)/lifecycle_demo.toml"
export CLV_MODEL_CONFIG="$STORY_CONFIG${CLV_MODEL_CONFIG:+:$CLV_MODEL_CONFIG}"

step() { printf '\n== %s\n' "$*"; }
retrain_needed() {
    local code=0
    "$BIN/clv-jobs" retrain-needed --as-of-date "$AS_OF" || code=$?
    [ "$code" -eq 0 ] || [ "$code" -eq 99 ] || exit "$code"
    return "$code"
}

step "0. Model config overrides: $CLV_MODEL_CONFIG"
grep -v '^#' "$STORY_CONFIG" | grep .

step "1. A shop whose behaviour shifts: from ${SHIFT%%:*} on, orders are worth x${SHIFT##*:}"
"$BIN/clv-jobs" generate --customers "$CUSTOMERS" --seed "$SEED" --spend-shift "$SHIFT"
"$BIN/clv-jobs" check-landing

step "2. The champion learns from labels matured through $OLD_TEST_DATE"
# (dbt's unit tests pin the default test date; this build moves it, as clv-jobs backtest does)
"$BIN/dbt" build --vars "{clv_test_as_of_date: $OLD_TEST_DATE}" --exclude-resource-type unit_test --quiet
"$BIN/clv-jobs" train

step "3. It scores $PREVIOUS_AS_OF and $AS_OF; the monitor compares $AS_OF with what it learned from"
"$BIN/clv-jobs" score --as-of-date "$PREVIOUS_AS_OF"
"$BIN/clv-jobs" score --as-of-date "$AS_OF"
"$BIN/clv-jobs" monitor --as-of-date "$AS_OF"

step "4. Could a retrain clear the alert? Not on the same matured labels"
if retrain_needed; then echo "(a retrain is recommended already)"; fi

step "5. Newer labels mature: the nightly build moves the test date to the newest complete month end"
"$BIN/dbt" build --quiet
if ! retrain_needed; then echo "no retrain recommended: the story ends here" >&2; exit 1; fi

step "6. The retrain slides to the newest matured labels: a challenger"
"$BIN/clv-jobs" train

step "7. The challenger's shadow run beside the champion at $AS_OF (never published)"
"$BIN/clv-jobs" shadow --model-version challenger --as-of-date "$AS_OF"

step "8. A person approves it; it is promoted"
"$BIN/clv-jobs" approve challenger --by "${USER:-analyst}" --reason "shadow within limits; retrained on the labels matured since"
"$BIN/clv-jobs" promote challenger

step "9. The next scoring uses the new champion; the monitor again"
"$BIN/clv-jobs" score --as-of-date "$AS_OF"
"$BIN/clv-jobs" monitor --as-of-date "$AS_OF"
retrain_needed || true

step "10. The story, as dbt publishes it"
"$BIN/dbt" build --selector ml_marts --quiet
"$BIN/clv-jobs" decisions
