"""The store: one DuckDB file, and the only module that opens it or writes to it.

Concurrency design (see README, "看板与命令行同时使用"), after DuckDB's own model: one process
holds the file read-write, its threads each use their own cursor, and DuckDB's MVCC keeps
readers and a writer out of each other's way.

* The dashboard server owns the store (`own`): one read-write connection for its lifetime, a
  cursor per operation. Readers take no lock at all; writers take turns in arrival order
  (`_Turns`), so nobody waits longer than the writes queued ahead of them. The owner publishes
  `<db>.owner` and answers on a local socket (pipelines/serving.py): a `dangan` command is run
  inside it, and any other process may borrow the file for one operation.
* A `dangan` command with no server running owns the store for the length of the command.
* A process that owns nothing (a script, a test) opens the file per operation, as before:
  a lock file beside it (`<db>.lock`) orders such processes (readers share it, a writer holds
  it alone, `<db>.turnstile` gives a waiting writer priority), and it first asks the owner, if
  there is one, to lend it the file.
* Whoever has to wait is told who holds the store (`on_wait`), and gives up with `StoreBusy`
  after `DANGAN_LOCK_WAIT` seconds, having written nothing.
* Every transaction writes an audit row carrying a fresh token and reads it back after COMMIT:
  DuckDB can roll a conflicting transaction back silently, so a write is checked, and retried.
* An owner counts writes per table (`Versions`): the dashboard's caches forget only the query
  results whose tables a write changed (an audit row or a login empties no statistics).

Every read and write names the acting user (`Actor`); the connection carries the user's scope
(`scope_colleges`) and the as-of date into the SQL views, so access rules hold below the UI.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import hashlib
import itertools
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

import duckdb
import polars as pl

from pipelines import channel, checks, codes, config, divisions, sqlfiles, transfer_types, workflow

T = TypeVar("T")
WaitCallback = Callable[[str], None]

# Tables a Writer may bulk-insert into.
_INSERTABLE = {
    "campaigns",
    "colleges",
    "graduates",
    "destinations",
    "registrations",
    "reviews",
    "hukou_registrations",
    "confirmations",
    "verification_reports",
    "registration_proofs",
    "import_batches",
    "audit_log",
    "users",
    "stage_snapshots",
    "activation_codes",
}
_SEQUENCES = {
    "destination_ids",
    "registration_ids",
    "review_ids",
    "batch_ids",
    "audit_ids",
    "hukou_ids",
    "confirmation_ids",
    "report_ids",
    "proof_ids",
    "user_ids",
    "activation_ids",
}


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user name, a role, the colleges they may see (None: all) and, for a
    graduate, the one graduate they may see."""

    name: str
    role: str
    colleges: tuple[str, ...] | None = None
    student_id: str | None = None


SYSTEM = Actor("system", "system")

# Roles that see aggregates only (counts and rates, never a list of people), and the queries that
# list people or show one person's record: the store refuses those to these roles on every path.
AGGREGATE_ONLY = frozenset({"analyst"})
PERSON_QUERIES = frozenset(
    {
        "graduate_list",
        "graduate_detail",
        "risk_list",
        "review_queue",
        "review_item",
        "review_results",
        "registration_timeline",
        "personal_data_of",
        "proofs_of",
        "report_candidates",
        "report_documents",
        "report_subject",
        "revision_of",
        "confirmations_of",
        "reports_of",
        "current_revision_of",
        "graduate_for_submission",
        "confirmation_snapshot",
        "current_destination_of",
        "current_hukou_of",
    }
)


class StoreError(RuntimeError):
    """A problem the user can act on; the message is Chinese and complete."""


class StoreBusy(StoreError):
    pass


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


# --- locks -------------------------------------------------------------------------------


