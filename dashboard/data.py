"""The dashboard's one door to the store: cached reads keyed by the store's last write."""

from __future__ import annotations

import os
from typing import Any

import polars as pl
import streamlit as st

from pipelines import config
from pipelines.store import SYSTEM, Actor, Store


@st.cache_resource
def _store(path: str, today: str | None) -> Store:
    return Store(path, today=today)


def store() -> Store:
    return _store(str(config.db_path()), os.environ.get(config.ENV_TODAY))


@st.cache_data(max_entries=256, show_spinner=False)
def _cached_query(version: tuple[Any, ...], actor: Actor, name: str, params: tuple[tuple[str, Any], ...]) -> pl.DataFrame:
    with store().reading(actor) as reader:
        return reader.query(name, **dict(params))


def query(name: str, actor: Actor = SYSTEM, **params: Any) -> pl.DataFrame:
    """A named query's result; recomputed only after the store has been written to."""
    return _cached_query(store().data_version(), actor, name, tuple(sorted(params.items())))
