"""Training: how the winner on valid is chosen."""

from __future__ import annotations


def test_selection_ranks_by_gini_among_candidates_near_the_best_rmse():
    from clv_jobs.train import select_candidate

    validation = {
        "reg:tweedie": {"normalized_gini": 0.70, "rmse": 130.0},  # ranks best, amounts far off
        "bgnbd_gamma_gamma": {"normalized_gini": 0.60, "rmse": 100.0},
        "blend:reg:tweedie": {"normalized_gini": 0.66, "rmse": 101.5},
    }
    assert select_candidate(validation, 0.02) == "blend:reg:tweedie"
    assert select_candidate(validation, 0.0) == "bgnbd_gamma_gamma"
    assert select_candidate(validation, 0.5) == "reg:tweedie"
