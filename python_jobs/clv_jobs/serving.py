"""The registered model as MLflow serves it: one pyfunc that returns, per customer, the predicted
CLV, the churn probability and the top-3 reasons, with a signature, an input example, the
`clv_jobs` code it needs and pinned requirements, so `mlflow models serve` / `predict` and
`mlflow.pyfunc.load_model` work outside this repository (ADR 0014).

A served request holds a handful of customers, too few to fit BG/NBD + Gamma-Gamma on: the
model applies the BTYD parameters it learned on its newest training as-of date instead.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from clv_jobs.model import BTYD_FEATURES, RFM_COLUMNS, ClvModel

__all__ = ["ClvPyfunc", "input_columns", "log_servable_model", "pinned_requirements", "OUTPUT_COLUMNS"]

OUTPUT_COLUMNS = ["customer_id", "predicted_clv", "churn_probability", "reason_1", "reason_2", "reason_3"]
# Distributions the model needs at load time; their installed versions are pinned.
REQUIREMENTS = ["xgboost-cpu", "pandas", "numpy", "scipy", "pyarrow"]


class ClvPyfunc(mlflow.pyfunc.PythonModel):
    """MLflow wrapper: the registered artifact is a ClvModel directory."""

    def load_context(self, context):
        self.model = ClvModel.load(Path(context.artifacts["clv_model"]))

    # The hints keep MLflow from warning at class definition (it wants them for validation).
    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        return predict_frame(self.model, model_input)


def input_columns(model: ClvModel) -> list[str]:
    """What a request must carry: ids, the BTYD inputs and the encoder's features."""
    numeric = [c for c in model.encoder.numeric if c not in BTYD_FEATURES]
    ids = ["customer_id", "as_of_date", *RFM_COLUMNS, "avg_purchase_value_usd"]
    return list(dict.fromkeys([*ids, *numeric, *model.encoder.categories]))


def predict_frame(model: ClvModel, frame: pd.DataFrame) -> pd.DataFrame:
    from clv_jobs.score import top_reasons

    frame = frame.assign(as_of_date=pd.to_datetime(frame["as_of_date"])).reset_index(drop=True)
    frame = model.with_btyd(frame, fits=model.btyd_fits)
    revenue_input, churn_input = model.dmatrices(frame)
    names, _ = top_reasons(model.contributions(frame, revenue_input), model.reason_names)
    return pd.DataFrame(
        {
            "customer_id": frame["customer_id"].astype(str),
            "predicted_clv": model.predict_revenue(frame, revenue_input),
            "churn_probability": np.clip(model.predict_churn(churn_input), 0.0, 1.0),
            "reason_1": names[:, 0],
            "reason_2": names[:, 1],
            "reason_3": names[:, 2],
        }
    )


def pinned_requirements() -> list[str]:
    return [f"{name}=={metadata.version(name)}" for name in REQUIREMENTS]


def log_servable_model(model: ClvModel, model_dir: Path, examples: pd.DataFrame):
    """Log `model` (saved in `model_dir`) as the run's pyfunc "model" with a signature inferred
    from five example rows and the prediction on them; returns MLflow's ModelInfo."""
    import clv_jobs

    example = examples[input_columns(model)].head(5).reset_index(drop=True)
    # Plain JSON types for the example and the signature: the mart's integers stay integers
    # (a request sends them as such), decimals become doubles.
    text = ["customer_id", *model.encoder.categories]
    decimals = [c for c in example.columns if c not in [*text, "as_of_date"] and example[c].dtype == object]
    example = example.astype({c: "float64" for c in decimals})
    example = example.astype({c: "string" for c in text}).assign(
        as_of_date=pd.to_datetime(example["as_of_date"]).dt.strftime("%Y-%m-%d")
    )
    signature = mlflow.models.infer_signature(example, predict_frame(model, example))
    return mlflow.pyfunc.log_model(
        name="model",
        python_model=ClvPyfunc(),
        artifacts={"clv_model": str(model_dir)},
        code_paths=[str(Path(clv_jobs.__file__).parent)],
        pip_requirements=pinned_requirements(),
        signature=signature,
        input_example=example,
    )
