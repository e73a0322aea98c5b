"""What every part of the store shares: the acting user, the store's errors, and the SQL
literals that carry a user's scope and the day into a connection."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import duckdb
import polars as pl

T = TypeVar("T")
WaitCallback = Callable[[str], None]


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user name, a role, the colleges they may see (None: all) and, for a
    graduate, the one graduate they may see."""

    name: str
    role: str
    colleges: tuple[str, ...] | None = None
    student_id: str | None = None


SYSTEM = Actor("system", "system")


class StoreError(RuntimeError):
    """A problem the user can act on; the message is Chinese and complete."""


class StoreBusy(StoreError):
    pass


class StoreConflict(StoreError):
    """A write broke a unique or foreign key: another writer reached the same row first."""


class WriteLost(StoreError):
    pass


def _literal(value: object) -> str:
    """A value as a DuckDB literal, so that several session variables are set in one call
    (`_assignments`): every call into DuckDB is a round trip through its binding, and under
    load another wait for the GIL. Strings are quoted the SQL way (a quote doubled)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, str):
        if "\x00" in value:
            raise StoreError("账号中的学院名称或学号含有不可见字符（NUL），请在“账号”页修改")
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(str(v)) for v in value) + "]::VARCHAR[]"
    raise TypeError(f"no literal for {type(value).__name__}")


def _assignments(**variables: object) -> str:
    """`set variable` statements for `variables`, as one script for one call."""
    return "".join(f"set variable {name} = {_literal(value)};\n" for name, value in variables.items())


def _scope(actor: Actor) -> dict[str, object]:
    """What the SQL views let this connection see (sql/views/05_scoped_graduates.sql)."""
    return {
        "scope_colleges": list(actor.colleges) if actor.colleges is not None else None,
        "scope_student": actor.student_id,
    }


def _day(day: date) -> dict[str, object]:
    return {"as_of": day, "as_of_end": datetime.combine(day + timedelta(days=1), datetime.min.time())}


def _set_scope(conn: duckdb.DuckDBPyConnection, actor: Actor) -> None:
    conn.execute(_assignments(**_scope(actor)))


def _frame(conn: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> pl.DataFrame:
    """The whole result of a query as a polars frame (fully fetched before the next query)."""
    return conn.sql(sql, params=params or None).pl()


def _set_day(conn: duckdb.DuckDBPyConnection, day: date) -> None:
    conn.execute(_assignments(**_day(day)))


class OwnerAppeared(StoreError):
    """A dashboard began to own the store while this command waited for it."""
