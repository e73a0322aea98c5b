"""The dashboard's one door to the store: cached reads keyed by the writes to what they read.

The dashboard server owns the store file (pipelines/serving.py): one read-write connection, a
cursor per script run, no lock for readers. A cached result is keyed by the versions of the
tables its SQL reads (pipelines/sqlfiles.py `reads`), so a login or an audit row does not empty
the statistics, and a decision empties only what reads the tables it changed.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

import polars as pl
import streamlit as st

from dashboard.text import plain
from pipelines import serving
from pipelines.rules.filters import Filters
from pipelines.store import SYSTEM, Actor, Reader, Store, StoreError, config, parts_of, sqlfiles

# Who reads when nobody has logged in: a scope of no college, so every graduate view is empty.
NOBODY = Actor("（未登录）", "anonymous", colleges=())
_VIEWER_KEY = "_viewer"


def set_viewer(actor: Actor | None) -> None:
    """The logged-in user's actor (dashboard.auth sets it at the start of every run)."""
    st.session_state[_VIEWER_KEY] = actor or NOBODY


def viewer() -> Actor:
    """Who this run reads as: every query's scope, unless a page names another actor."""
    found = st.session_state.get(_VIEWER_KEY)
    return found if isinstance(found, Actor) else NOBODY


@st.cache_resource
def _store(path: str, today: str | None) -> Store:
    store = Store(path, today=today)
    store.before_open = _release_held  # another operation closes the run's read first: pages never do
    return store


def store() -> Store:
    """The store, owned by this server process (unless DANGAN_SERVE=0: then every operation
    opens the file, as a script does)."""
    path = str(config.db_path())
    if config.env(config.ENV_SERVE, "1") != "0":
        serving.serve(path)
    return _store(path, os.environ.get(config.ENV_TODAY))


_run = threading.local()


@contextlib.contextmanager
def run_scope() -> Iterator[None]:
    """One read connection per script run, opened by the first query that misses the cache and
    closed when the run ends: opening DuckDB costs 15-20 ms a time.

    Exactly one: a second shared lock taken while the first is held would deadlock against a
    writer waiting at the turnstile. Queries for another day or user re-target this connection.
    The connection holds the store's shared lock for the rest of the run (when this process does
    not own the store), so any other operation of the store on this thread (a write, a domain
    function's own read) closes it first (`Store.before_open`): pages never do.
    """
    _run.stack, _run.reader, _run.memo = contextlib.ExitStack(), None, {}
    try:
        yield
    finally:
        _run.memo = None
        release()


def run_memo(key: str) -> tuple[bool, Any]:
    """(found, value) of something decided once in this script run (e.g. who is logged in)."""
    memo = getattr(_run, "memo", None)
    return (key in memo, memo[key]) if memo is not None and key in memo else (False, None)


def set_run_memo(key: str, value: Any) -> None:
    memo = getattr(_run, "memo", None)
    if memo is not None:  # outside a run (a page file run on its own): nothing to remember
        memo[key] = value


def release(*, end: bool = True) -> None:
    """Close the run's read connection: at the end of every run, and (`end=False`) before the
    store opens for another operation on this thread, after which the run's next query that
    misses the cache opens a new one."""
    stack = getattr(_run, "stack", None)
    _run.stack, _run.reader = (None if end or stack is None else contextlib.ExitStack()), None
    if stack is not None:
        stack.close()


def _release_held() -> None:
    """Before the store opens for another operation on this thread: close this run's reader."""
    if getattr(_run, "reader", None) is not None:
        release(end=False)


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
def _cached(
    version: tuple[Any, ...], actor: Actor, as_of: date | None, name: str, params: tuple[tuple[str, Any], ...]
) -> pl.DataFrame:
    with _reader(actor, as_of) as reader:
        return reader.query(name, **dict(params))


def query(
    name: str,
    *,
    filters: Filters | dict[str, Any] | None = None,
    as_of: date | None = None,
    actor: Actor | None = None,
    **params: Any,
) -> pl.DataFrame:
    """A named query's result as the logged-in user (or `actor`), recomputed only after the
    store has been written to. `filters`: a Filters, or its `$filters` struct already (the
    `**Filters.params()` a reader takes); st.cache_data hashes the struct's items."""
    if isinstance(filters, Filters):
        params.update(filters.params())
    elif filters is not None:
        params["filters"] = filters
    who = actor or viewer()
    past = as_of is not None and as_of < today()
    return _cached(_version(name, who, past=past), who, as_of, name, tuple(sorted(params.items())))


def _version(name: str, actor: Actor = SYSTEM, *, past: bool = False) -> tuple[Any, ...]:
    """What the cached result of `name` for `actor` is keyed by: the writes to the tables it
    reads, and for a college's reader only those of their colleges; for a result as of an
    earlier day (yesterday's numbers beside today's), only the writes that may change the past."""
    return _key(sqlfiles.reads(name), _parts(actor), past=past)


def _parts(actor: Actor) -> list[str] | None:
    """The parts of the graduates' tables whose writes change what `actor` reads. A graduate
    sees only their own rows, which only a write that names them changes: measured under load
    (bench/bench_load.py), keying them by every write in their college still re-ran their record
    on nearly every step of the form, as their classmates submitted."""
    if actor.student_id is not None:
        return parts_of(students=[actor.student_id])
    return None if actor.colleges is None else parts_of(actor.colleges)


def _key(tables: Iterable[str], parts: list[str] | None = None, *, past: bool = False) -> tuple[Any, ...]:
    """The run's open snapshot, if any, decides the key: a write that landed after it began
    must not have its key put on the snapshot's older numbers."""
    return store().version(tables, reader=getattr(_run, "reader", None), parts=parts, past=past)


def my_record(student_id: str | None) -> dict[str, Any] | None:
    """A graduate's own row of graduate_detail (the store's scope shows them no other)."""
    rows = query("graduate_detail", student_id=student_id) if student_id else None
    return rows.row(0, named=True) if rows is not None and rows.height else None


def hukou_at_school(user: Any) -> bool:
    """Whether 户口信息登记 is a graduate's: their hukou moved into the school, or the roster
    does not say (unknown: they decide; the page says so)."""
    found = my_record(user.student_id)
    return bool(found and found["is_hukou_at_school"] is not False)


def user_count() -> int:
    return int(_cached(_version("user_count"), SYSTEM, None, "user_count", ())["users"][0])


def account(username: str) -> dict[str, Any] | None:
    """An account as a session sees it (sql/queries/user_session.sql); accounts are not
    graduates' data, so read as the system."""
    # keyed by this account's writes only: a login writes its own account, not everyone's
    rows = _cached(
        _key(sqlfiles.reads("user_session"), parts_of(usernames=[username])),
        SYSTEM,
        None,
        "user_session",
        (("username", username),),
    )
    return rows.row(0, named=True) if rows.height else None


@st.cache_data(show_spinner=False)
def _today(version: tuple[Any, ...]) -> date:
    with _reader(SYSTEM, None) as reader:
        return reader.today


def today() -> date:
    return _today(_key(["settings"]))


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
        st.error(plain(str(exc)))
        st.stop()
    if found is None:
        st.info(
            "库中还没有登记工作。管理员请在“届别设置”页新建一届（或 `dangan campaign set`），再在“导入”页导入"
            "名单和登记数据；也可运行 `dangan demo` 生成演示库。"
        )
        st.stop()
    return found
