"""dashboard.data: one read connection per script run, and no deadlock with a waiting writer."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest

from dashboard import data
from pipelines import accounts, imports
from pipelines.rules.filters import NONE, Filters
from pipelines.store import SYSTEM, Store
from tests.conftest import ROSTER_HEADER, roster_row, table, write_csv


def test_a_run_reading_two_days_does_not_block_a_waiting_writer(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    imports.import_file(store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(0)]))
    monkeypatch.setenv("DANGAN_DB", str(store.path))
    monkeypatch.setenv("DANGAN_TODAY", "2024-06-10")
    monkeypatch.setenv("DANGAN_SERVE", "0")  # the dashboard not owning the store: the lock files order it
    waiting = threading.Event()
    writer = Store(store.path, today="2024-06-10", lock_wait=30, on_wait=lambda _msg: waiting.set())
    wrote: list[bool] = []

    with data.run_scope():
        today = data.query(
            "stats_by", by="school", cohort=2024, filters=NONE, actor=SYSTEM
        )  # the run's connection: shared lock
        thread = threading.Thread(
            target=lambda: wrote.append(
                writer.transaction(SYSTEM, "waiting-writer", lambda w: w.set_setting("w", "1")) is None
            )
        )
        thread.start()
        assert waiting.wait(10), "the writer should be waiting for the run to end"
        # a second day in the same run re-targets the open connection instead of queueing behind
        # the writer at the turnstile (which would deadlock until the lock wait runs out)
        yesterday = data.query("stats_by", by="school", cohort=2024, filters=NONE, as_of=date(2024, 6, 9), actor=SYSTEM)
        assert data.today() == date(2024, 6, 10)
    thread.join(30)
    assert wrote == [True]
    assert today["graduates"].to_list() == yesterday["graduates"].to_list() == [1]
    assert table(store, "select value from settings where key = 'w'") == [("1",)]


def test_when_the_dashboard_owns_the_store_a_writer_never_waits_for_a_run(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server owns the file: a run reads a snapshot on its own cursor, and a writer in
    another thread goes ahead at once; the next run sees the write, and only the results that
    read the changed table are recomputed."""
    imports.import_file(store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(0)]))
    monkeypatch.setenv("DANGAN_DB", str(store.path))
    monkeypatch.setenv("DANGAN_TODAY", "2024-06-10")
    waited: list[str] = []
    owned = data.store()  # the first use makes this process the owner
    writer = Store(store.path, today="2024-06-10", lock_wait=30, on_wait=waited.append)

    with data.run_scope():
        before = data.query("graduate_list", filters=NONE, actor=SYSTEM, cohort=2024, search=None, limit=50, offset=0)
        assert (store.path.with_name(store.path.name + ".owner")).exists(), "the file opened: ownership published"
        thread = threading.Thread(
            target=lambda: imports.import_file(
                writer, SYSTEM, "roster", write_csv(tmp_path / "r2.csv", ROSTER_HEADER, [roster_row(0), roster_row(1)])
            )
        )
        thread.start()
        thread.join(30)
        assert not thread.is_alive() and waited == []
    stats_key = owned.version(["graduate_stage_cache", "stage_count_cache"])
    owned.record(SYSTEM, "export:test", None, {"what": "nothing"})  # an audit row alone
    assert owned.version(["graduate_stage_cache", "stage_count_cache"]) == stats_key
    after = data.query("graduate_list", filters=NONE, actor=SYSTEM, cohort=2024, search=None, limit=50, offset=0)
    assert before.height == 1 and after.height == 2


