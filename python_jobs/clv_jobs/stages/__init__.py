"""The jobs, one module per pipeline stage, each with its I/O at the edges: warehouse reads,
lake writes (through `ml_contracts`), MLflow (through `registry`). The pure work they call lives
in `train`, `evaluate`, `score`, `monitor` and `shadow` beside this package."""
