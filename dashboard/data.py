"""The dashboard's one door to the store: cached reads keyed by the store's last write."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from datetime import date
from typing import Any

import polars as pl
import streamlit as st

from pipelines import config
from pipelines.filters import Filters
from pipelines.store import SYSTEM, Actor, Reader, Store, StoreError

# Until accounts arrive (issue #6) the dashboard reads as the system user.
VIEWER = SYSTEM


@st.cache_resource
def _store(path: str, today: str | None) -> Store:
    return Store(path, today=today)


def store() -> Store:
    return _store(str(config.db_path()), os.environ.get(config.ENV_TODAY))


_run = threading.local()


@contextlib.contextmanager
def run_scope() -> Iterator[None]:
    """One read connection per script run, opened by the first query that misses the cache and
    closed when the run ends: opening DuckDB costs 15-20 ms a time.

    Exactly one: a second shared lock taken while the first is held would deadlock against a
    writer waiting at the turnstile. Queries for another day or user re-target this connection.
    The connection holds the store's shared lock for the rest of the run, so a page that is
    about to write must call `release()` first.
    """
    _run.stack, _run.reader = contextlib.ExitStack(), None
    try:
        yield
    finally:
        release()


def release() -> None:
    """Close the run's read connection (before a write, and at the end of every run)."""
    stack = getattr(_run, "stack", None)
    _run.stack, _run.reader = None, None
    if stack is not None:
        stack.close()


@contextlib.contextmanager
def _reader(actor: Actor, as_of: date | None) -> Iterator[Reader]:
    stack = getattr(_run, "stack", None)
    if stack is None:  # outside a script run (tests, scripts): a connection per query
        with store().reading(actor, as_of=as_of) as reader:
            yield reader
        return
    if _run.reader is None:
        _run.reader = stack.enter_context(store().reading(actor, as_of=as_of))
        yield _run.reader
        return
    reader = _run.reader
    home = (reader.actor, reader.today)
    store().retarget(reader, actor, as_of)
    try:
        yield reader
    finally:
        store().retarget(reader, *home)


@st.cache_data(max_entries=512, show_spinner=False)
def _cached(version: tuple[Any, ...], actor: Actor, as_of: date | None, name: str,
            params: tuple[tuple[str, Any], ...]) -> pl.DataFrame:
    with _reader(actor, as_of) as reader:
        return reader.query(name, **dict(params))


def query(name: str, *, filters: Filters | None = None, as_of: date | None = None,
          actor: Actor = VIEWER, **params: Any) -> pl.DataFrame:
    """A named query's result, recomputed only after the store has been written to."""
    if filters is not None:
        params.update(filters.params())
    return _cached(store().data_version(), actor, as_of, name, tuple(sorted(params.items())))


@st.cache_data(show_spinner=False)
def _today(version: tuple[Any, ...]) -> date:
    with _reader(VIEWER, None) as reader:
        return reader.today


def today() -> date:
    return _today(store().data_version())


def campaign() -> dict[str, Any] | None:
    """The newest campaign, or None for an empty store."""
    latest = query("latest_cohort")
    cohort = latest["cohort"][0] if latest.height else None
    if cohort is None:
        return None
    rows = query("campaign", cohort=cohort)
    return rows.row(0, named=True) if rows.height else None


def guarded_campaign() -> dict[str, Any]:
    """The campaign, or a designed empty state (and stop) when there is none or the store fails."""
    try:
        found = campaign()
    except StoreError as exc:
        st.error(str(exc))
        st.stop()
    if found is None:
        st.info("库中还没有登记工作。运行 `dangan demo` 生成演示库，或用 `dangan campaign set` 新建一届，"
                "再用 `dangan import` 导入名单和登记数据。")
        st.stop()
    return found
