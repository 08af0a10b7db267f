"""Shadow comparison (pure): a challenger's scores beside the champion's on the same customers.

The verdict follows `[shadow]` in conf/model.toml: the mean prediction moves at most 15 %, few
zero and no missing predictions, the ranking agrees (Spearman, top-decile overlap), and run time
(CPU seconds) and peak memory stay within 10 % of the champion's run on the same rows (beyond a noise floor).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clv_jobs import evaluate

__all__ = ["compare", "verdict"]


def compare(champion: pd.Series, challenger: pd.Series) -> dict[str, float]:
    """Figures of two predictions of the same customers (aligned on the index)."""
    champion, challenger = champion.astype(float), challenger.astype(float)
    both = champion.notna() & challenger.notna()
    c, x = champion[both].to_numpy(), challenger[both].to_numpy()
    mean_c, mean_x = float(np.mean(c)) if len(c) else float("nan"), float(np.mean(x)) if len(x) else float("nan")
    k = max(int(round(len(c) * 0.1)), 1)
    top_c = set(np.argsort(-c, kind="stable")[:k])
    top_x = set(np.argsort(-x, kind="stable")[:k])
    return {
        "customers": int(len(champion)),
        "champion_mean_prediction": mean_c,
        "challenger_mean_prediction": mean_x,
        "mean_prediction_shift": abs(mean_x - mean_c) / abs(mean_c) if mean_c else float("inf"),
        "zero_share": float((challenger == 0).mean()) if len(challenger) else float("nan"),
        "missing_share": float(challenger.isna().mean()) if len(challenger) else float("nan"),
        "spearman": evaluate.spearman(c, x) if len(c) > 2 else float("nan"),
        "top_decile_overlap": len(top_c & top_x) / k if len(c) else float("nan"),
    }


def verdict(figures: dict[str, float], limits: dict) -> list[str]:
    """The failed criteria (empty: passed)."""
    failed = []
    if not figures["mean_prediction_shift"] <= limits["max_mean_prediction_shift"]:
        failed.append(
            f"mean prediction moved {figures['mean_prediction_shift']:.1%} "
            f"(limit {limits['max_mean_prediction_shift']:.0%})"
        )
    if not figures["zero_share"] <= limits["max_zero_share"]:
        failed.append(f"{figures['zero_share']:.1%} zero predictions (limit {limits['max_zero_share']:.0%})")
    if not figures["missing_share"] <= limits["max_missing_share"]:
        failed.append(f"{figures['missing_share']:.1%} missing predictions (limit {limits['max_missing_share']:.0%})")
    if not figures["spearman"] >= limits["min_spearman"]:
        failed.append(f"rank correlation with the champion {figures['spearman']:.3f} < {limits['min_spearman']}")
    if not figures["top_decile_overlap"] >= limits["min_top_decile_overlap"]:
        failed.append(
            f"top-decile overlap {figures['top_decile_overlap']:.1%} < {limits['min_top_decile_overlap']:.0%}"
        )
    allowed = 1 + limits["max_resource_increase"]
    for what, unit, noise in (("seconds", "s", "resource_noise_seconds"), ("peak_mb", " MB", "resource_noise_mb")):
        champ, chall = figures[f"champion_{what}"], figures[f"challenger_{what}"]
        if chall > champ * allowed and chall - champ > limits.get(noise, 0.0):
            failed.append(
                f"{what.replace('_', ' ')} {chall:.2f}{unit} > champion's {champ:.2f}{unit} + "
                f"{limits['max_resource_increase']:.0%}"
            )
    return failed
