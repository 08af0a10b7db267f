"""Judging dbt's sources.json: the stalest source first, ties by name, whatever order dbt's
threads finished in."""

from __future__ import annotations

import json
import random

from clv_jobs import freshness


def _result(name: str, status: str, age_days: float) -> dict:
    return {
        "unique_id": f"source.clv_warehouse.{name}",
        "status": status,
        "max_loaded_at": "2024-12-31T00:00:00",
        "max_loaded_at_time_ago_in_s": age_days * 86400,
        "criteria": {"warn_after": {"count": 2, "period": "day"}, "error_after": {"count": 3, "period": "day"}},
    }


def test_stale_sources_come_stalest_first_then_by_name_in_any_dbt_order(tmp_path):
    results = [
        _result("web.events", "error", 15.0),
        _result("shop.transactions", "error", 15.0),
        _result("shop.customers", "error", 15.0),
        _result("crm.campaign_events", "error", 16.0),
        _result("landing.landed_files", "pass", 1.0),
        _result("shop.returns", "warn", 2.5),
    ]
    orders = set()
    for seed in range(5):
        random.Random(seed).shuffle(results)
        path = tmp_path / "sources.json"
        path.write_text(json.dumps({"results": results}))
        orders.add(tuple(r.source for r in freshness.read_sources_json(path)))
    assert orders == {
        (
            "crm.campaign_events",
            "shop.customers",
            "shop.transactions",
            "web.events",
            "shop.returns",
            "landing.landed_files",
        )
    }
