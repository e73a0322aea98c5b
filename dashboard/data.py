"""The dashboard's one door to the store: cached reads keyed by the store's last write."""

from __future__ import annotations

import os
from datetime import date
from typing import Any

import polars as pl
import streamlit as st

from pipelines import config
from pipelines.filters import Filters
from pipelines.store import SYSTEM, Actor, Store, StoreError

# Until accounts arrive (issue #6) the dashboard reads as the system user.
VIEWER = SYSTEM


@st.cache_resource
def _store(path: str, today: str | None) -> Store:
    return Store(path, today=today)


def store() -> Store:
    return _store(str(config.db_path()), os.environ.get(config.ENV_TODAY))


@st.cache_data(max_entries=512, show_spinner=False)
def _cached(version: tuple[Any, ...], actor: Actor, as_of: date | None, name: str,
            params: tuple[tuple[str, Any], ...]) -> pl.DataFrame:
    with store().reading(actor, as_of=as_of) as reader:
        return reader.query(name, **dict(params))


def query(name: str, *, filters: Filters | None = None, as_of: date | None = None,
          actor: Actor = VIEWER, **params: Any) -> pl.DataFrame:
    """A named query's result, recomputed only after the store has been written to."""
    if filters is not None:
        params.update(filters.params())
    return _cached(store().data_version(), actor, as_of, name, tuple(sorted(params.items())))


@st.cache_data(show_spinner=False)
def _today(version: tuple[Any, ...]) -> date:
    return store().today()


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
