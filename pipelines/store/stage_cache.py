"""The materialised stages: each graduate's stage and the summed counts for today and the day
before, refilled after a large write and updated in place for a few graduates."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING

import duckdb

from pipelines.store import sqlfiles
from pipelines.store.base import SYSTEM, _set_day, _set_scope

# --- reading and writing -----------------------------------------------------------------


# The summed-count tables (sql/views/55_stage_counts.sql), their keys, and the macro that
# counts them.
_COUNT_TABLES = {
    "stage_count_cache": ["cache_day", "cohort", "college_name", "transfer_type", "origin_province", "stage"],
    "daily_count_cache": ["cache_day", "cohort", "college_name", "transfer_type", "stage", "day"],
}
_COUNT_MACROS = {"stage_count_cache": "stage_counts", "daily_count_cache": "daily_counts"}
# The arguments of those macros that count every graduate: no cohort, no filters (the filters
# struct NULL: sql/views/50_filtered_graduates.sql).
_EVERYONE = "NULL, NULL"


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


def stage_cache_days(today: date) -> tuple[date, date]:
    """The days the materialised stages hold: the day before (for the KPI change) and today."""
    return today - timedelta(days=1), today


class StageCache:
    """The writer's stage-cache work (mixed into `Writer`)."""

    _conn: duckdb.DuckDBPyConnection
    today: date
    touched_students: list[str] | None
    unrefreshed: set[str]

    if TYPE_CHECKING:  # what the Writer this is mixed into provides

        def mark(self, *tables: str) -> None: ...
        def set_setting(self, key: str, value: str) -> None: ...
        def setting(self, key: str) -> str | None: ...
        def _rescope(self) -> None: ...
        @contextlib.contextmanager
        def only_students(self, student_ids: list[str]) -> Iterator[None]: ...

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
        others = [k for k in keys if k != "cohort"]
        difference = (
            f"select abs(cohort) as cohort, {', '.join(others)}, "
            + ", ".join(f"sum(sign(cohort) * {m})::bigint as {m}" for m in measures)
            + f" from {_COUNT_MACROS[table]}({_EVERYONE}) group by all having "
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

        def fill() -> None:
            for day in days:
                _set_day(self._conn, day)
                for table, macro in _COUNT_MACROS.items():
                    self._conn.execute(f"delete from {table} where cache_day = ?", [day])
                    self._conn.execute(
                        f"insert into {table} by name select ?::date as cache_day, * from {macro}({_EVERYONE})", [day]
                    )

        try:
            self._with_cached_stages(fill)
        finally:
            _set_day(self._conn, self.today)
