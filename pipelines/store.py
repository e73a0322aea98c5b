"""The store: one DuckDB file, and the only module that opens it or writes to it.

Concurrency design (see README, "看板与命令行同时使用"):

* DuckDB lets one process hold a file read-write and then locks every other process out, even
  readers. So no dangan process keeps the file open between operations: a read opens a
  read-only connection for one operation (a page's queries, one command's report) and closes it;
  a write opens a read-write connection for exactly one transaction.
* A lock file beside the store (`<db>.lock`) orders them across processes and threads: readers
  share it, a writer holds it alone. A second lock (`<db>.turnstile`) gives a waiting writer
  priority, so a busy dashboard cannot starve an import.
* Whoever has to wait is told so (`on_wait`), and gives up with `StoreBusy` after
  `DANGAN_LOCK_WAIT` seconds, having written nothing.
* Every transaction writes an audit row carrying a fresh token and reads it back after COMMIT:
  DuckDB can roll a conflicting transaction back silently, so a write is checked, and retried.

Every read and write names the acting user (`Actor`); the connection carries the user's scope
(`scope_colleges`) and the as-of date into the SQL views, so access rules hold below the UI.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import polars as pl

from pipelines import checks, codes, config, divisions, sqlfiles, transfer_types, workflow

T = TypeVar("T")
WaitCallback = Callable[[str], None]

# Tables a Writer may bulk-insert into.
_INSERTABLE = {
    "campaigns", "colleges", "graduates", "destinations", "registrations", "reviews",
    "hukou_registrations", "confirmations", "verification_reports", "registration_proofs",
    "import_batches", "audit_log", "users", "stage_snapshots", "activation_codes",
}
_SEQUENCES = {
    "destination_ids", "registration_ids", "review_ids", "batch_ids", "audit_ids",
    "hukou_ids", "confirmation_ids", "report_ids", "proof_ids", "user_ids", "activation_ids",
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
PERSON_QUERIES = frozenset({
    "graduate_list", "graduate_detail", "risk_list", "review_queue", "review_item", "review_results",
    "registration_timeline", "personal_data_of", "proofs_of", "report_candidates", "report_documents",
    "report_subject", "revision_of", "confirmations_of", "reports_of", "current_revision_of",
    "graduate_for_submission", "confirmation_snapshot", "current_destination_of", "current_hukou_of",
})


class StoreError(RuntimeError):
    """A problem the user can act on; the message is Chinese and complete."""


class StoreBusy(StoreError):
    pass


class WriteLost(StoreError):
    pass


def _set_scope(conn: duckdb.DuckDBPyConnection, actor: Actor) -> None:
    """What the SQL views let this connection see (sql/views/05_scoped_graduates.sql)."""
    conn.execute("set variable scope_colleges = ?", [list(actor.colleges) if actor.colleges is not None else None])
    conn.execute("set variable scope_student = ?", [actor.student_id])


# --- locks -------------------------------------------------------------------------------


def _flock(fd: int, exclusive: bool, deadline: float, on_wait: WaitCallback | None) -> None:
    op = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    told = False
    while True:
        try:
            fcntl.flock(fd, op | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if not told and on_wait is not None:
                on_wait(
                    "数据库正被另一个 dangan 进程使用（看板或另一条命令），等待其完成……"
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
        _flock(fd, exclusive, deadline, on_wait)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


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


def _columns(conn: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in conn.execute(
        "select column_name from duckdb_columns() where table_name = ? and schema_name = 'main' "
        "order by column_index", [table]).fetchall()]


def _frame(conn: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> pl.DataFrame:
    """The whole result of a query as a polars frame (fully fetched before the next query)."""
    return conn.sql(sql, params=params or None).pl()


def stage_cache_days(today: date) -> tuple[date, date]:
    """The days the materialised stages hold: the day before (for the KPI change) and today."""
    return today - timedelta(days=1), today


def _set_day(conn: duckdb.DuckDBPyConnection, day: date) -> None:
    conn.execute("set variable as_of = ?", [day])
    conn.execute("set variable as_of_end = ?", [datetime.combine(day + timedelta(days=1), datetime.min.time())])


class Reader:
    """A read-only view of the store for one operation, on behalf of one actor."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, actor: Actor, today: date):
        self.conn = conn
        self.actor = actor
        self.today = today

    def query(self, name: str, frames: dict[str, pl.DataFrame] | None = None, **params: Any) -> pl.DataFrame:
        """Run `sql/queries/<name>.sql` with named parameters; the whole result, as a frame.

        `frames` are made visible to the query as tables under their keys (e.g. `incoming`).
        A role that sees aggregates only is refused every query that lists people.
        """
        if self.actor.role in AGGREGATE_ONLY and name in PERSON_QUERIES:
            raise StoreError("你的角色只能查看汇总数据，不能查看毕业生名单或个人记录")
        with self._frames(frames):
            return _frame(self.conn, sqlfiles.query(name), params)

    @contextlib.contextmanager
    def _frames(self, frames: dict[str, pl.DataFrame] | None) -> Iterator[None]:
        for key, frame in (frames or {}).items():
            self.conn.register(key, frame.to_arrow())
        try:
            yield
        finally:
            for key in frames or {}:
                self.conn.unregister(key)

    @contextlib.contextmanager
    def only_students(self, student_ids: list[str]) -> Iterator[None]:
        """Narrow the live stage views to these graduates while inside (a few graduates' history
        costs milliseconds where everyone's costs seconds)."""
        self.conn.execute("set variable only_students = ?", [student_ids])
        try:
            yield
        finally:
            self.conn.execute("set variable only_students = NULL")

    def rows(self, name: str, **params: Any) -> list[dict[str, Any]]:
        return self.query(name, **params).to_dicts()

    def one(self, name: str, **params: Any) -> dict[str, Any] | None:
        found = self.rows(name, **params)
        return found[0] if found else None

    def setting(self, key: str) -> str | None:
        rows = self.conn.execute("select value from settings where key = ?", [key]).fetchall()
        return rows[0][0] if rows else None