def test_a_write_landing_during_a_run_is_seen_by_the_next_run(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run reads one snapshot, opened by its first query. A write that commits while the run
    is still going must not leave the run's old numbers cached under the write's new key:
    found in CI, where a dean returned a registration and the risk page then went on showing
    the list from before (another session's run had cached it meanwhile)."""
    imports.import_file(store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(0)]))
    monkeypatch.setenv("DANGAN_DB", str(store.path))
    monkeypatch.setenv("DANGAN_TODAY", "2024-06-10")
    owned = data.store()
    listing = {"filters": NONE, "actor": SYSTEM, "cohort": 2024, "search": None, "limit": 50, "offset": 0}

    with data.run_scope():
        data.query("stats_by", by="school", cohort=2024, filters=NONE, actor=SYSTEM)  # the run's snapshot opens
        writer = threading.Thread(
            target=lambda: imports.import_file(
                owned, SYSTEM, "roster", write_csv(tmp_path / "r2.csv", ROSTER_HEADER, [roster_row(0), roster_row(1)])
            )
        )
        writer.start()
        writer.join(30)
        assert not writer.is_alive()
        during = data.query("graduate_list", **listing)  # read from the run's snapshot: before the write
    with data.run_scope():
        after = data.query("graduate_list", **listing)
    assert during.height == 1
    assert after.height == 2, "the next run must see the write, not the old snapshot cached under the new key"


@pytest.fixture
def served(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Store, list[tuple[str, str, int]]]:
    """Four graduates of two colleges with a registration each, in the store the dashboard's data
    layer owns: (that store, [(student_id, college, registration_id)] by 学号)."""
    from tests.conftest import REGISTRATION_HEADER, registration_row

    imports.import_file(
        store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(i) for i in range(4)])
    )
    imports.import_file(
        store,
        SYSTEM,
        "registrations",
        write_csv(tmp_path / "g.csv", REGISTRATION_HEADER, [registration_row(i) for i in range(4)]),
    )
    monkeypatch.setenv("DANGAN_DB", str(store.path))
    monkeypatch.setenv("DANGAN_TODAY", "2024-06-10")
    rows = table(
        store,
        "select student_id, college_name, registration_id from graduates join registrations "
        "using (student_id) order by student_id",
    )
    owned = data.store()
    owned.ensure_ready()  # opened: the epoch moves once, when the owner opens the file
    return owned, rows


def test_a_graduates_cached_record_outlives_writes_in_other_colleges_but_not_their_own(
    served: tuple[Store, list[tuple[str, str, int]]], tmp_path: Path
) -> None:
    """Under load a graduate's own record was read again on every run, because every write
    anywhere moved its key: keyed by their college, a write elsewhere keeps it, a write that
    reaches them (a review of their registration) does not."""
    from pipelines import reviews
    from pipelines.rules import workflow
    from pipelines.store import Actor

    owned, rows = served
    ((me, my_college, mine),) = [r for r in rows if r[0] == rows[0][0]]
    elsewhere = next(r[2] for r in rows if r[1] != my_college)
    graduate = Actor(me, "graduate", None, me)
    before = data._version("graduate_detail", graduate)
    reviews.decide(owned, SYSTEM, elsewhere, workflow.Decision("college", "approve"))
    assert data._version("graduate_detail", graduate) == before, "a write in another college keeps it"
    reviews.decide(owned, SYSTEM, mine, workflow.Decision("college", "approve"))
    assert data._version("graduate_detail", graduate) != before, "a decision on their registration renews it"
    with data.run_scope():
        record = data.query("graduate_detail", actor=graduate, student_id=me)
    assert record["status"].to_list() == [workflow.PENDING_SCHOOL]


def test_a_graduates_cached_record_outlives_a_classmates_decision_and_a_write_naming_nobody_moves_every_key(
    served: tuple[Store, list[tuple[str, str, int]]], tmp_path: Path
) -> None:
    """Under load (bench_load, 100k, N = 20) a graduate's own record was read again on nearly
    every step of the form (292 reads of 85 ms in 30 s): keyed by their college, every classmate's
    submission moved it. Keyed by the graduate, a decision on a classmate's registration keeps it.
    And a write to a graduates' table that names no graduate moves every reader's key of that
    table: no reader can tell whom it changed."""
    from pipelines import reviews
    from pipelines.rules import workflow
    from pipelines.store import Actor, Writer

    owned, rows = served
    me, my_college, _mine = rows[0]
    classmate = next(r[2] for r in rows[1:] if r[1] == my_college)
    graduate = Actor(me, "graduate", None, me)
    dean = Actor("dean", "college_reviewer", (my_college,))
    before, dean_before = data._version("graduate_detail", graduate), data._version("stats_by", dean)
    reviews.decide(owned, SYSTEM, classmate, workflow.Decision("college", "approve"))
    assert data._version("graduate_detail", graduate) == before, "a classmate's decision keeps it"
    assert data._version("stats_by", dean) != dean_before, "their college's numbers changed"

    def naming_nobody(writer: Writer) -> None:
        writer.touched_students = []  # says it changed no graduate, yet writes a graduates' table
        writer.execute("set_report_valid_until", ids=[], valid_until=date(2024, 12, 31))

    before, dean_before = data._version("graduate_detail", graduate), data._version("stats_by", dean)
    owned.transaction(SYSTEM, "test:write", naming_nobody)
    assert data._version("graduate_detail", graduate) != before
    assert data._version("stats_by", dean) != dean_before