def _flock(
    fd: int,
    exclusive: bool,
    deadline: float,
    on_wait: WaitCallback | None,
    db: Path | None = None,
    yield_to_owner: bool = False,
) -> None:
    """Take a lock file's lock, waiting (and saying for whom) until the deadline; with
    `yield_to_owner`, give way (OwnerAppeared) when a dashboard begins to own `db` meanwhile."""
    op = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    told = False
    while True:
        try:
            fcntl.flock(fd, op | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            owner = channel.read_owner(db) if db is not None and yield_to_owner else None
            if owner is not None:
                raise OwnerAppeared(f"看板已启动并接管数据库：{channel.owner_label(owner)}") from None
            if not told and on_wait is not None:
                holder = channel.read_holder(db) if db is not None else None
                on_wait(
                    f"数据库正被{holder or '另一个 dangan 进程（另一条命令或脚本）'}使用，等待其完成……"
                    if exclusive
                    else "数据库正在写入，等待写入完成……"
                )
                told = True
            if time.monotonic() >= deadline:
                raise StoreBusy(
                    "等待数据库超时：另一个进程长时间占用数据库。请稍后重试，"
                    f"或设置 {config.ENV_LOCK_WAIT} 延长等待时间。"
                ) from None
            time.sleep(0.02)


@contextlib.contextmanager
def _held(path: Path, exclusive: bool, deadline: float, on_wait: WaitCallback | None) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _flock(fd, exclusive, deadline, on_wait, db=path.with_name(path.name.rsplit(".", 1)[0]))
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


# --- the owner of the file ---------------------------------------------------------------


class _Entry:
    """One write waiting for its turn. A combinable one (`payload` set) may be run by the writer
    ahead of it, in the same transaction (`_Turns.run_combined`)."""

    __slots__ = ("who", "payload", "taken", "finished", "outcome")

    def __init__(self, who: str, payload: Any = None):
        self.who = who
        self.payload = payload
        self.taken = False  # a combiner took it from the queue and runs it
        self.finished = False
        self.outcome: tuple[Any, BaseException | None] | None = None  # (result, error)


# At most this many queued writes run as one transaction (a group commit).
COMBINE_MAX = 32


class _Turns:
    """Writers of one process, served in arrival order: each waits only for the writes queued
    ahead of it, and is told who writes now.

    Small writes that say they may be combined (a review decision, an audit record) and queue
    one behind another are run together by the first of them: one transaction, one stage
    refresh, one COMMIT for all (a group commit). Nobody is overtaken: a group is a run of
    consecutive arrivals, and it stops at the first write that must run alone."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: collections.deque[_Entry] = collections.deque()
        self._holder: tuple[str, float] | None = None
        self.groups = collections.Counter[int]()  # group size -> how many ran (benchmarks print it)

    def _who(self) -> str:
        if self._holder is None:
            return "另一个写入"
        name, since = self._holder
        return f"{name}（已 {time.monotonic() - since:.1f} 秒）"

    def _wait_for_turn(self, me: _Entry, deadline: float, on_wait: WaitCallback | None) -> bool:
        """Queue `me` and wait (holding the condition) until it is first and nobody writes:
        True. False when a combiner took it and has finished running it."""
        self._queue.append(me)
        try:
            if (self._queue[0] is not me or self._holder is not None) and on_wait is not None:
                ahead = self._queue.index(me) + (self._holder is not None)
                on_wait(f"数据库正在写入：{self._who()}；排在你前面的写入共 {ahead} 个，按到达顺序依次进行……")
            while not me.taken and (self._queue[0] is not me or self._holder is not None):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StoreBusy(
                        f"等待数据库超时：{self._who()} 正在写入，排队的写入共 {len(self._queue)} 个。"
                        f"请稍后重试，或设置 {config.ENV_LOCK_WAIT} 延长等待时间。"
                    )
                self._cond.wait(left)
        except BaseException:
            self._queue.remove(me)
            self._cond.notify_all()
            raise
        if me.taken:  # running inside another writer's transaction: it cannot be withdrawn now
            while not me.finished:
                self._cond.wait()
            return False
        self._queue.popleft()
        self._holder = (me.who, time.monotonic())
        return True

    def _release(self, group: list[_Entry]) -> None:
        with self._cond:
            for entry in group:
                entry.finished = True
            self._holder = None
            self._cond.notify_all()

    @contextlib.contextmanager
    def turn(self, who: str, deadline: float, on_wait: WaitCallback | None) -> Iterator[None]:
        me = _Entry(who)
        with self._cond:
            self._wait_for_turn(me, deadline, on_wait)
        try:
            yield
        finally:
            self._release([me])

    def run_combined(
        self, me: _Entry, deadline: float, on_wait: WaitCallback | None, run: Callable[[list[_Entry]], None]
    ) -> None:
        """Wait for `me`'s turn, then `run` it together with the combinable writes queued right
        behind it; or return once the writer ahead has run `me` in its group. `run` sets every
        entry's outcome."""
        with self._cond:
            if not self._wait_for_turn(me, deadline, on_wait):
                return
            group = [me]
            while self._queue and self._queue[0].payload is not None and len(group) < COMBINE_MAX:
                entry = self._queue.popleft()
                entry.taken = True
                group.append(entry)
            self.groups[len(group)] += 1
        try:
            run(group)
        except BaseException as exc:
            for entry in group:
                if entry.outcome is None:
                    entry.outcome = (None, exc)
            raise
        finally:
            self._release(group)


# The tables whose rows each belong to one graduate (and so to one college).
GRADUATE_TABLES = frozenset(
    {
        "graduates",
        "registrations",
        "reviews",
        "destinations",
        "hukou_registrations",
        "confirmations",
        "verification_reports",
        "registration_proofs",
        "graduate_stage_cache",
        "stage_count_cache",
        "daily_count_cache",
    }
)

# Epochs are unique in the process: an owner that closes and another that opens the same file
# later (or the same file replaced) never repeat a key.
_EPOCHS = itertools.count(1)


# The tables whose rows belong to someone, and the kinds of part a write or a reader names in
# them: "c:" a college, "s:" a graduate (学号), "u:" an account (username).
PARTS_OF = {**{table: ("c:", "s:") for table in GRADUATE_TABLES}, "users": ("u:",)}


# The graduates' tables a write that names its graduates changes only as of today (it records
# today's events: a decision, a submission, a confirmation, a report), as refresh_stages_of
# assumes when it refreshes only today's materialised rows. A result as of an earlier day is kept
# through such writes. Not `graduates`: its rows (the roster) are not dated.
TODAY_ONLY = GRADUATE_TABLES - {"graduates"}


def parts_of(
    colleges: Iterable[str] | None = (), students: Iterable[str] = (), usernames: Iterable[str] = ()
) -> list[str]:
    return [f"c:{c}" for c in colleges or ()] + [f"s:{s}" for s in students] + [f"u:{u}" for u in usernames]


def _parts_in(table: str, parts: list[str] | None) -> list[str]:
    """Those of `parts` that name rows of `table` (none for a table nobody's rows are in)."""
    return [p for p in parts or () if p.startswith(PARTS_OF.get(table, ()))]


class Versions:
    """How many times each table has been written by this process's owner (and an epoch that
    moves when the file was lent out or reopened, when anything may have changed): the key of
    every cached query result is the versions of the tables it reads.

    The tables whose rows belong to someone (PARTS_OF) are counted per part too: a decision in one
    college changes the numbers of that college and of the whole school, so a dean of another
    college keeps their cached results; a graduate's own record changes only with a write that
    names them, and a session's account only with a write to that account. A write that names
    no part of such a table (or that does not know which) moves every reader's key of it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._epoch = next(_EPOCHS)
        self._tables: dict[tuple[str, str], int] = collections.defaultdict(int)

    def key(self, tables: Iterable[str], parts: Iterable[str] | None = None, *, past: bool = False) -> tuple[Any, ...]:
        """The key for results read from `tables` by someone who sees only `parts` (None: all;
        see `parts_of`); `past`: results as of a day before today (TODAY_ONLY)."""
        chosen = sorted(set(parts)) if parts is not None else None
        with self._lock:
            if past:
                return (self._epoch, "past", *(self._tables[(table, "past")] for table in sorted(tables)))
            key: list[Any] = [self._epoch]
            for table in sorted(tables):
                mine = _parts_in(table, chosen)
                if chosen is None or not mine:
                    key.append(self._tables[(table, "")])
                else:
                    key.append(self._tables[(table, "*")])
                    key.extend(self._tables[(table, p)] for p in mine)
            return tuple(key)

    def frozen(self) -> Versions:
        """A copy that no write moves: taken just before a reader's snapshot begins, it keys
        what that snapshot reads. (Taken after, a write committing in between would have its
        new key put on the old numbers, and every later reader would get them.)"""
        copy = Versions.__new__(Versions)
        copy._lock = threading.Lock()
        with self._lock:
            copy._epoch = self._epoch
            copy._tables = collections.defaultdict(int, self._tables)
        return copy

    def bump(self, tables: Iterable[str] | None, parts: Iterable[str] | None = None) -> None:
        """After a write: the tables it changed (None: unknown, so everything), and the parts of
        them it changed (`parts_of`; None: unknown or all)."""
        chosen = None if parts is None else sorted(set(parts))
        with self._lock:
            if tables is None:
                self._epoch = next(_EPOCHS)
                return
            for table in tables:
                self._tables[(table, "")] += 1
                mine = _parts_in(table, chosen)
                if table not in TODAY_ONLY or not mine:
                    self._tables[(table, "past")] += 1
                if table not in PARTS_OF:
                    continue
                if chosen is None or not mine:
                    self._tables[(table, "*")] += 1
                for part in mine:
                    self._tables[(table, part)] += 1


class _Root:
    """This process holds the store file read-write: one connection, a cursor per operation."""

    def __init__(self, path: Path, lock_path: Path, who: str):
        self.path = path
        self.lock_path = lock_path
        self.who = who
        self.turns = _Turns()
        self.versions = Versions()
        self._cond = threading.Condition()
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._fd: int | None = None
        self._busy = 0
        self._lent = 0
        self.yield_to_owner = False  # a command gives way when a dashboard appears meanwhile
        # A dashboard that finds another dashboard owning the file steps aside (`step_aside`,
        # set by pipelines/serving.py) and works like a script; `on_open` publishes ownership
        # once the file is really held.
        self.step_aside: Callable[[], None] | None = None
        self.on_open: Callable[[], None] | None = None

    def _open(self, deadline: float, on_wait: WaitCallback | None) -> duckdb.DuckDBPyConnection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                _flock(fd, True, deadline, on_wait, db=self.path, yield_to_owner=self.yield_to_owner)
                self._conn = _connect(self.path, read_only=False, deadline=deadline, on_wait=on_wait)
            except BaseException:
                os.close(fd)
                raise
            self._fd = fd
            channel.note_holder(self.path, self.who)
            if self.on_open is not None:
                self.on_open()
            self.versions.bump(None)
            _keep_private(self.path)
        return self._conn

    @contextlib.contextmanager
    def cursor(self, deadline: float, on_wait: WaitCallback | None) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._cond:
            told = False
            while self._lent:
                if not told and on_wait is not None:
                    on_wait("数据库正借给另一个进程做一次操作，等待其完成……")
                    told = True
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StoreBusy(
                        "等待数据库超时：另一个进程借用数据库的时间过长。请稍后重试，"
                        f"或设置 {config.ENV_LOCK_WAIT} 延长等待时间。"
                    )
                self._cond.wait(left)
            conn = self._open(deadline, on_wait)
            self._busy += 1
        cursor = conn.cursor()
        try:
            yield cursor
        finally:
            with contextlib.suppress(duckdb.Error):
                cursor.close()
            with self._cond:
                self._busy -= 1
                self._cond.notify_all()

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(duckdb.Error):
                self._conn.close()
            self._conn = None
            _keep_private(self.path)
        if self._fd is not None:
            os.close(self._fd)  # releases the lock file
            self._fd = None

    def lend(self, timeout: float) -> bool:
        """Close the file for another process once the operations in flight have finished
        (new ones wait until `give_back`); False if they did not finish within `timeout`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._lent += 1
            while self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._lent -= 1
                    self._cond.notify_all()
                    return False
                self._cond.wait(left)
            self._close()
            return True

    def give_back(self) -> None:
        with self._cond:
            self._lent -= 1
            self.versions.bump(None)  # the borrower may have written anything
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            while self._busy:
                self._cond.wait(1.0)
            self._close()


# Every page run and every write has a cursor of its own on the owner's one connection, and
# their calls into DuckDB run at the same time, as DuckDB's model has it. (They were taken one at
# a time for a while, after a stall under load: every thread waited for the GIL. gdb later showed
# the cause, a polars Python function on polars' pool beside a to_pandas holding the GIL, fixed in
# `text.mapped`. Without the turns, 20 sessions at 100k served 10.9 views/s against 9.8, page p95
# 3.4-3.8 s against 4.0-8.6 s, and 50 sessions after four other levels ran with 0 errors.)


_ROOTS: dict[Path, _Root] = {}
_ROOTS_LOCK = threading.Lock()


def own(path: str | os.PathLike[str] | None, who: str) -> _Root:
    """Make this process the owner of a store file (opened at its first use)."""
    resolved = config.db_path(path).resolve()
    with _ROOTS_LOCK:
        root = _ROOTS.get(resolved)
        if root is None:
            root = _ROOTS[resolved] = _Root(resolved, resolved.with_name(resolved.name + ".lock"), who)
        return root


def owner_of(path: Path) -> _Root | None:
    return _ROOTS.get(path)


def disown(path: str | os.PathLike[str] | None) -> None:
    """Close the file this process owns (waiting for the operations in flight)."""
    resolved = config.db_path(path).resolve()
    with _ROOTS_LOCK:
        root = _ROOTS.pop(resolved, None)
    if root is not None:
        root.close()


def disown_all() -> None:
    for path in list(_ROOTS):
        disown(path)


@contextlib.contextmanager
def owning(path: str | os.PathLike[str] | None, who: str) -> Iterator[_Root]:
    """Own the store while inside (a command's run), unless this process owns it already."""
    resolved = config.db_path(path).resolve()
    if resolved in _ROOTS:
        yield _ROOTS[resolved]
        return
    root = own(resolved, who)
    try:
        yield root
    finally:
        disown(resolved)


class OwnerAppeared(StoreError):
    """A dashboard began to own the store while this command waited for it."""


# --- reading and writing -----------------------------------------------------------------


# The summed-count tables (sql/views/55_stage_counts.sql), their keys, and the macro that
# counts them.
_COUNT_TABLES = {
    "stage_count_cache": ["cache_day", "cohort", "college_name", "transfer_type", "origin_province", "stage"],
    "daily_count_cache": ["cache_day", "cohort", "college_name", "transfer_type", "stage", "day"],
}
_COUNT_MACROS = {"stage_count_cache": "stage_counts", "daily_count_cache": "daily_counts"}


# Up to this many graduates touched by one write, their materialised rows are updated in the
# same transaction; more (a batch of reports for a whole college), one full refill after it.
REFRESH_FEW = 100


# A few graduates' materialised rows of one day. Found through the 学号 index first (`offset 0`
# keeps the day's condition out of that scan: DuckDB uses the index only for a filter on the
# indexed column alone), measured 5 ms against 16 ms at 100k.
_TODAYS_ROWS_OF = (
    "(select *, rowid from main.graduate_stage_cache where list_contains(?, student_id) offset 0) where cache_day = ?"
)

# What a refresh writes; an owner's caches forget the results that read these.
STAGE_TABLES = ("graduate_stage_cache", "stage_count_cache", "daily_count_cache", "roster_option_cache", "settings")

_MEASURES: dict[str, list[str]] = {}


def _measures(conn: duckdb.DuckDBPyConnection, table: str, keys: list[str]) -> list[str]:
    """The summed columns of a count table (its columns but the keys); the views define them,
    so they are looked up once per process."""
    if table not in _MEASURES:
        columns = [
            r[0]
            for r in conn.execute(
                "select column_name from duckdb_columns() where table_name = ? and schema_name = 'main' "
                "order by column_index",
                [table],
            ).fetchall()
        ]
        _MEASURES[table] = [c for c in columns if c not in keys and c != "cache_day"]
    return _MEASURES[table]


def _frame(conn: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> pl.DataFrame:
    """The whole result of a query as a polars frame (fully fetched before the next query)."""
    return conn.sql(sql, params=params or None).pl()


def stage_cache_days(today: date) -> tuple[date, date]:
    """The days the materialised stages hold: the day before (for the KPI change) and today."""
    return today - timedelta(days=1), today


def _set_day(conn: duckdb.DuckDBPyConnection, day: date) -> None:
    conn.execute(_assignments(**_day(day)))


def _keep_private(path: Path) -> None:
    """The store holds personal data: its files are the owner's alone (0600), whatever the
    umask that created them (DuckDB creates the file and its WAL with the default)."""
    for found in (
        path,
        path.with_name(path.name + ".wal"),
        path.with_name(path.name + ".lock"),
        path.with_name(path.name + ".turnstile"),
    ):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if found.stat().st_mode & 0o077:
                os.chmod(found, 0o600)


def _connect(
    path: Path, *, read_only: bool, deadline: float, on_wait: WaitCallback | None
) -> duckdb.DuckDBPyConnection:
    told = False
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise StoreError(f"无法打开数据库 {path}：{exc}") from None
            # Someone outside dangan (a duckdb shell, a notebook) holds the file.
            if not told and on_wait is not None:
                on_wait(f"数据库文件 {path.name} 被其他程序占用，等待其释放……")
                told = True
            if time.monotonic() >= deadline:
                raise StoreBusy(
                    f"数据库文件 {path} 被其他程序占用（不是 dangan 的看板或命令）。请关闭打开它的程序后重试。"
                ) from None
            time.sleep(0.1)


@contextlib.contextmanager
def _borrowed(path: Path, deadline: float, on_wait: WaitCallback | None) -> Iterator[None]:
    """If another process owns the store (the dashboard), ask it to lend the file for one
    operation; the loan ends when this connection closes, whatever happens to this process."""
    owner = channel.read_owner(path)
    if owner is None:
        yield
        return
    if on_wait is not None:
        on_wait(f"看板 {channel.owner_label(owner)} 正在使用数据库，请它暂时借出……")
    try:
        with channel.connect(
            owner,
            {"op": "lend", "wait": max(deadline - time.monotonic(), 0.1)},
            timeout=max(deadline - time.monotonic(), 0.1),
        ) as line:
            answer = line.receive()
            if answer is None or not answer.get("ok"):
                raise StoreBusy(
                    f"看板 {channel.owner_label(owner)} 没能借出数据库："
                    f"{(answer or {}).get('error', '连接中断')}。请稍后重试。"
                )
            line.conn.settimeout(None)
            yield
    except channel.ChannelError:
        yield  # the owner is gone (its lock went with it): open the file as usual


class Reader:
    """A read-only view of the store for one operation, on behalf of one actor."""

    def __init__(
        self,
        conn: duckdb.DuckDBPyConnection,
        actor: Actor,
        today: date,
        versions: Versions | None = None,
        settings: dict[str, str] | None = None,
    ):
        self._conn = conn
        self.actor = actor
        self.today = today
        self.versions = versions  # what the owner had written when this snapshot began
        self.settings = settings or {}  # the day's settings as this snapshot began (Store.retarget)

    @property
    def conn(self) -> duckdb.DuckDBPyConnection:
        """The raw connection, for SQL that is no named query (scripts, tests)."""
        return self._conn

    def query(self, name: str, frames: dict[str, pl.DataFrame] | None = None, **params: Any) -> pl.DataFrame:
        """Run `sql/queries/<name>.sql` with named parameters; the whole result, as a frame.

        `frames` are made visible to the query as tables under their keys (e.g. `incoming`).
        A role that sees aggregates only is refused every query that lists people.
        """
        if self.actor.role in AGGREGATE_ONLY and name in PERSON_QUERIES:
            raise StoreError("你的角色只能查看汇总数据，不能查看毕业生名单或个人记录")
        with self._frames(frames):
            return _frame(self._conn, sqlfiles.query(name), params)

    @contextlib.contextmanager
    def _frames(self, frames: dict[str, pl.DataFrame] | None) -> Iterator[None]:
        for key, frame in (frames or {}).items():
            self._conn.register(key, frame.to_arrow())
        try:
            yield
        finally:
            for key in frames or {}:
                self._conn.unregister(key)

    @contextlib.contextmanager
    def only_students(self, student_ids: list[str]) -> Iterator[None]:
        """Narrow the live stage views to these graduates while inside (a few graduates' history
        costs milliseconds where everyone's costs seconds)."""
        self._conn.execute("set variable only_students = ?", [student_ids])
        try:
            yield
        finally:
            self._conn.execute("set variable only_students = NULL")

    def rows(self, name: str, **params: Any) -> list[dict[str, Any]]:
        return self.query(name, **params).to_dicts()

    def one(self, name: str, **params: Any) -> dict[str, Any] | None:
        found = self.rows(name, **params)
        return found[0] if found else None

    def setting(self, key: str) -> str | None:
        rows = self._conn.execute("select value from settings where key = ?", [key]).fetchall()
        return rows[0][0] if rows else None


class Writer(Reader):
    """The inside of one write transaction."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, actor: Actor, today: date):
        super().__init__(conn, actor, today)
        # The tables this transaction changed (None: unknown, as after raw SQL on `conn`): an
        # owner's caches forget the results that read them, and only those.
        self.changed: set[str] | None = set()
        self.audit_detail: dict[str, Any] = {}
        self.audit_target: str | None = None
        # Set by work that changes only these graduates' stages (a review decision): the store
        # then updates their materialised rows in the same transaction instead of a full refill.
        self.touched_students: list[str] | None = None
        # The accounts (usernames) whose rows of `users` this transaction changed, when it names
        # them (a login's outcome): other sessions keep their cached account.
        self.touched_users: list[str] = []
        # Graduates whose materialised rows an earlier write of the same group commit changed
        # and the group has not refreshed yet: their stages are read live (stages_for).
        self.unrefreshed: set[str] = set()

    @property
    def conn(self) -> duckdb.DuckDBPyConnection:
        """The raw connection: whatever it is used for, every cached result is forgotten."""
        self.changed = None
        return self._conn

    def parts_touched(self) -> list[str] | None:
        """The parts (`parts_of`) of the tables this transaction changed, when it named them:
        the graduates and their colleges, and the accounts (None: any may have changed)."""
        if self.touched_students is None or len(self.touched_students) > REFRESH_FEW:
            return None
        colleges = (
            [
                r[0]
                for r in self._conn.execute(
                    "select distinct college_name from graduates where list_contains(?, student_id)",
                    [self.touched_students],
                ).fetchall()
            ]
            if self.touched_students
            else []
        )
        return parts_of(colleges, self.touched_students, self.touched_users)

    def mark(self, *tables: str) -> None:
        if self.changed is not None:
            self.changed.update(tables)

    def now(self) -> datetime:
        """The as-of clock: today's date (which `--today` may set) at the current time of day.

        Events are stamped with it so that a store run with `--today` stays consistent: the
        views hide whatever is stamped after the as-of day.
        """
        return datetime.combine(self.today, datetime.now().time()).replace(microsecond=0)

    def execute(self, name: str, frames: dict[str, pl.DataFrame] | None = None, **params: Any) -> None:
        """Run a statement from `sql/queries/<name>.sql` (writes keep their SQL in files too)."""
        self.mark(*sqlfiles.writes(name))
        with self._frames(frames):
            self._conn.execute(sqlfiles.query(name), params)

    def insert(self, table: str, frame: pl.DataFrame) -> int:
        """Append a frame's rows to a table, matching columns by name."""
        if table not in _INSERTABLE:
            raise ValueError(f"not an insertable table: {table}")
        if frame.height == 0:
            return 0
        self.mark(table)
        with self._frames({"_incoming": frame}):
            self._conn.execute(f"insert into {table} by name select * from _incoming")
        return frame.height

    def next_ids(self, sequence: str, count: int) -> pl.Series:
        if sequence not in _SEQUENCES:
            raise ValueError(f"not a sequence: {sequence}")
        if count == 0:
            return pl.Series("id", [], dtype=pl.Int64)
        return _frame(self._conn, f"select nextval('{sequence}')::bigint as id from range(?)", [count])["id"]

    def refresh_stage_cache(self) -> None:
        """Refill `graduate_stage_cache` from the live view, for every college, as of today and
        the day before, and the summed counts made from it. The rows are kept in 学号 order, so
        that a few graduates' rows are found by the zone maps alone (refresh_stages_of)."""
        self.mark(*STAGE_TABLES)
        _set_scope(self._conn, SYSTEM)
        for i, day in enumerate(stage_cache_days(self.today)):
            _set_day(self._conn, day)
            fill = "create or replace table graduate_stage_cache as" if i == 0 else "insert into graduate_stage_cache"
            self._conn.execute(
                f"{fill} select ?::date as cache_day, * from graduate_stages_live order by student_id", [day]
            )
        self._conn.execute(
            "create or replace table roster_option_cache as "
            "select distinct cohort, college_name, major, class_name from graduates"
        )
        self._conn.execute("create index graduate_stage_cache_student on graduate_stage_cache (student_id)")
        self._refill_counts(stage_cache_days(self.today))
        self.set_setting("stage_cache_as_of", self.today.isoformat())
        self._rescope()

    def stage_cache_is_today(self) -> bool:
        """Whether the materialised stages were computed for this writer's day (and are fresh)."""
        return self.setting("stage_cache_as_of") == self.today.isoformat()

    def refresh_stages_of(self, student_ids: list[str]) -> None:
        """Recompute today's materialised rows of a few graduates, and adjust today's summed
        counts by the difference, inside this transaction (a review decision changes nothing
        else, and nothing about yesterday).

        Every statement reads or changes these graduates' rows and the count rows of their keys
        only: the history tables and the materialised rows are read through their 学号 indexes
        (migration 0007, refresh_stage_cache), and the counts are merged key by key. So it costs
        the same on 5 thousand or 12 million graduates."""
        self.mark("graduate_stage_cache", "stage_count_cache", "daily_count_cache")
        conn = self._conn
        _set_scope(conn, SYSTEM)
        # Their rows as counted until now, and as they are now. The counting macros run once
        # over both: the rows before are counted under their cohort negated, and subtracted.
        conn.execute(
            "create or replace temp table _stages_changed as "
            f"select * exclude (cache_day, rowid) replace (-cohort as cohort) from {_TODAYS_ROWS_OF}",
            [student_ids, self.today],
        )
        with self.only_students(student_ids):
            conn.execute("create or replace temp table _stages_now as select * from graduate_stages_live")
        conn.execute("insert into temp._stages_changed by name select * from temp._stages_now")
        conn.execute("set variable use_stage_cache = true")
        conn.execute("set variable use_count_cache = false")
        conn.execute("create or replace temp view graduate_stages as select * from temp._stages_changed")
        try:
            for table, keys in _COUNT_TABLES.items():
                self._merge_count_difference(table, keys[1:])
        finally:
            conn.execute("drop view if exists temp.graduate_stages; set variable use_stage_cache = false")
        conn.execute(
            f"delete from main.graduate_stage_cache where rowid in (select rowid from {_TODAYS_ROWS_OF})",
            [student_ids, self.today],
        )
        conn.execute(
            "insert into main.graduate_stage_cache by name select ?::date as cache_day, * from temp._stages_now",
            [self.today],
        )
        conn.execute("drop table temp._stages_changed; drop table temp._stages_now")
        self._rescope()

    def _merge_count_difference(self, table: str, keys: list[str]) -> None:
        """Change today's rows of a summed-count table by what the graduates in graduate_stages
        (temp._stages_changed) count for now minus what they counted for: the table's own macro
        (stage_counts or daily_counts) counts them, and the difference is merged key by key."""
        measures = _measures(self._conn, table, keys)
        everyone = ", ".join(["NULL"] * 8)
        others = [k for k in keys if k != "cohort"]
        difference = (
            f"select abs(cohort) as cohort, {', '.join(others)}, "
            + ", ".join(f"sum(sign(cohort) * {m})::bigint as {m}" for m in measures)
            + f" from {_COUNT_MACROS[table]}({everyone}) group by all having "
            + " or ".join(f"sum(sign(cohort) * {m}) <> 0" for m in measures)
        )
        same = " and ".join(f"t.{k} is not distinct from d.{k}" for k in keys)
        self._conn.execute(
            f"""
            merge into main.{table} as t
            using (select ?::date as cache_day, * from ({difference})) as d
            on t.cache_day = d.cache_day and {same}
            when matched and {" and ".join(f"t.{m} + d.{m} = 0" for m in measures)} then delete
            when matched then update set {", ".join(f"{m} = t.{m} + d.{m}" for m in measures)}
            when not matched then insert by name""",
            [self.today],
        )

    @contextlib.contextmanager
    def as_of(self, day: date) -> Iterator[None]:
        """Read the live views as of another day inside this transaction (replaying history)."""
        _set_day(self._conn, day)
        try:
            yield
        finally:
            _set_day(self._conn, self.today)

    @contextlib.contextmanager
    def stages_for(self, student_ids: list[str]) -> Iterator[None]:
        """Read these graduates' stages before this transaction changes anything: from the
        materialised copy when it is today's (it equals the live view then: writers take
        turns, and each leaves it fresh), else from the live view narrowed to them. Within a
        group commit, graduates an earlier write of the group changed are read live too."""
        if self.stage_cache_is_today() and not self.unrefreshed.intersection(student_ids):
            self._conn.execute("set variable use_stage_cache = true")
            self._conn.execute(sqlfiles.query("use_stage_cache"))
            try:
                yield
            finally:
                self._conn.execute("drop view if exists temp.graduate_stages")
                self._conn.execute("set variable use_stage_cache = false")
        else:
            with self.only_students(student_ids):
                yield

    def _with_cached_stages(self, work: Callable[[], object]) -> None:
        """Run `work` with graduate_stages reading the materialised copy of the writer's
        current day and stage_counts/daily_counts counting over it (not over their tables)."""
        self._conn.execute("set variable use_stage_cache = true")
        self._conn.execute("set variable use_count_cache = false")
        self._conn.execute(sqlfiles.query("use_stage_cache"))
        try:
            work()
        finally:
            self._conn.execute("drop view if exists temp.graduate_stages")
            self._conn.execute("set variable use_stage_cache = false")

    def _refill_counts(self, days: tuple[date, ...]) -> None:
        """Recompute the summed counts of `days` from the materialised stages."""
        _set_scope(self._conn, SYSTEM)
        everyone = ", ".join(["NULL"] * 8)

        def fill() -> None:
            for day in days:
                _set_day(self._conn, day)
                for table, macro in _COUNT_MACROS.items():
                    self._conn.execute(f"delete from {table} where cache_day = ?", [day])
                    self._conn.execute(
                        f"insert into {table} by name select ?::date as cache_day, * from {macro}({everyone})", [day]
                    )

        try:
            self._with_cached_stages(fill)
        finally:
            _set_day(self._conn, self.today)

    def _rescope(self) -> None:
        _set_scope(self._conn, self.actor)

    @contextlib.contextmanager
    def whole_school(self) -> Iterator[None]:
        """See every graduate while inside, whatever the actor's scope: for the writes that
        store aggregates (the daily snapshot), which must never be one college's or one
        graduate's view. Who may make such a write is the caller's check."""
        _set_scope(self._conn, SYSTEM)
        try:
            yield
        finally:
            self._rescope()

    def set_setting(self, key: str, value: str) -> None:
        self.mark("settings")
        self._conn.execute("insert or replace into settings (key, value) values (?, ?)", [key, value])

    def audit(
        self, action: str, target: str | None = None, detail: dict[str, Any] | None = None, token: str | None = None
    ) -> None:
        self.mark("audit_log")
        self._conn.execute(
            "insert into audit_log (audit_id, logged_at, actor, role, action, target, detail, write_token) "
            "values (nextval('audit_ids'), ?, ?, ?, ?, ?, ?, ?)",
            [
                datetime.now(),
                self.actor.name,
                self.actor.role,
                action,
                target,
                json.dumps(detail or {}, ensure_ascii=False, default=str),
                token,
            ],
        )


def _refill_if_stale(writer: Writer) -> None:
    """The full refill after a write that left the materialised stages stale, unless a refill
    queued ahead of it (another write of the same group commit) has already made them fresh."""
    if not writer.stage_cache_is_today():
        writer.refresh_stage_cache()
    else:
        writer.touched_students = []


class Store:
    """A dangan store file. Cheap to create; connections are opened per operation."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        today: str | date | None = None,
        lock_wait: float | None = None,
        on_wait: WaitCallback | None = None,
    ):
        self.path = config.db_path(path).resolve()
        self.explicit_today = config.explicit_today(today)
        self.lock_wait = config.lock_wait_seconds() if lock_wait is None else lock_wait
        self.on_wait = on_wait
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._turnstile_path = self.path.with_name(self.path.name + ".turnstile")
        self._ready = False

    # -- connections --

    @contextlib.contextmanager
    def _connection(self, *, write: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        deadline = time.monotonic() + self.lock_wait
        root = owner_of(self.path)
        if root is not None:
            try:
                held = root.cursor(deadline, self.on_wait)
                cursor = held.__enter__()
            except OwnerAppeared:
                if root.step_aside is None:
                    raise
                root.step_aside()  # another dashboard owns the file: work as a script does
            else:
                try:
                    yield cursor
                except BaseException:
                    if not held.__exit__(*sys.exc_info()):
                        raise
                else:
                    held.__exit__(None, None, None)
                return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.ExitStack() as stack:
            stack.enter_context(_borrowed(self.path, deadline, self.on_wait))
            if write:
                stack.enter_context(_held(self._turnstile_path, True, deadline, self.on_wait))
                stack.enter_context(_held(self._lock_path, True, deadline, self.on_wait))
            else:
                with _held(self._turnstile_path, False, deadline, self.on_wait):
                    stack.enter_context(_held(self._lock_path, False, deadline, self.on_wait))
            conn = _connect(self.path, read_only=not write, deadline=deadline, on_wait=self.on_wait)
            try:
                yield conn
            finally:
                conn.close()
                if write:
                    _keep_private(self.path)

    @contextlib.contextmanager
    def _turn(self, who: str) -> Iterator[None]:
        """A writer's turn: in arrival order when this process owns the store (across
        processes the lock file orders them)."""
        root = owner_of(self.path)
        if root is None:
            yield
            return
        with root.turns.turn(who, time.monotonic() + self.lock_wait, self.on_wait):
            yield

    def _configure(
        self,
        conn: duckdb.DuckDBPyConnection,
        actor: Actor,
        as_of: date | None = None,
        *,
        write: bool = False,
        begin: bool = False,
        settings: dict[str, str] | None = None,
    ) -> tuple[date, dict[str, str]]:
        """Set the connection's day, scope and stage source for `actor`: two calls into DuckDB
        (one to read the settings, unless given, and one script), whatever the number of
        variables. `begin` starts the snapshot transaction in the first call (with the settings
        read there, so never together with `settings`). Returns the day and the settings read."""
        if settings is None:
            settings = dict(
                conn.execute(
                    ("begin transaction;\n" if begin else "")
                    + "select key, value from settings where key in ('as_of', 'stage_cache_as_of')"
                ).fetchall()
            )
        today = as_of or self._default_today(settings)
        # Readers use the materialised stages when they were computed for this very day; a
        # writer always sees the live view, which includes its own uncommitted changes.
        cache_as_of = settings.get("stage_cache_as_of")
        cached = not write and cache_as_of is not None and today in stage_cache_days(date.fromisoformat(cache_as_of))
        script = _assignments(
            **_day(today), **_scope(actor), only_students=None, use_stage_cache=cached, use_count_cache=cached
        )
        if cached:
            script += sqlfiles.query("use_stage_cache")
        elif not write:
            script += "drop view if exists temp.graduate_stages"
        conn.execute(script)
        return today, settings

    def _default_today(self, settings: dict[str, str]) -> date:
        if self.explicit_today is not None:
            return self.explicit_today
        return date.fromisoformat(settings["as_of"]) if "as_of" in settings else date.today()

    # -- public --

    def exists(self) -> bool:
        return self.path.exists()

    def ensure_ready(self) -> None:
        """Create the store, or upgrade one built by an older version, before first use."""
        if self._ready:
            return
        wanted = _wanted_schema()
        if self.path.exists():
            with self._connection(write=False) as conn:
                if _schema_state(conn) == wanted:
                    self._ready = True
                    return
        existed = self.path.exists()
        with self._turn("数据库升级"), self._connection(write=True) as conn:
            if _schema_state(conn) == wanted:  # another writer upgraded it meanwhile
                self._ready = True
                return
            _migrate(conn, wanted)
            upgraded = existed and conn.execute("select count(*) from graduates").fetchall()[0][0] > 0
        root = owner_of(self.path)
        if root is not None:
            root.versions.bump(None)
        self._ready = True
        if upgraded:
            # The new views recreated the materialised stages empty: refill them now, rather than
            # leave every reader on the (much slower) live views until the next write.
            self._write(SYSTEM, "stages:refresh", lambda w: w.refresh_stage_cache(), None, invalidate=False)

    @contextlib.contextmanager
    def reading(self, actor: Actor, as_of: date | None = None) -> Iterator[Reader]:
        """A read-only Reader for one operation. Results are fully fetched before it closes.

        `as_of` replays another day (the KPI cards compare with yesterday); by default the
        store's today.
        """
        self.ensure_ready()
        with self._connection(write=False) as conn:
            root = owner_of(self.path)
            snapshot = root is not None
            versions = root.versions.frozen() if root is not None else None  # before the snapshot
            try:
                # a snapshot: one consistent view for the whole operation, as the shared lock gave
                today, settings = self._configure(conn, actor, as_of, begin=snapshot)
                yield Reader(conn, actor, today, versions, settings)
            finally:
                if snapshot:
                    with contextlib.suppress(duckdb.Error):
                        conn.execute("rollback")

    def retarget(self, reader: Reader, actor: Actor, as_of: date | None) -> None:
        """Point an open Reader at another user or day (its scope and as-of variables); nothing
        to do when it is already there (the settings read at its start hold for its snapshot)."""
        if actor == reader.actor and (as_of or self._default_today(reader.settings)) == reader.today:
            return
        reader.actor = actor
        reader.today, _ = self._configure(reader.conn, actor, as_of, settings=reader.settings)

    def transaction(
        self,
        actor: Actor,
        action: str,
        work: Callable[[Writer], T],
        target: str | None = None,
        *,
        refresh_stages: bool = True,
        combine: bool = False,
    ) -> T:
        """Run `work` in one write transaction, audited as `action`; all of it or none of it.

        When `work` names the graduates it touched (`writer.touched_students`, e.g. a review
        decision) and the materialised stages are today's, their rows and today's counts are
        updated in the same transaction. Otherwise the transaction marks the materialised
        stages stale, so readers fall back to the live view, and after it commits a second short
        transaction refills them (skipped with `refresh_stages=False`, for the demo's
        intermediate chunks). If that one is interrupted the stages just stay stale: readers
        are slower, never wrong.

        `combine`: a small write (it touches a few graduates, or none) that may share a group
        commit with others queued at the same moment (`_Turns`); the work must not depend on
        committing alone.
        """
        result, refreshed = self._write(actor, action, work, target, invalidate=True, combine=combine)
        if refresh_stages and not refreshed:
            self._write(actor, "stages:refresh", _refill_if_stale, None, invalidate=False)
        return result

    def rehearse(self, actor: Actor, work: Callable[[Writer], T]) -> T:
        """Run `work` inside a write transaction and roll it back: what a write would do (an
        import's preview), with nothing written and nothing audited."""
        self.ensure_ready()
        with self._turn(f"{actor.name} 的预览"), self._connection(write=True) as conn:
            today, _ = self._configure(conn, actor, write=True)
            conn.execute("begin transaction")
            try:
                return work(Writer(conn, actor, today))
            finally:
                with contextlib.suppress(duckdb.Error):
                    conn.execute("rollback")

    def record(self, actor: Actor, action: str, target: str | None, detail: dict[str, Any]) -> None:
        """An audit record on its own (an export, a view of unmasked data): nothing else changes."""

        def work(writer: Writer) -> None:
            writer.audit_detail = detail
            writer.touched_students = []  # no stage changes: the materialised copy stays fresh

        self.transaction(actor, action, work, target, combine=True)

    def _write(
        self,
        actor: Actor,
        action: str,
        work: Callable[[Writer], T],
        target: str | None,
        *,
        invalidate: bool,
        combine: bool = False,
    ) -> tuple[T, bool]:
        """One audited write transaction, retried if its COMMIT did not take effect.

        Returns the work's result and whether the materialised stages are fresh after it.
        `combine`: when this process owns the store, the write may share one transaction with
        other combinable writes queued at the same time (a group commit, `_Turns`)."""
        self.ensure_ready()
        root = owner_of(self.path)
        if root is None or not combine:
            with self._turn(f"{actor.name} 的 {action}"):
                return self._write_in_turn(actor, action, work, target, invalidate=invalidate)
        entry = _Entry(f"{actor.name} 的 {action}", (actor, action, work, target, invalidate))
        root.turns.run_combined(entry, time.monotonic() + self.lock_wait, self.on_wait, self._write_group)
        assert entry.outcome is not None
        result, error = entry.outcome
        if error is not None:
            raise error
        return cast(tuple[T, bool], result)

    def _write_group(self, group: list[_Entry]) -> None:
        """Run a group of combinable writes (in arrival order) and set each one's outcome: in one
        transaction when they all succeed; when one of them fails, each alone, as if they had
        never been grouped (so each gets its own result or error)."""
        if len(group) > 1:
            try:
                for entry, outcome in zip(group, self._write_together([e.payload for e in group]), strict=True):
                    entry.outcome = (outcome, None)
                return
            except Exception:  # noqa: BLE001 - rolled back, nothing of the group was written
                pass
        for entry in group:
            actor, action, work, target, invalidate = entry.payload
            try:
                entry.outcome = (self._write_in_turn(actor, action, work, target, invalidate=invalidate), None)
            except Exception as exc:  # noqa: BLE001 - handed to the write's own thread, which raises it
                entry.outcome = (None, exc)

    def _write_together(
        self, group: list[tuple[Actor, str, Callable[[Writer], Any], str | None, bool]]
    ) -> list[tuple[Any, bool]]:
        """The writes of `group` (actor, action, work, target, invalidate) in one transaction:
        each work in turn under its own actor, then one stage refresh for every graduate they
        touched, one audit row each, one COMMIT; retried if the COMMIT did not take effect.
        Returns each work's result and whether the materialised stages are fresh after it.

        Each work sees what the ones before it wrote (one transaction, in arrival order), as it
        would have had they committed one by one; `Writer.unrefreshed` sends its stage reads of
        the graduates they touched to the live view."""
        for _attempt in range(3):
            tokens = [uuid.uuid4().hex for _ in group]
            with self._connection(write=True) as conn:
                today, _ = self._configure(conn, group[0][0], write=True)
                conn.execute("begin transaction")
                try:
                    unrefreshed: set[str] = set()
                    done: list[tuple[Writer, Any, list[str] | None]] = []
                    for (actor, action, work, target, invalidate), token in zip(group, tokens, strict=True):
                        _set_scope(conn, actor)
                        writer = Writer(conn, actor, today)
                        writer.unrefreshed = unrefreshed
                        result = work(writer)
                        if writer.touched_students is None or len(writer.touched_students) > REFRESH_FEW:
                            if invalidate:  # as a write alone would: later ones read the live view
                                writer.mark("settings")
                                conn.execute("delete from settings where key = 'stage_cache_as_of'")
                        else:
                            unrefreshed.update(writer.touched_students)
                        writer.audit(action, writer.audit_target or target, writer.audit_detail, token=token)
                        done.append((writer, result, writer.parts_touched()))
                    refresher = Writer(conn, SYSTEM, today)
                    fresh = refresher.stage_cache_is_today()
                    if fresh and unrefreshed:
                        refresher.refresh_stages_of(sorted(unrefreshed))
                    conn.execute("commit")
                except duckdb.TransactionException:
                    with contextlib.suppress(duckdb.Error):
                        conn.execute("rollback")
                    continue
                except BaseException:
                    with contextlib.suppress(duckdb.Error):
                        conn.execute("rollback")
                    raise
                # fetchall, not fetchone: DuckDB 2.0 keeps an unfinished result open otherwise
                landed = conn.execute(
                    "select count(*) from audit_log where list_contains(?, write_token)", [tokens]
                ).fetchall()
                if landed[0][0] == len(group):
                    root = owner_of(self.path)
                    if root is not None:
                        for writer, _result, parts in done:
                            root.versions.bump(writer.changed, parts)
                        every = [p for _w, _r, parts in done for p in (parts or [])]
                        root.versions.bump(refresher.changed, None if any(p is None for _w, _r, p in done) else every)
                    return [(result, fresh or writer.touched_students == []) for writer, result, _colleges in done]
        raise WriteLost("写入没有生效（与其他写入冲突），已重试 3 次。请稍后再试。")

    def _write_in_turn(
        self, actor: Actor, action: str, work: Callable[[Writer], T], target: str | None, *, invalidate: bool
    ) -> tuple[T, bool]:
        return cast(tuple[T, bool], self._write_together([(actor, action, work, target, invalidate)])[0])

    def version(
        self,
        tables: Iterable[str],
        colleges: tuple[str, ...] | None = None,
        reader: Reader | None = None,
        *,
        parts: Iterable[str] | None = None,
        past: bool = False,
    ) -> tuple[Any, ...]:
        """A cache key for a result read from `tables` by someone who sees `colleges` (None: all),
        or only `parts` (`parts_of`: one graduate, one account): when this process owns the store,
        it changes only when one of them is written (for those colleges or parts); otherwise
        whenever anything is. A result read through an open `reader` is keyed by the writes its
        snapshot had seen, not by any that landed since. `past`: a result as of a day before
        today, which writes of today's events leave as it was (TODAY_ONLY)."""
        root = owner_of(self.path)
        if root is None:
            return self.data_version()
        versions = reader.versions if reader is not None and reader.versions is not None else root.versions
        if parts is None and colleges is not None:
            parts = parts_of(colleges)
        return (str(self.path), self.explicit_today, *versions.key(tables, parts, past=past))

    def data_version(self) -> tuple[Any, ...]:
        """Changes whenever anything is written: a cache key for query results."""
        parts: list[Any] = [str(self.path), self.explicit_today]
        for p in (self.path, self.path.with_name(self.path.name + ".wal")):
            try:
                st = p.stat()
                parts.append((st.st_mtime_ns, st.st_size))
            except FileNotFoundError:
                parts.append(None)
        return tuple(parts)


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
