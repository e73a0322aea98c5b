"""dashboard.data: one read connection per script run, and no deadlock with a waiting writer."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest

from dashboard import data
from pipelines import imports
from pipelines.filters import NONE
from pipelines.store import SYSTEM, Store
from tests.conftest import ROSTER_HEADER, roster_row, table, write_csv


def test_a_run_reading_two_days_does_not_block_a_waiting_writer(store: Store, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    imports.import_file(store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(0)]))
    monkeypatch.setenv("DANGAN_DB", str(store.path))
    monkeypatch.setenv("DANGAN_TODAY", "2024-06-10")
    monkeypatch.setenv("DANGAN_SERVE", "0")  # the dashboard not owning the store: the lock files order it
    waiting = threading.Event()
    writer = Store(store.path, today="2024-06-10", lock_wait=30, on_wait=lambda _msg: waiting.set())
    wrote: list[bool] = []

    with data.run_scope():
        today = data.query("stats_by", by="school", cohort=2024, filters=NONE, actor=SYSTEM)  # the run's connection: shared lock
        thread = threading.Thread(target=lambda: wrote.append(
            writer.transaction(SYSTEM, "waiting-writer", lambda w: w.set_setting("w", "1")) is None))
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


def test_when_the_dashboard_owns_the_store_a_writer_never_waits_for_a_run(store: Store, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
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
        thread = threading.Thread(target=lambda: imports.import_file(
            writer, SYSTEM, "roster", write_csv(tmp_path / "r2.csv", ROSTER_HEADER, [roster_row(0), roster_row(1)])))
        thread.start()
        thread.join(30)
        assert not thread.is_alive() and waited == []
    stats_key = owned.version(["graduate_stage_cache", "stage_count_cache"])
    owned.record(SYSTEM, "export:test", None, {"what": "nothing"})  # an audit row alone
    assert owned.version(["graduate_stage_cache", "stage_count_cache"]) == stats_key
    after = data.query("graduate_list", filters=NONE, actor=SYSTEM, cohort=2024, search=None, limit=50, offset=0)
    assert before.height == 1 and after.height == 2


def test_a_write_landing_during_a_run_is_seen_by_the_next_run(store: Store, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
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
        writer = threading.Thread(target=lambda: imports.import_file(
            owned, SYSTEM, "roster", write_csv(tmp_path / "r2.csv", ROSTER_HEADER, [roster_row(0), roster_row(1)])))
        writer.start()
        writer.join(30)
        assert not writer.is_alive()
        during = data.query("graduate_list", **listing)  # read from the run's snapshot: before the write
    with data.run_scope():
        after = data.query("graduate_list", **listing)
    assert during.height == 1
    assert after.height == 2, "the next run must see the write, not the old snapshot cached under the new key"