class Writer(Reader):
    """The inside of one write transaction."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, actor: Actor, today: date):
        super().__init__(conn, actor, today)
        self.audit_detail: dict[str, Any] = {}
        self.audit_target: str | None = None
        # Set by work that changes only these graduates' stages (a review decision): the store
        # then updates their materialised rows in the same transaction instead of a full refill.
        self.touched_students: list[str] | None = None

    def now(self) -> datetime:
        """The as-of clock: today's date (which `--today` may set) at the current time of day.

        Events are stamped with it so that a store run with `--today` stays consistent: the
        views hide whatever is stamped after the as-of day.
        """
        return datetime.combine(self.today, datetime.now().time()).replace(microsecond=0)

    def execute(self, name: str, frames: dict[str, pl.DataFrame] | None = None, **params: Any) -> None:
        """Run a statement from `sql/queries/<name>.sql` (writes keep their SQL in files too)."""
        with self._frames(frames):
            self.conn.execute(sqlfiles.query(name), params)

    def insert(self, table: str, frame: pl.DataFrame) -> int:
        """Append a frame's rows to a table, matching columns by name."""
        if table not in _INSERTABLE:
            raise ValueError(f"not an insertable table: {table}")
        if frame.height == 0:
            return 0
        with self._frames({"_incoming": frame}):
            self.conn.execute(f"insert into {table} by name select * from _incoming")
        return frame.height

    def next_ids(self, sequence: str, count: int) -> pl.Series:
        if sequence not in _SEQUENCES:
            raise ValueError(f"not a sequence: {sequence}")
        if count == 0:
            return pl.Series("id", [], dtype=pl.Int64)
        return _frame(self.conn, f"select nextval('{sequence}')::bigint as id from range(?)", [count])["id"]

    def refresh_stage_cache(self) -> None:
        """Refill `graduate_stage_cache` from the live view, for every college, as of today and
        the day before, and the summed counts made from it."""
        _set_scope(self.conn, SYSTEM)
        for i, day in enumerate(stage_cache_days(self.today)):
            _set_day(self.conn, day)
            fill = "create or replace table graduate_stage_cache as" if i == 0 else "insert into graduate_stage_cache"
            self.conn.execute(f"{fill} select ?::date as cache_day, * from graduate_stages_live", [day])
        self.conn.execute("create or replace table roster_option_cache as "
                          "select distinct cohort, college_name, major, class_name from graduates")
        self._refill_counts(stage_cache_days(self.today))
        self.set_setting("stage_cache_as_of", self.today.isoformat())
        self._rescope()

    def stage_cache_is_today(self) -> bool:
        """Whether the materialised stages were computed for this writer's day (and are fresh)."""
        return self.setting("stage_cache_as_of") == self.today.isoformat()

    def refresh_stages_of(self, student_ids: list[str]) -> None:
        """Recompute today's materialised rows of a few graduates, and adjust today's summed
        counts by the difference, inside this transaction (a review decision changes nothing
        else, and nothing about yesterday). Costs the same on 5 thousand or 12 million rows,
        but for the scans that find these graduates' history."""
        _set_scope(self.conn, SYSTEM)
        with self.only_students(student_ids):
            self._count_rows(sign=-1)  # what these graduates counted for until now
            self.conn.execute("delete from graduate_stage_cache where cache_day = ? and list_contains(?, student_id)",
                              [self.today, student_ids])
            self.conn.execute("insert into graduate_stage_cache select ?::date as cache_day, * from graduate_stages_live",
                              [self.today])
            self._count_rows(sign=1)  # and what they count for now
        for table, keys in _COUNT_TABLES.items():
            measures = [c for c in _columns(self.conn, table) if c not in keys]
            self.conn.execute(f"""
                create or replace temp table _summed as
                select {", ".join(keys)}, {", ".join(f"sum({m})::bigint as {m}" for m in measures)}
                from {table} where cache_day = ? group by all
                having {" or ".join(f"sum({m}) <> 0" for m in measures)}""", [self.today])
            self.conn.execute(f"delete from {table} where cache_day = ?", [self.today])
            self.conn.execute(f"insert into {table} by name select * from _summed")
            self.conn.execute("drop table _summed")
        self._rescope()

    @contextlib.contextmanager
    def as_of(self, day: date) -> Iterator[None]:
        """Read the live views as of another day inside this transaction (replaying history)."""
        _set_day(self.conn, day)
        try:
            yield
        finally:
            _set_day(self.conn, self.today)

    @contextlib.contextmanager
    def stages_for(self, student_ids: list[str]) -> Iterator[None]:
        """Read these graduates' stages before this transaction changes anything: from the
        materialised copy when it is today's (it equals the live view then: writers take
        turns, and each leaves it fresh), else from the live view narrowed to them."""
        if self.stage_cache_is_today():
            self.conn.execute("set variable use_stage_cache = true")
            self.conn.execute(sqlfiles.query("use_stage_cache"))
            try:
                yield
            finally:
                self.conn.execute("drop view if exists temp.graduate_stages")
                self.conn.execute("set variable use_stage_cache = false")
        else:
            with self.only_students(student_ids):
                yield

    def _count_rows(self, sign: int) -> None:
        """Append today's counts of the graduates in `only_students`, times `sign`, to the
        summed-count tables (refresh_stages_of then adds them up)."""
        everyone = ", ".join(["NULL"] * 8)

        def append() -> None:
            for table, keys in _COUNT_TABLES.items():
                measures = [c for c in _columns(self.conn, table) if c not in keys]
                self.conn.execute(
                    f"insert into {table} by name select ?::date as cache_day, {', '.join(keys[1:])}, "
                    f"{', '.join(f'{sign} * {m} as {m}' for m in measures)} "
                    f"from {_COUNT_MACROS[table]}({everyone})", [self.today])

        self._with_cached_stages(append)

    def _with_cached_stages(self, work: Callable[[], object]) -> None:
        """Run `work` with graduate_stages reading the materialised copy of the writer's
        current day and stage_counts/daily_counts counting over it (not over their tables)."""
        self.conn.execute("set variable use_stage_cache = true")
        self.conn.execute("set variable use_count_cache = false")
        self.conn.execute(sqlfiles.query("use_stage_cache"))
        try:
            work()
        finally:
            self.conn.execute("drop view if exists temp.graduate_stages")
            self.conn.execute("set variable use_stage_cache = false")

    def _refill_counts(self, days: tuple[date, ...]) -> None:
        """Recompute the summed counts of `days` from the materialised stages."""
        _set_scope(self.conn, SYSTEM)
        everyone = ", ".join(["NULL"] * 8)

        def fill() -> None:
            for day in days:
                _set_day(self.conn, day)
                for table, macro in _COUNT_MACROS.items():
                    self.conn.execute(f"delete from {table} where cache_day = ?", [day])
                    self.conn.execute(f"insert into {table} by name select ?::date as cache_day, * "
                                      f"from {macro}({everyone})", [day])

        try:
            self._with_cached_stages(fill)
        finally:
            _set_day(self.conn, self.today)

    def _rescope(self) -> None:
        _set_scope(self.conn, self.actor)

    @contextlib.contextmanager
    def whole_school(self) -> Iterator[None]:
        """See every graduate while inside, whatever the actor's scope: for the writes that
        store aggregates (the daily snapshot), which must never be one college's or one
        graduate's view. Who may make such a write is the caller's check."""
        _set_scope(self.conn, SYSTEM)
        try:
            yield
        finally:
            self._rescope()

    def set_setting(self, key: str, value: str) -> None:
        self.conn.execute(
            "insert or replace into settings (key, value) values (?, ?)", [key, value]
        )

    def audit(self, action: str, target: str | None = None, detail: dict[str, Any] | None = None,
              token: str | None = None) -> None:
        self.conn.execute(
            "insert into audit_log (audit_id, logged_at, actor, role, action, target, detail, write_token) "
            "values (nextval('audit_ids'), ?, ?, ?, ?, ?, ?, ?)",
            [datetime.now(), self.actor.name, self.actor.role, action, target,
             json.dumps(detail or {}, ensure_ascii=False, default=str), token],
        )


