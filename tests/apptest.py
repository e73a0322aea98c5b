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

from dashboard import display
from pipelines import demo
from pipelines.store import SYSTEM, Store

ROOT = Path(__file__).parent.parent
APP = str(ROOT / "dashboard" / "app.py")
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
        return reader._conn.execute(text, params or []).fetchall()


def dean_college(store: Store) -> str:
    """The college of the demo store's college reviewer account `dean`."""
    ((college,),) = sql(store, "select colleges[1] from users where username = 'dean'")
    return str(college)


def page_alone(script: str, user: str | None, **query: str) -> AppTest:
    """Run one page file on its own (not through app.py's navigation, which hides pages a role
    does not have), logged in as `user`: how a page defends itself."""
    app = AppTest.from_file(str(Path(APP).parent / script), default_timeout=300)
    if user is not None:
        app.session_state["username"] = user
    for key, value in query.items():
        app.query_params[key] = value
    app.run()
    assert_no_failure(app)
    return app


def assert_no_failure(app: AppTest) -> None:
    """No exception, and no page that failed (app.py shows a failure as display.PAGE_FAILED, with
    the traceback in the log)."""
    assert not app.exception, [e.value for e in app.exception]
    failed = display.PAGE_FAILED.split("{")[0]
    assert not [e.value for e in app.error if e.value.startswith(failed)], "the page failed: see the log above"


def refused_page(app: AppTest) -> bool:
    """Whether the page refused its user (and drew nothing of its own)."""
    return any("不能打开此页" in e.value for e in app.error) and not app.dataframe and not app.metric


def open_page(script: str | None = None, user: str | None = "admin", **query: str) -> AppTest:
    """Run app.py once, then the page `script` (None: the default page) with `query` in the URL,
    logged in as the account `user` (the demo store's: admin, school, dean, analyst, or a
    graduate's 学号; None: nobody). Fails on any exception."""
    app = AppTest.from_file(APP, default_timeout=300)
    if user is not None:
        app.session_state["username"] = user  # what a successful login leaves in the session
    if script:
        app.run()  # switching before a first run would run the page file outside app.py
        app.switch_page(script)
    for key, value in query.items():
        app.query_params[key] = value
    app.run()
    assert_no_failure(app)
    return app
