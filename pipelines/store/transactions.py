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

import contextlib
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any, cast

import duckdb

from pipelines.store import config, sqlfiles
from pipelines.store.base import (
    SYSTEM,
    Actor,
    OwnerAppeared,
    StoreConflict,
    T,
    WaitCallback,
    WriteLost,
    _assignments,
    _day,
    _scope,
    _set_scope,
)
from pipelines.store.locks import _connect, _Entry, _held, _keep_private
from pipelines.store.owner import _borrowed, owner_of
from pipelines.store.schema import _migrate, _schema_state, _wanted_schema
from pipelines.store.session import Reader, Writer
from pipelines.store.stage_cache import REFRESH_FEW, stage_cache_days
from pipelines.store.versions import parts_of


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
        # Called on the calling thread before an operation opens the file: a caller that keeps a
        # read open for a while (the dashboard's one reader per script run) closes it here, so a
        # thread never waits behind a writer that waits for that thread's own shared lock.
        self.before_open: Callable[[], None] | None = None

    # -- connections --

    @contextlib.contextmanager
    def _connection(self, *, write: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        if self.before_open is not None:
            self.before_open()
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
        reader.today, _ = self._configure(reader._conn, actor, as_of, settings=reader.settings)

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
        try:
            result, refreshed = self._write(actor, action, work, target, invalidate=True, combine=combine)
        except duckdb.ConstraintException as exc:
            raise StoreConflict(f"写入与其他人的写入冲突：{exc}") from None
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