class Store:
    """A dangan store file. Cheap to create; connections are opened per operation."""

    def __init__(self, path: str | os.PathLike[str] | None = None, today: str | date | None = None,
                 lock_wait: float | None = None, on_wait: WaitCallback | None = None):
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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.ExitStack() as stack:
            if write:
                stack.enter_context(_held(self._turnstile_path, True, deadline, self.on_wait))
                stack.enter_context(_held(self._lock_path, True, deadline, self.on_wait))
            else:
                with _held(self._turnstile_path, False, deadline, self.on_wait):
                    stack.enter_context(_held(self._lock_path, False, deadline, self.on_wait))
            conn = self._connect(read_only=not write, deadline=deadline)
            try:
                yield conn
            finally:
                conn.close()
                if write:
                    self._keep_private()

    def _keep_private(self) -> None:
        """The store holds personal data: its files are the owner's alone (0600), whatever the
        umask that created them (DuckDB creates the file and its WAL with the default)."""
        for path in (self.path, self.path.with_name(self.path.name + ".wal"), self._lock_path, self._turnstile_path):
            with contextlib.suppress(FileNotFoundError, PermissionError):
                if path.stat().st_mode & 0o077:
                    os.chmod(path, 0o600)

    def _connect(self, *, read_only: bool, deadline: float) -> duckdb.DuckDBPyConnection:
        told = False
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise StoreError(f"无法打开数据库 {self.path}：{exc}") from None
                # Someone outside dangan (a duckdb shell, a notebook) holds the file.
                if not told and self.on_wait is not None:
                    self.on_wait(f"数据库文件 {self.path.name} 被其他程序占用，等待其释放……")
                    told = True
                if time.monotonic() >= deadline:
                    raise StoreBusy(
                        f"数据库文件 {self.path} 被其他程序占用（不是 dangan 的看板或命令）。"
                        "请关闭打开它的程序后重试。"
                    ) from None
                time.sleep(0.1)

    def _configure(self, conn: duckdb.DuckDBPyConnection, actor: Actor, as_of: date | None = None,
                   *, write: bool = False) -> date:
        settings = dict(conn.execute(
            "select key, value from settings where key in ('as_of', 'stage_cache_as_of')").fetchall())
        today = as_of or self.explicit_today
        if today is None:
            today = date.fromisoformat(settings["as_of"]) if "as_of" in settings else date.today()
        _set_day(conn, today)
        _set_scope(conn, actor)
        conn.execute("set variable only_students = NULL")
        # Readers use the materialised stages when they were computed for this very day; a
        # writer always sees the live view, which includes its own uncommitted changes.
        cache_as_of = settings.get("stage_cache_as_of")
        cached = not write and cache_as_of is not None and today in stage_cache_days(date.fromisoformat(cache_as_of))
        conn.execute("set variable use_stage_cache = ?", [cached])
        conn.execute("set variable use_count_cache = ?", [cached])
        if cached:
            conn.execute(sqlfiles.query("use_stage_cache"))
        elif not write:
            conn.execute("drop view if exists temp.graduate_stages")
        return today

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
        with self._connection(write=True) as conn:
            _migrate(conn, wanted)
            upgraded = existed and conn.execute("select count(*) from graduates").fetchall()[0][0] > 0
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
            today = self._configure(conn, actor, as_of)
            yield Reader(conn, actor, today)

    def retarget(self, reader: Reader, actor: Actor, as_of: date | None) -> None:
        """Point an open Reader at another user or day (its scope and as-of variables)."""
        reader.actor = actor
        reader.today = self._configure(reader.conn, actor, as_of)

    def transaction(self, actor: Actor, action: str, work: Callable[[Writer], T],
                    target: str | None = None, *, refresh_stages: bool = True) -> T:
        """Run `work` in one write transaction, audited as `action`; all of it or none of it.

        When `work` names the graduates it touched (`writer.touched_students`, e.g. a review
        decision) and the materialised stages are today's, their rows and today's counts are
        updated in the same transaction. Otherwise the transaction marks the materialised
        stages stale, so readers fall back to the live view, and after it commits a second short
        transaction refills them (skipped with `refresh_stages=False`, for the demo's
        intermediate chunks). If that one is interrupted the stages just stay stale: readers
        are slower, never wrong.
        """
        result, refreshed = self._write(actor, action, work, target, invalidate=True)
        if refresh_stages and not refreshed:
            self._write(actor, "stages:refresh", lambda w: w.refresh_stage_cache(), None, invalidate=False)
        return result

    def rehearse(self, actor: Actor, work: Callable[[Writer], T]) -> T:
        """Run `work` inside a write transaction and roll it back: what a write would do (an
        import's preview), with nothing written and nothing audited."""
        self.ensure_ready()
        with self._connection(write=True) as conn:
            today = self._configure(conn, actor, write=True)
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

        self.transaction(actor, action, work, target)

    def _write(self, actor: Actor, action: str, work: Callable[[Writer], T], target: str | None,
               *, invalidate: bool) -> tuple[T, bool]:
        """One audited write transaction, retried if its COMMIT did not take effect.

        Returns the work's result and whether the materialised stages are fresh after it."""
        self.ensure_ready()
        for _attempt in range(3):
            token = uuid.uuid4().hex
            with self._connection(write=True) as conn:
                today = self._configure(conn, actor, write=True)
                conn.execute("begin transaction")
                try:
                    writer = Writer(conn, actor, today)
                    result = work(writer)
                    refreshed = writer.touched_students == []  # nothing the stages show changed
                    if (writer.touched_students and len(writer.touched_students) <= REFRESH_FEW
                            and writer.stage_cache_is_today()):
                        writer.refresh_stages_of(writer.touched_students)
                        refreshed = True
                    elif invalidate and not refreshed:
                        writer.conn.execute("delete from settings where key = 'stage_cache_as_of'")
                    writer.audit(action, writer.audit_target or target, writer.audit_detail, token=token)
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
                    "select count(*) from audit_log where write_token = ?", [token]
                ).fetchall()
                if landed[0][0] == 1:
                    return result, refreshed
        raise WriteLost("写入没有生效（与其他写入冲突），已重试 3 次。请稍后再试。")

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
            [{"key": t.key, "label": t.label, "needs_proof": t.needs_proof, "sort_order": i}
             for i, t in enumerate(transfer_types.TRANSFER_TYPES)]
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
        "ref_education_levels": pl.DataFrame(
            [{"code": k, "name": v} for k, v in codes.EDUCATION_LEVELS.items()]
        ),
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
    conn.execute(
        "insert or replace into settings (key, value) values ('schema_fingerprint', ?)", [wanted[1]]
    )
    conn.execute("commit")
