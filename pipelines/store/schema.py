"""The store's schema: migrations in order, the reference tables and the views, applied once
when the wanted schema differs from the file's."""

from __future__ import annotations

import hashlib
from datetime import datetime

import duckdb
import polars as pl

from pipelines.rules import checks, codes, divisions, transfer_types, workflow
from pipelines.store import sqlfiles

# --- schema ------------------------------------------------------------------------------


def _reference_tables() -> dict[str, pl.DataFrame]:
    """Code tables owned by the domain modules, copied into the store for the SQL views."""
    return {
        "ref_provinces": pl.DataFrame(
            [{"code": p.code, "name": p.name, "short_name": p.short} for p in divisions.PROVINCES]
        ),
        "ref_transfer_types": pl.DataFrame(
            [
                {"key": t.key, "label": t.label, "needs_proof": t.needs_proof, "sort_order": i}
                for i, t in enumerate(transfer_types.TRANSFER_TYPES)
            ]
        ),
        "ref_statuses": pl.DataFrame(
            [{"status": k, "label": v, "sort_order": i} for i, (k, v) in enumerate(workflow.STATUS_LABELS.items())]
        ),
        "ref_stages": pl.DataFrame(
            [{"stage": k, "label": v, "sort_order": i} for i, (k, v) in enumerate(workflow.STAGES.items())]
        ),
        "ref_destination_codes": pl.DataFrame(
            [{"code": k, "name": n, "category": c} for k, (n, c) in codes.DESTINATIONS.items()]
        ),
        "ref_education_levels": pl.DataFrame([{"code": k, "name": v} for k, v in codes.EDUCATION_LEVELS.items()]),
        "ref_checks": pl.DataFrame(
            [{"code": c.code, "title": c.title, "explanation": c.explanation} for c in checks.CHECKS]
        ),
    }


def _wanted_schema() -> tuple[int, str]:
    digest = hashlib.sha256()
    for name, text in sqlfiles.views():
        digest.update(name.encode() + text.encode())
    for name, frame in _reference_tables().items():
        digest.update(name.encode() + frame.write_csv().encode())
    return max(v for v, _, _ in sqlfiles.migrations()), digest.hexdigest()


def _schema_state(conn: duckdb.DuckDBPyConnection) -> tuple[int, str] | None:
    try:
        version = conn.execute("select max(version) from schema_migrations").fetchall()
        fingerprint = conn.execute("select value from settings where key = 'schema_fingerprint'").fetchall()
    except duckdb.CatalogException:
        return None
    if version[0][0] is None or not fingerprint:
        return None
    return int(version[0][0]), fingerprint[0][0]


def applied_versions(conn: duckdb.DuckDBPyConnection) -> set[int]:
    try:
        return {r[0] for r in conn.execute("select version from schema_migrations").fetchall()}
    except duckdb.CatalogException:
        return set()


def migrate(conn: duckdb.DuckDBPyConnection, up_to: int | None = None) -> None:
    """Apply the migrations not yet applied (all, or those up to `up_to`), each in its own transaction."""
    conn.execute(
        "create table if not exists schema_migrations "
        "(version integer primary key, name varchar not null, applied_at timestamp not null)"
    )
    done = applied_versions(conn)
    for version, name, text in sqlfiles.migrations():
        if version in done or (up_to is not None and version > up_to):
            continue
        conn.execute("begin transaction")
        conn.execute(text)
        conn.execute("insert into schema_migrations values (?, ?, ?)", [version, name, datetime.now()])
        conn.execute("commit")


def _migrate(conn: duckdb.DuckDBPyConnection, wanted: tuple[int, str]) -> None:
    migrate(conn)
    conn.execute("begin transaction")
    for table, frame in _reference_tables().items():
        conn.register("_ref", frame.to_arrow())
        conn.execute(f"create or replace table {table} as select * from _ref")
        conn.unregister("_ref")
    for _name, text in sqlfiles.views():
        conn.execute(text)
    conn.execute("insert or replace into settings (key, value) values ('schema_fingerprint', ?)", [wanted[1]])
    conn.execute("commit")
