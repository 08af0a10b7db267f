"""What the three pages share: the warehouse connection, cached queries and formatting."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from clv_jobs import dashboard_queries as q
from clv_jobs.dashboard_data import Warehouse
from clv_jobs.settings import load_settings

__all__ = [
    "q",
    "warehouse",
    "load",
    "usd",
    "count",
    "share",
    "day",
    "first_line",
    "show_table",
    "chart",
    "source_caption",
    "require",
]


@st.cache_resource
def warehouse() -> Warehouse:
    return Warehouse.from_settings(load_settings())


@st.cache_data(ttl=300, show_spinner=False)
def _load(name: str, version: str, args: tuple) -> pd.DataFrame | dict | list | str | None:
    return getattr(q, name)(warehouse(), *args)


def load(name: str, *args):
    """`dashboard_queries.<name>(warehouse, *args)`, cached until the snapshot changes."""
    return _load(name, warehouse().version(), args)


def require(*tables: str) -> bool:
    """Whether the marts exist; if not, say which and how to build them (and draw nothing)."""
    try:
        present = _load_tables(warehouse().version())
    except FileNotFoundError as exc:
        st.error(str(exc))
        return False
    missing = [t for t in tables if t not in present]
    if missing:
        st.info(
            f"Not built yet: {', '.join(missing)}. Run `make demo` "
            "(or score, monitor and `clv-jobs dbt build --selector ml_marts`)."
        )
    return not missing


@st.cache_data(ttl=300, show_spinner=False)
def _load_tables(version: str) -> set[str]:
    return warehouse().tables()


def first_line(text, limit: int = 160) -> str:
    line = str(text or "").strip().splitlines()[0] if str(text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def day(value) -> str:
    return "n/a" if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def usd(value) -> str:
    return "n/a" if value is None or pd.isna(value) else f"${value:,.0f}"


def count(value) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{int(value):,}"


def share(value) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value:.1%}"


def show_table(frame: pd.DataFrame, formats: dict[str, callable] | None = None, key: str | None = None) -> None:
    """A plain HTML table (readable by people and by the browser tests), formatted per column."""
    if frame is None or frame.empty:
        st.caption("No rows yet.")
        return
    shown = frame.copy()
    for column, fmt in (formats or {}).items():
        if column in shown:
            shown[column] = shown[column].map(fmt)
    for column in shown.columns:
        if pd.api.types.is_datetime64_any_dtype(shown[column]):
            # dates (all midnight) as days, timestamps to the minute
            midnight = (shown[column].dropna() == shown[column].dropna().dt.normalize()).all()
            shown[column] = shown[column].dt.strftime("%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M")
    st.table(shown.reset_index(drop=True).rename(columns=lambda c: str(c).replace("_", " ")))


def chart(spec: alt.Chart) -> None:
    st.altair_chart(spec, width="stretch")


def source_caption() -> None:
    st.caption(f"Source: {warehouse().source}")
