"""Loads SQL by name from the top-level `sql/` folder: migrations, views and queries."""

from __future__ import annotations

import functools
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


@functools.cache
def query(name: str) -> str:
    """The text of `sql/queries/<name>.sql`."""
    return (SQL_DIR / "queries" / f"{name}.sql").read_text(encoding="utf-8")


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, text) of every `sql/migrations/NNNN_name.sql`, in order."""
    found = []
    for path in sorted((SQL_DIR / "migrations").glob("*.sql")):
        version = int(path.name.split("_", 1)[0])
        found.append((version, path.stem, path.read_text(encoding="utf-8")))
    return found


def views() -> list[tuple[str, str]]:
    """(name, text) of every `sql/views/*.sql`, in file-name order (dependencies first)."""
    return [(p.stem, p.read_text(encoding="utf-8")) for p in sorted((SQL_DIR / "views").glob("*.sql"))]