def test_yesterdays_numbers_outlive_todays_decisions_but_not_an_import(
    served: tuple[Store, list[tuple[str, str, int]]], tmp_path: Path
) -> None:
    """总览 and 学院 put yesterday's numbers beside today's. A decision records today's event:
    yesterday's numbers stay as they were (the store refreshes only today's materialised rows for
    it), so their cached result is kept; today's is recomputed. An import may change any day."""
    from pipelines import reviews
    from pipelines.rules import workflow

    owned, rows = served
    first = min(r[2] for r in rows)
    yesterday = date(2024, 6, 9)

    def numbers(as_of: date | None) -> list[tuple[int, int]]:
        with data.run_scope():
            frame = data.query("stats_breakdowns", actor=SYSTEM, as_of=as_of, cohort=2024, **Filters().params())
        return sorted(zip(frame["graduates"].to_list(), frame["college_approved"].to_list(), strict=True))

    before = numbers(yesterday), numbers(None)
    keys = data._version("stats_breakdowns", past=True), data._version("stats_breakdowns")
    reviews.decide(owned, SYSTEM, first, workflow.Decision("college", "approve"))
    assert data._version("stats_breakdowns", past=True) == keys[0], "yesterday's numbers are kept"
    assert data._version("stats_breakdowns") != keys[1], "today's are recomputed"
    assert numbers(yesterday) == before[0], "and yesterday's really did not change"
    assert numbers(None) != before[1]
    imports.import_file(owned, SYSTEM, "roster", write_csv(tmp_path / "r2.csv", ROSTER_HEADER, [roster_row(9)]))
    assert data._version("stats_breakdowns", past=True) != keys[0], "an import may change any day"


def test_a_page_writes_and_calls_the_domain_mid_run_without_handling_locks(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page reads (the run's connection holds the shared lock when the dashboard does not own
    the store), then saves, then calls a domain function that opens its own read while another
    writer waits. Pages never release the run's read by hand: the store asks the data layer to,
    before it opens for anything else on that thread. Without that, the save waits for the
    page's own lock and the domain read queues behind the waiting writer, each until StoreBusy."""
    imports.import_file(store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(0)]))
    monkeypatch.setenv("DANGAN_DB", str(store.path))
    monkeypatch.setenv("DANGAN_TODAY", "2024-06-10")
    monkeypatch.setenv("DANGAN_SERVE", "0")
    monkeypatch.setenv("DANGAN_LOCK_WAIT", "3")
    waiting = threading.Event()
    other = Store(store.path, today="2024-06-10", lock_wait=30, on_wait=lambda _msg: waiting.set())
    wrote: list[bool] = []

    with data.run_scope():
        first = data.query("stats_by", by="school", cohort=2024, filters=NONE, actor=SYSTEM)
        data.store().record(SYSTEM, "export:page-save", None, {"rows": 1})  # the page's save
        again = data.query("graduate_list", filters=NONE, actor=SYSTEM, cohort=2024, search=None, limit=50, offset=0)
        thread = threading.Thread(
            target=lambda: wrote.append(
                other.transaction(SYSTEM, "waiting-writer", lambda w: w.set_setting("w", "1")) is None
            )
        )
        thread.start()
        assert waiting.wait(10), "the other writer should be waiting for this run's read"
        users = accounts.list_users(data.store(), SYSTEM)  # a domain function's own read
    thread.join(30)
    assert wrote == [True] and users == []
    assert first["graduates"].to_list() == [1] and again.height == 1
    assert table(store, "select count(*) from audit_log where action = 'export:page-save'") == [(1,)]
