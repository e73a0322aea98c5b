"""One operation's view of the store: a Reader (a read snapshot) or a Writer (the inside of one
write transaction), each on behalf of one actor."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import duckdb
import polars as pl

from pipelines.rules import roles
from pipelines.store import sqlfiles
from pipelines.store.base import SYSTEM, Actor, StoreError, _frame, _set_day, _set_scope
from pipelines.store.stage_cache import REFRESH_FEW, StageCache
from pipelines.store.versions import Versions, parts_of

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
    "archive_bags",
    "dispatch_batches",
    "batch_members",
    "waybills",
    "archive_events",
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
    "dispatch_batch_nos",
    "archive_event_ids",
}


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

    def query(self, name: str, frames: dict[str, pl.DataFrame] | None = None, **params: Any) -> pl.DataFrame:
        """Run `sql/queries/<name>.sql` with named parameters; the whole result, as a frame.

        `frames` are made visible to the query as tables under their keys (e.g. `incoming`).
        A role that sees aggregates only is refused every query that lists people.
        """
        if self.actor.role in roles.AGGREGATE_ONLY and name in roles.PERSON_QUERIES:
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


class Writer(StageCache, Reader):
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

    def _raw(self) -> duckdb.DuckDBPyConnection:
        """The raw connection, for tests and benchmarks only (product code asks for a named
        query or a writer method): whatever it is used for, every cached result is forgotten."""
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

    @contextlib.contextmanager
    def as_of(self, day: date) -> Iterator[None]:
        """Read the live views as of another day inside this transaction (replaying history)."""
        _set_day(self._conn, day)
        try:
            yield
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
