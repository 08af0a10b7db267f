"""land_next_day: one more day in every raw table, which the landing guard accepts as new."""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow.compute as pc
import pyarrow.parquet as pq

from clv_jobs import landing, registry
from clv_jobs.datasets import synthetic_lake as lake_writer
from conftest import copy_lake


def test_the_next_day_copies_the_newest_day_with_new_ids_and_the_guard_accepts_it(tmp_path, synthetic_lake):
    lake_dir = copy_lake(synthetic_lake, tmp_path / "lake")
    landing.check_landing(lake_dir, registry.now_utc())
    newest = {name: landing.landed_files(lake_dir, name)[-1] for name in ("transactions", "events", "customers")}

    day = lake_writer.land_next_day(lake_dir)

    assert day == "2025-01-01"
    for name, before in newest.items():
        after = landing.landed_files(lake_dir, name)[-1]
        assert after.parent.name == f"ingest_date={day}"
        old, new = pq.read_table(before), pq.read_table(after)
        if name == "transactions":  # orders only: no copied return can exceed what was bought
            assert min(new["Quantity"].to_pylist()) > 0
            old = old.filter(pc.greater(old["Quantity"], 0))
        assert new.num_rows == old.num_rows > 0
        column = landing.EVENT_TIME_COLUMNS[name]
        assert {t.date() for t in new.column(column).to_pylist()} == {date(2025, 1, 1)}
        assert [t + timedelta(days=1) for t in old.column(column).to_pylist()] == new.column(column).to_pylist()
    events = pq.read_table(landing.landed_files(lake_dir, "events")[-1])
    old_events = pq.read_table(newest["events"])
    assert min(events.column("event_id").to_pylist()) > max(old_events.column("event_id").to_pylist())
    invoices = {
        i.lstrip("C")
        for i in pq.read_table(landing.landed_files(lake_dir, "transactions")[-1])["InvoiceNo"].to_pylist()
    }
    assert not invoices & {i.lstrip("C") for i in pq.read_table(newest["transactions"])["InvoiceNo"].to_pylist()}
    report = landing.check_landing(lake_dir, registry.now_utc())
    assert len(report.accepted) == 3 and not report.quarantined


def test_nothing_to_copy_lands_nothing(tmp_path):
    assert lake_writer.land_next_day(tmp_path) is None
