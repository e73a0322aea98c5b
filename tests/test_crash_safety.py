"""Kill an import at random moments: the store must be exactly as before, or exactly as after."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import files
from pipelines import imports
from pipelines.store import SYSTEM, Store
from tests.conftest import data_snapshot

pytestmark = pytest.mark.slow
ROWS = 20_000
KILLS = 8


def copy_store(source: Path, target: Path) -> Path:
    for suffix in ("", ".wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", f"{target}{suffix}")
    return target


def start_import(db: Path, registrations: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "--db", str(db), "--today", "2024-06-10",
         "import", "registrations", str(registrations)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=Path(__file__).parent.parent,
    )


def outcome(db: Path, before: dict, after: dict) -> str:
    snapshot = data_snapshot(Store(db, today="2024-06-10"))
    if snapshot == before:
        return "before"
    if snapshot == after:
        return "after"
    counts = {k: (len(before[k]), len(snapshot[k]), len(after[k])) for k in snapshot}
    raise AssertionError(f"store is neither before nor after the import: {counts}")


def test_killing_an_import_leaves_the_store_before_or_after(store: Store, tmp_path: Path) -> None:
    roster = files.roster_frame(ROWS)
    imports.import_file(store, SYSTEM, "roster", files.write(roster, tmp_path / "roster.csv"))
    registrations = files.write(files.registration_frame(roster), tmp_path / "registrations.csv")
    before = data_snapshot(store)

    reference = copy_store(store.path, tmp_path / "reference.duckdb")
    started = time.monotonic()
    assert start_import(reference, registrations).wait(120) == 0
    full_run = time.monotonic() - started
    after = data_snapshot(Store(reference, today="2024-06-10"))
    assert len(after["registrations"]) == ROWS

    rng = random.Random(17)
    seen = []
    for attempt in range(KILLS):
        db = copy_store(store.path, tmp_path / f"killed{attempt}.duckdb")
        process = start_import(db, registrations)
        # spread the kills over the whole run, start-up and commit included
        time.sleep(full_run * (attempt + rng.random()) / KILLS)
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        seen.append(outcome(db, before, after))
    print(f"full import {full_run:.2f}s; outcomes after SIGKILL: {seen}")
    assert "before" in seen, "no kill landed before the commit; the test did not test anything"
