"""The landing guard: every file that lands in `lake/raw/` is checked on its own before dbt reads it.

A file is checked against its raw contract (`contracts.RAW_SCHEMAS`: names, order, types) and
hashed. Accepted files stay where they landed; rejected ones (a broken contract, an unreadable
file, a file whose content was already landed under another name) move to `lake/quarantine/`,
kept with their rule. Every file version is a row of the landing ledger
(`lake/landing/files/part-0.parquet`), which dbt publishes as `quality.fct_landed_files` and
compares with what it reads, so a file the guard never saw fails the build.

A file whose partition is older than the table's newest one (a late landing), a changed file
and a removed file are restatements: the ledger says so, and dbt's `fct_restatements` reports
which as-of dates moved.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from clv_jobs import contracts, lake, registry

__all__ = [
    "LEDGER_SCHEMA",
    "LandingReport",
    "check_landing",
    "reset",
    "land_new_lake",
    "read_ledger",
    "release",
    "restated_since",
    "quarantine_partition",
    "ledger_path",
    "sha256_file",
    "write_ledger",
    "EVENT_TIME_COLUMNS",
]

# The column whose dates a file covers (for restatements: which as-of dates it can move).
EVENT_TIME_COLUMNS = {
    "transactions": "InvoiceDate",
    "customers": "updated_at",
    "events": "event_timestamp",
    "campaign_events": "event_at",
}

LEDGER_SCHEMA = pa.schema(
    [
        ("file_path", pa.string()),  # relative to the lake root, as it landed
        ("table_name", pa.string()),
        ("file_name", pa.string()),
        ("content_sha256", pa.string()),
        ("status", pa.string()),  # accepted | quarantined | superseded | removed | released
        ("rule_name", pa.string()),  # why a file is quarantined (null when accepted)
        ("message", pa.string()),
        ("quarantine_path", pa.string()),
        ("rows_landed", pa.int64()),
        ("rows_erased", pa.int64()),  # rows later removed by `clv-jobs erase` (a counted rule)
        ("file_bytes", pa.int64()),
        ("mtime_ns", pa.int64()),
        ("is_late", pa.bool_()),
        ("is_changed", pa.bool_()),
        ("ingest_date", pa.date32()),
        ("min_event_at", pa.timestamp("us")),
        ("max_event_at", pa.timestamp("us")),
        ("checked_at", pa.timestamp("us")),
    ]
)


def ledger_path(lake_dir: Path) -> Path:
    return Path(lake_dir) / "landing" / "files"


def read_ledger(lake_dir: Path) -> pd.DataFrame:
    """The ledger, one row per file version (empty, with the ledger's columns, before the first check)."""
    path = ledger_path(lake_dir) / "part-0.parquet"
    if not path.exists():
        return LEDGER_SCHEMA.empty_table().to_pandas()
    return pq.read_table(path).to_pandas()


def write_ledger(lake_dir: Path, ledger: pd.DataFrame) -> None:
    ledger = ledger.sort_values(["table_name", "file_path", "checked_at"], kind="stable")
    table = pa.Table.from_pandas(ledger, schema=LEDGER_SCHEMA, preserve_index=False)
    lake.replace_partition(table, ledger_path(lake_dir))


@dataclass
class LandingReport:
    """What one check did: files newly accepted, quarantined (path -> message), restated."""

    accepted: list[str] = field(default_factory=list)
    quarantined: dict[str, str] = field(default_factory=dict)
    restated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _same_type(found: pa.DataType, expected: pa.DataType) -> bool:
    if pa.types.is_timestamp(expected):
        return pa.types.is_timestamp(found) and found.tz is None
    if pa.types.is_string(expected):
        return pa.types.is_string(found) or pa.types.is_large_string(found)
    return found == expected


def contract_violation(schema: pa.Schema, name: str) -> tuple[str, str] | None:
    """(rule, message) when `schema` breaks the raw contract `name`, else None. The message names
    the column: renamed, missing or extra columns, another order, another type."""
    contract = contracts.RAW_SCHEMAS[name]
    expected, found = contract.names, schema.names
    missing = [c for c in expected if c not in found]
    extra = [c for c in found if c not in expected]
    if missing and extra:
        return "renamed_column", f"column(s) {extra} instead of the contract's {missing}"
    if missing:
        return "missing_column", f"contract column(s) {missing} missing"
    if extra:
        return "extra_column", f"column(s) {extra} not in the contract"
    if found != expected:
        first = next(i for i, (a, b) in enumerate(zip(found, expected, strict=True)) if a != b)
        return "column_order", f"column {found[first]!r} at position {first + 1}, the contract has {expected[first]!r}"
    for column in contract:
        actual = schema.field(column.name).type
        if not _same_type(actual, column.type):
            return "column_type", f"column {column.name!r} is {actual}, the contract says {column.type}"
    return None


@dataclass
class _Inspection:
    rows: int | None
    min_event_at: datetime | None
    max_event_at: datetime | None
    rule: str | None = None
    message: str | None = None


def _inspect(path: Path, name: str) -> _Inspection:
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        return _Inspection(None, None, None, "unreadable", f"not a readable Parquet file ({exc})")
    violation = contract_violation(schema, name)
    if violation:
        return _Inspection(pq.ParquetFile(path).metadata.num_rows, None, None, *violation)
    try:
        # Reading every column proves the pages decode, not only the footer.
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        return _Inspection(None, None, None, "unreadable", f"a page does not decode ({exc})")
    times = table.column(EVENT_TIME_COLUMNS[name])
    low, high = pc.min(times).as_py(), pc.max(times).as_py()
    return _Inspection(len(table), low, high)


def _ingest_date(path: Path) -> date | None:
    key, _, value = path.parent.name.partition("=")
    try:
        return date.fromisoformat(value) if key == "ingest_date" else None
    except ValueError:
        return None


def landed_files(lake_dir: Path, name: str) -> list[Path]:
    """Every Parquet file dbt would read for raw table `name` (hidden `_`/`.` names excluded)."""
    table_dir = lake.raw_dir(lake_dir, name)
    if not table_dir.exists():
        return []
    return sorted(
        f
        for f in table_dir.glob("*/*.parquet")
        if not f.name.startswith(("_", ".")) and not f.parent.name.startswith(("_", "."))
    )


def _quarantine_file(lake_dir: Path, path: Path) -> str:
    relative = path.relative_to(lake_dir)
    target = Path(lake_dir) / "quarantine" / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    n = 1
    while target.exists():
        target = target.with_name(f"{path.stem}.{n}{path.suffix}")
        n += 1
    os.replace(path, target)
    return str(target.relative_to(lake_dir))


def _row(path: str, name: str, sha: str, status: str, inspection: _Inspection, stat, checked_at, **extra) -> dict:
    return {
        "file_path": path,
        "table_name": name,
        "file_name": Path(path).name,
        "content_sha256": sha,
        "status": status,
        "rule_name": inspection.rule,
        "message": inspection.message,
        "quarantine_path": None,
        "rows_landed": inspection.rows,
        "rows_erased": 0,
        "file_bytes": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "is_late": False,
        "is_changed": False,
        "ingest_date": _ingest_date(Path(path)),
        "min_event_at": inspection.min_event_at,
        "max_event_at": inspection.max_event_at,
        "checked_at": checked_at,
        **extra,
    }


def reset(lake_dir: Path) -> None:
    """Forget the ledger and the quarantine: for generate and the importers, which replace
    every raw table and then check the new lake from scratch."""
    for folder in (Path(lake_dir) / "landing" / "files", Path(lake_dir) / "quarantine" / "raw"):
        shutil.rmtree(folder, ignore_errors=True)


def land_new_lake(lake_dir: Path, tables: dict[str, pa.Table]) -> dict[str, int]:
    """Replace every raw table with `tables` (one partition per event day), then check the new
    lake from scratch, so it starts with a complete ledger. Returns partitions per table."""
    lake_dir = Path(lake_dir)
    partitions = {
        name: lake.write_partitioned(tables[name], lake.raw_dir(lake_dir, name), EVENT_TIME_COLUMNS[name])
        for name in contracts.RAW_SCHEMAS
    }
    reset(lake_dir)
    report = check_landing(lake_dir, registry.now_utc())
    if report.quarantined:
        raise ValueError(f"the new lake breaks its own contract: {report.quarantined}")
    return partitions


def check_landing(lake_dir: Path, checked_at: datetime, strip=None, progress=None) -> LandingReport:
    """Check every raw file not yet in the ledger (or changed since), update the ledger.

    Parameters
    ----------
    lake_dir : Path
        The lake folder; must exist.
    checked_at : datetime
        Audit time written on new ledger rows.
    strip : callable, optional
        ``strip(table, name) -> (table, rows_removed)`` applied to each new or changed file
        before it is hashed (the erasure tombstones: an erased customer never comes back).
    """
    lake_dir = Path(lake_dir)
    lake.require_folder(lake_dir)
    ledger = read_ledger(lake_dir)
    report = LandingReport()
    new_rows: list[dict] = []
    touched = not (ledger_path(lake_dir) / "part-0.parquet").exists()
    for name in contracts.RAW_SCHEMAS:
        current = ledger[(ledger["table_name"] == name) & (ledger["status"] == "accepted")]
        by_path = {row.file_path: row for row in current.itertuples(index=False)}
        by_hash = {row.content_sha256: row.file_path for row in current.itertuples(index=False)}
        newest = current["ingest_date"].max() if len(current) else None
        known_partitions = {p.rsplit("/", 1)[0] for p in by_path}
        seen = set()
        files = landed_files(lake_dir, name)
        if progress and files:
            progress(f"scanning {len(files):,} {name} files")
        for path in files:
            relative = str(path.relative_to(lake_dir))
            seen.add(relative)
            stat = path.stat()
            known = by_path.get(relative)
            if known is not None and known.file_bytes == stat.st_size and known.mtime_ns == stat.st_mtime_ns:
                report.unchanged += 1
                continue
            touched = True
            erased = 0
            if strip is not None:
                erased = _strip_file(path, name, strip)
                stat = path.stat()
            sha = sha256_file(path)
            if known is not None and known.content_sha256 == sha:  # touched, not changed
                ledger.loc[(ledger["file_path"] == relative) & (ledger["status"] == "accepted"), "mtime_ns"] = (
                    stat.st_mtime_ns
                )
                report.unchanged += 1
                continue
            inspection = _inspect(path, name)
            if inspection.rule is None and sha in by_hash and by_hash[sha] != relative:
                inspection.rule = "duplicate_file"
                inspection.message = f"same content as {by_hash[sha]}, landed earlier"
            if inspection.rule is not None:
                moved = _quarantine_file(lake_dir, path)
                new_rows.append(_row(relative, name, sha, "quarantined", inspection, stat, checked_at))
                new_rows[-1]["quarantine_path"] = moved
                report.quarantined[relative] = f"{inspection.message} (rule {inspection.rule})"
                continue
            ingest = _ingest_date(path)
            # Late: a partition older than the newest, or a new file beside ones already landed.
            is_late = known is None and (
                (newest is not None and ingest is not None and ingest < newest)
                or relative.rsplit("/", 1)[0] in known_partitions
            )
            if known is not None:
                ledger.loc[(ledger["file_path"] == relative) & (ledger["status"] == "accepted"), "status"] = (
                    "superseded"
                )
            row = _row(relative, name, sha, "accepted", inspection, stat, checked_at)
            row.update(is_late=bool(is_late), is_changed=known is not None, rows_erased=erased)
            new_rows.append(row)
            by_hash[sha] = relative
            report.accepted.append(relative)
            if row["is_late"] or row["is_changed"]:
                report.restated.append(relative)
        gone = [p for p in by_path if p not in seen]
        for relative in gone:
            mask = (ledger["file_path"] == relative) & (ledger["status"] == "accepted")
            ledger.loc[mask, "status"] = "removed"
            ledger.loc[mask, "checked_at"] = checked_at  # when the removal was seen
            report.removed.append(relative)
            touched = True
    if touched:
        if new_rows:
            frame = pd.DataFrame(new_rows, columns=LEDGER_SCHEMA.names)
            ledger = frame if ledger.empty else pd.concat([ledger, frame], ignore_index=True)
        write_ledger(lake_dir, ledger)
    return report


def _strip_file(path: Path, name: str, strip) -> int:
    table = pq.read_table(path)
    kept, removed = strip(table, name)
    if removed:
        lake.replace_file(kept, path)
    return removed


def restated_since(lake_dir: Path | str, since: datetime, events_until: datetime) -> list[str]:
    """Raw files whose late, changed or removed landing was checked after `since` and holds
    events on or before `events_until`: history that scores made at `since` did not see."""
    if str(lake_dir).startswith("s3://"):
        return []  # the guard runs on a local lake folder (ledger there)
    ledger = read_ledger(Path(lake_dir))
    restated = ledger[
        (ledger["is_late"] | ledger["is_changed"] | (ledger["status"] == "removed"))
        & (ledger["checked_at"] > pd.Timestamp(since))
        & (ledger["min_event_at"] <= pd.Timestamp(events_until))
    ]
    return sorted(restated["file_path"].unique())


def quarantine_partition(lake_dir: Path, name: str, ingest_date: date, reason: str, checked_at: datetime) -> list[str]:
    """Move every file of one raw partition to the quarantine (e.g. a day whose volume or null
    share failed the build), with `reason` as the ledger's message. Returns the moved paths."""
    lake_dir = Path(lake_dir)
    partition = lake.raw_dir(lake_dir, name) / f"ingest_date={ingest_date}"
    files = [f for f in landed_files(lake_dir, name) if f.parent == partition]
    if not files:
        raise FileNotFoundError(f"no files in raw.{name} partition ingest_date={ingest_date} ({partition})")
    ledger = read_ledger(lake_dir)
    moved = []
    for path in files:
        relative = str(path.relative_to(lake_dir))
        target = _quarantine_file(lake_dir, path)
        mask = (ledger["file_path"] == relative) & (ledger["status"] == "accepted")
        ledger.loc[mask, ["status", "rule_name", "message", "quarantine_path"]] = [
            "quarantined",
            "quarantined_by_hand",
            reason,
            target,
        ]
        ledger.loc[mask, "checked_at"] = checked_at
        moved.append(relative)
    write_ledger(lake_dir, ledger)
    return moved


def release(lake_dir: Path, file_path: str) -> str:
    """Move a quarantined file back to where it landed; the next `check_landing` checks it
    again (a file that still breaks its contract goes straight back). Returns its path."""
    lake_dir = Path(lake_dir)
    ledger = read_ledger(lake_dir)
    mask = (ledger["status"] == "quarantined") & (
        (ledger["file_path"] == file_path) | (ledger["quarantine_path"] == file_path)
    )
    if not mask.any():
        listed = ", ".join(ledger.loc[ledger["status"] == "quarantined", "file_path"]) or "none"
        raise ValueError(f"{file_path} is not a quarantined file (quarantined: {listed})")
    row = ledger[mask].iloc[-1]
    source, target = lake_dir / row["quarantine_path"], lake_dir / row["file_path"]
    if target.exists():
        raise ValueError(f"{row['file_path']} exists again in the lake: remove or rename it before releasing")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(source, target)
    ledger.loc[mask, "status"] = "released"
    write_ledger(lake_dir, ledger)
    return str(row["file_path"])
