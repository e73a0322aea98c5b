"""The store: migrations, transactions, scope, as-of date and the locking design."""

from __future__ import annotations

import threading
import time
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines import imports
from pipelines import store as store_module
from pipelines.rules.filters import NONE
from pipelines.store import SYSTEM, Actor, Store, StoreBusy, StoreError, sqlfiles
from tests.conftest import (
    REGISTRATION_HEADER,
    ROSTER_HEADER,
    registration_row,
    roster_row,
    table,
    write_csv,
)


def test_a_store_built_by_an_older_version_is_upgraded_without_losing_data(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    conn = duckdb.connect(str(path))
    store_module.migrate(conn, up_to=1)  # what version 1 of dangan built
    conn.execute(
        "insert into campaigns (cohort, school_name, registration_deadline, default_graduation_date) "
        "values (2024, '江西服装学院', date '2024-06-17', date '2024-06-30')"
    )
    conn.execute(
        "insert into graduates (student_id, cohort, name, college_name, updated_at) "
        "values ('0024000001', 2024, '李娟', '服装设计学院', now())"
    )
    conn.close()
    assert max(v for v, _, _ in sqlfiles.migrations()) > 1, "this test needs a later migration to apply"

    upgraded = Store(path, today="2024-06-10")
    with upgraded.reading(SYSTEM) as reader:
        versions = [r[0] for r in reader._conn.execute("select version from schema_migrations order by 1").fetchall()]
        graduates = reader._conn.execute("select student_id, stage from graduate_stages").fetchall()
        reports = reader._conn.execute("select count(*) from verification_reports").fetchone()
    assert versions == [v for v, _, _ in sqlfiles.migrations()]
    assert graduates == [("0024000001", "not_registered")]
    assert reports == (0,)
    with upgraded.reading(SYSTEM) as reader:  # the upgrade refilled the materialised stages at once
        assert reader._conn.execute("select getvariable('use_stage_cache')").fetchall() == [(True,)]
        assert reader._conn.execute(
            "select student_id from graduate_stage_cache where cache_day = date '2024-06-10'"
        ).fetchall() == [("0024000001",)]


def test_opening_an_up_to_date_store_does_not_write(store: Store) -> None:
    store.ensure_ready()
    before = store.data_version()
    fresh = Store(store.path, today="2024-06-10")
    fresh.ensure_ready()
    assert fresh.data_version() == before


def test_a_failing_transaction_writes_nothing(store: Store) -> None:
    def work(writer: store_module.Writer) -> None:
        writer.set_setting("half", "written")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        store.transaction(SYSTEM, "test", work)
    assert table(store, "select count(*) from settings where key = 'half'") == [(0,)]
    assert table(store, "select count(*) from audit_log where action = 'test'") == [(0,)]


def test_every_transaction_leaves_an_audit_row(store: Store) -> None:
    actor = Actor("王老师", "college_reviewer", ("服装设计学院",))
    store.transaction(actor, "settings:test", lambda w: w.set_setting("x", "1"), target="x")
    assert table(store, "select actor, role, action, target from audit_log where action = 'settings:test'") == [
        ("王老师", "college_reviewer", "settings:test", "x")
    ]


def test_a_commit_that_did_not_take_effect_is_retried(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB can roll back at COMMIT without raising: the writer checks its token and retries."""
    calls = []
    real_audit = store_module.Writer.audit

    def flaky_audit(self: store_module.Writer, *args: object, token: str | None = None, **kwargs: object) -> None:
        calls.append(token)
        # the first attempt's audit row carries a token nobody will find: as if COMMIT was lost
        real_audit(self, *args, token=("lost" if len(calls) == 1 else token), **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store_module.Writer, "audit", flaky_audit)
    store.transaction(SYSTEM, "retry-test", lambda w: w.set_setting("k", "v"), refresh_stages=False)
    assert len(calls) == 2


def test_scope_limits_what_a_college_user_sees(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(i) for i in range(6)])
    imports.import_file(store, SYSTEM, "roster", path)
    dean = Actor("院长", "college_reviewer", ("商学院",))
    with store.reading(dean) as reader:
        colleges = reader._conn.execute("select distinct college_name from graduate_stages").fetchall()
        stats = reader.query("stats_by", by="college", cohort=2024, **NONE.params())
    assert colleges == [("商学院",)]
    assert stats["key"].to_list() == ["商学院"] and stats["graduates"].to_list() == [3]


def test_the_as_of_date_hides_later_events(store: Store, tmp_path: Path) -> None:
    imports.import_file(
        store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(0), roster_row(1)])
    )
    rows = [registration_row(0, 提交时间="2024-05-01 10:00"), registration_row(1, 提交时间="2024-06-05 10:00")]
    imports.import_file(store, SYSTEM, "registrations", write_csv(tmp_path / "g.csv", REGISTRATION_HEADER, rows))
    earlier = Store(store.path, today="2024-05-31")
    with earlier.reading(SYSTEM) as reader:
        stats = reader.query("stats_by", by="school", cohort=2024, **NONE.params()).row(0, named=True)
    assert (stats["graduates"], stats["registered"]) == (2, 1)
    with store.reading(SYSTEM) as reader:
        assert reader.query("stats_by", by="school", cohort=2024, **NONE.params())["registered"].to_list() == [2]


def test_stats_counts_add_up(store: Store, tmp_path: Path) -> None:
    imports.import_file(
        store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(i) for i in range(8)])
    )
    statuses = ["待院审核", "待校审核", "已通过", "已退回", "", "已通过"]
    rows = [registration_row(i, 审核状态=s, 退回原因="缺材料" if s == "已退回" else "") for i, s in enumerate(statuses)]
    imports.import_file(store, SYSTEM, "registrations", write_csv(tmp_path / "g.csv", REGISTRATION_HEADER, rows))
    with store.reading(SYSTEM) as reader:
        for by in ("college", "major", "class", "transfer_type", "origin_province", "school"):
            for r in reader.rows("stats_by", by=by, cohort=2024, **NONE.params()):
                assert r["registered"] == r["pending_college"] + r["pending_school"] + r["returned"] + r["approved"]
                assert r["graduates"] >= r["registered"] >= r["approved"] >= r["confirmed"] >= r["verified"]
        total = reader.query("stats_by", by="school", cohort=2024, **NONE.params()).row(0, named=True)
    assert (total["graduates"], total["registered"], total["pending_college"], total["approved"]) == (8, 6, 2, 2)


def test_a_writer_waits_for_a_reader_and_says_so(store: Store) -> None:
    store.ensure_ready()
    messages: list[str] = []
    writer_store = Store(store.path, today="2024-06-10", lock_wait=10, on_wait=messages.append)
    reader_open = threading.Event()
    release = threading.Event()

    def read() -> None:
        with store.reading(SYSTEM) as reader:
            reader._conn.execute("select count(*) from graduates").fetchall()
            reader_open.set()
            release.wait(5)

    thread = threading.Thread(target=read)
    thread.start()
    reader_open.wait(5)
    started = time.monotonic()
    threading.Timer(0.5, release.set).start()
    writer_store.transaction(SYSTEM, "wait-test", lambda w: w.set_setting("after", "reader"))
    thread.join()
    assert time.monotonic() - started >= 0.4
    assert messages and "等待" in messages[0]
    assert table(store, "select value from settings where key = 'after'") == [("reader",)]


def test_a_writer_gives_up_after_the_wait_limit_with_a_clear_message(store: Store) -> None:
    store.ensure_ready()
    impatient = Store(store.path, today="2024-06-10", lock_wait=0.3)
    hold = threading.Event()
    held = threading.Event()

    def read() -> None:
        with store.reading(SYSTEM):
            held.set()
            hold.wait(5)

    thread = threading.Thread(target=read)
    thread.start()
    held.wait(5)
    try:
        with pytest.raises(StoreBusy, match="等待数据库超时"):
            impatient.transaction(SYSTEM, "never", lambda w: w.set_setting("never", "1"))
    finally:
        hold.set()
        thread.join()
    assert table(store, "select count(*) from settings where key = 'never'") == [(0,)]


def test_a_program_outside_dangan_holding_the_file_is_named(store: Store) -> None:
    store.ensure_ready()
    import subprocess
    import sys

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(30)"),
            str(store.path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        blocked = Store(store.path, today="2024-06-10", lock_wait=0.5)
        with pytest.raises(StoreBusy, match="被其他程序占用"), blocked.reading(SYSTEM):
            pass
    finally:
        holder.kill()
        holder.wait()


def test_writer_inserts_only_into_known_tables(store: Store) -> None:
    with pytest.raises(ValueError):
        store.transaction(SYSTEM, "x", lambda w: w.insert("schema_migrations", pl.DataFrame({"version": [9]})))


def test_unknown_campaign_is_a_clear_refusal(tmp_path: Path) -> None:
    empty = Store(tmp_path / "empty.duckdb", today="2024-06-10")
    path = write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(0)])
    with pytest.raises(StoreError, match="dangan campaign set"):
        imports.import_file(empty, SYSTEM, "roster", path)


def _stages(reader: store_module.Reader, cached: bool) -> list[tuple[object, ...]]:
    """What pages read (the materialised copy, when cached) or the live view, for comparison."""
    source = "graduate_stages" if cached else "graduate_stages_live"
    return reader._conn.execute(f"select * from {source} order by student_id").fetchall()


def test_materialised_stages_equal_the_live_view_and_keep_the_scope(store: Store, tmp_path: Path) -> None:
    imports.import_file(
        store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(i) for i in range(6)])
    )
    rows = [registration_row(i, 审核状态=s) for i, s in enumerate(["已通过", "待院审核", "已退回"])]
    rows[2]["退回原因"] = "缺材料"
    imports.import_file(store, SYSTEM, "registrations", write_csv(tmp_path / "g.csv", REGISTRATION_HEADER, rows))
    with store.reading(SYSTEM) as reader:
        assert reader._conn.execute("select getvariable('use_stage_cache')").fetchall() == [(True,)]
        cached = _stages(reader, True)
        assert cached == _stages(reader, False) and len(cached) == 6
    dean = Actor("院长", "college_reviewer", ("商学院",))
    with store.reading(dean) as reader:
        assert {r[0] for r in reader._conn.execute("select college_name from graduate_stages").fetchall()} == {"商学院"}
        assert _stages(reader, True) == _stages(reader, False)


def test_another_day_reads_the_live_view(store: Store, tmp_path: Path) -> None:
    imports.import_file(store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(0)]))
    with store.reading(SYSTEM, as_of=date(2024, 6, 8)) as reader:
        assert reader._conn.execute("select getvariable('use_stage_cache')").fetchall() == [(False,)]


def test_a_failed_write_leaves_the_materialised_stages_as_they_were(store: Store, tmp_path: Path) -> None:
    imports.import_file(store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(0)]))
    before = table(store, "select * from graduate_stage_cache")

    def work(writer: store_module.Writer) -> None:
        writer.execute("delete_campaign", cohort=2024)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        store.transaction(SYSTEM, "x", work)
    assert table(store, "select * from graduate_stage_cache") == before


def test_yesterday_is_materialised_too_and_equals_the_live_view(store: Store, tmp_path: Path) -> None:
    imports.import_file(
        store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(i) for i in range(3)])
    )
    rows = [registration_row(0, 提交时间="2024-06-10 09:00"), registration_row(1, 提交时间="2024-06-01 09:00")]
    imports.import_file(store, SYSTEM, "registrations", write_csv(tmp_path / "g.csv", REGISTRATION_HEADER, rows))
    with store.reading(SYSTEM, as_of=date(2024, 6, 9)) as reader:
        assert reader._conn.execute("select getvariable('use_stage_cache')").fetchall() == [(True,)]
        cached = _stages(reader, True)
        assert cached == _stages(reader, False)
        assert (
            sum(1 for r in reader._conn.execute("select registration_id from graduate_stages").fetchall() if r[0]) == 1
        )


def test_filter_options_from_the_materialised_roster_equal_live_and_keep_the_scope(
    store: Store, tmp_path: Path
) -> None:
    imports.import_file(
        store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(i) for i in range(6)])
    )
    dean = Actor("院长", "college_reviewer", ("商学院",))
    for actor in (SYSTEM, dean):
        with store.reading(actor) as reader:
            cached = reader.rows("filter_options", cohort=2024)
            reader._conn.execute("set variable use_stage_cache = false")
            live = reader.rows("filter_options", cohort=2024)
        assert cached == live and cached
        assert {r["college_name"] for r in cached} == ({"商学院"} if actor is dean else {"商学院", "服装设计学院"})


def test_the_one_pass_breakdowns_equal_stats_by_for_each_grouping(store: Store, tmp_path: Path) -> None:
    """stats_breakdowns repeats stats_by's counts in grouping sets; this keeps the two in step."""
    imports.import_file(
        store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(i) for i in range(8)])
    )
    statuses = ["已通过", "待院审核", "待校审核", "已退回", ""]
    rows = [registration_row(i, 审核状态=s, 退回原因="缺材料" if s == "已退回" else "") for i, s in enumerate(statuses)]
    imports.import_file(store, SYSTEM, "registrations", write_csv(tmp_path / "g.csv", REGISTRATION_HEADER, rows))
    with store.reading(SYSTEM) as reader:
        breakdowns = reader.query("stats_breakdowns", cohort=2024, **NONE.params())
        for by in ("school", "college", "transfer_type", "origin_province"):
            expected = reader.query("stats_by", by=by, cohort=2024, **NONE.params()).sort("key")
            got = breakdowns.filter(pl.col("dimension") == by).drop("dimension").sort("key")
            assert got.equals(expected), by
