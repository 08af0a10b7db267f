"""clv-warehouse Python jobs: data generation and import, training, scoring, monitoring."""

__version__ = "0.1.0"
