"""Helpers for the page tests (AppTest): a demo store the dashboard reads, SQL on that store,
and opening a page through dashboard/app.py the way the server does."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from pipelines import demo
from pipelines.store import SYSTEM, Store

APP = str(Path(__file__).parent.parent / "dashboard" / "app.py")
TODAY = date(2024, 6, 10)


def demo_store(tmp_path_factory: pytest.TempPathFactory, name: str, graduates: int, seed: int) -> Iterator[Store]:
    """A built demo store that DANGAN_DB points the dashboard at, for a module's tests
    (use with `yield from` in a module-scoped fixture)."""
    store = Store(tmp_path_factory.mktemp(name) / "demo.duckdb")
    demo.build_demo(store, graduates=graduates, seed=seed)
    old = os.environ.get("DANGAN_DB")
    os.environ["DANGAN_DB"] = str(store.path)
    os.environ.pop("DANGAN_TODAY", None)
    yield store
    if old is None:
        os.environ.pop("DANGAN_DB", None)
    else:
        os.environ["DANGAN_DB"] = old


def sql(store: Store, text: str, params: list[Any] | None = None, as_of: date = TODAY) -> list[tuple[Any, ...]]:
    with store.reading(SYSTEM, as_of=as_of) as reader:
        return reader.conn.execute(text, params or []).fetchall()


def open_page(script: str | None = None, identity: str | None = None, **query: str) -> AppTest:
    """Run app.py once, then the page `script` (None: the default page) with `query` in the URL
    and, if given, the sidebar identity `identity`. Fails on any exception."""
    app = AppTest.from_file(APP, default_timeout=300)
    if script:
        app.run()  # switching before a first run would run the page file outside app.py
        app.switch_page(script)
    for key, value in query.items():
        app.query_params[key] = value
    app.run()
    if identity:
        app.sidebar.selectbox(key="acting_reviewer").set_value(identity).run()
    assert not app.exception, [e.value for e in app.exception]
    return app
