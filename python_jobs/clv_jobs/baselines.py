"""The honest comparisons every candidate must beat on the same test rows (DESIGN §7): the
company average, a retention heuristic, a linear model on RFM, and BG/NBD + Gamma-Gamma.

On a short history (ADR 0015) the first and third learn from the shorter label window and BG/NBD
+ Gamma-Gamma is fitted over it; all three are carried to the horizon by the frame's BTYD carry,
as the candidates are."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

from clv_jobs.model import BTYD_CARRY, BTYD_FEATURES, RFM_COLUMNS, btyd_features, require_columns

__all__ = ["Baselines", "bg_nbd_gamma_gamma_predict"]


@dataclass
class Baselines:
    """The honest comparisons, fitted on training data (BTYD on each frame's own history)."""

    company_average: float
    retention_rate: float
    linear: LinearRegression
    horizon_days: int

    @classmethod
    def fit(cls, train: pd.DataFrame, label: str, active_label: str, horizon_days: int) -> Baselines:
        require_columns(train, RFM_COLUMNS + [label, active_label], "training examples")
        linear = LinearRegression().fit(train[RFM_COLUMNS].to_numpy(dtype=float), train[label].to_numpy(float))
        return cls(float(train[label].mean()), float(train[active_label].astype(float).mean()), linear, horizon_days)

    def predict(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        n = len(frame)
        years = self.horizon_days / 365.25
        rate = (frame["frequency"].to_numpy(float) + 1) / np.maximum(frame["tenure_days"].to_numpy(float), 30) * 365.25
        heuristic = frame["avg_purchase_value_usd"].to_numpy(float) * rate * years * self.retention_rate
        linear = np.maximum(self.linear.predict(frame[RFM_COLUMNS].to_numpy(dtype=float)), 0.0)
        carry = frame[BTYD_CARRY].to_numpy(float) if BTYD_CARRY in frame.columns else np.ones(n)
        return {
            "company_average": np.full(n, self.company_average) * carry,
            "heuristic": np.maximum(heuristic, 0.0),
            "linear_rfm": linear * carry,
            "bgnbd_gamma_gamma": bg_nbd_gamma_gamma_predict(frame, self.horizon_days) * carry,
        }


def bg_nbd_gamma_gamma_predict(frame: pd.DataFrame, horizon_days: int) -> np.ndarray:
    """The BG/NBD + Gamma-Gamma baseline: expected purchases x expected order value (over the
    window the frame's BTYD columns were computed for, when it has them; else `horizon_days`)."""
    if set(BTYD_FEATURES) <= set(frame.columns):
        btyd_frame = frame[BTYD_FEATURES]
    else:
        btyd_frame = btyd_features(frame, horizon_days)
    values = btyd_frame["btyd_expected_purchases"] * btyd_frame["btyd_expected_order_value_usd"]
    return np.maximum(values.to_numpy(float), 0.0)
