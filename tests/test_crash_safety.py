"""Kill an import at random moments: the store must be exactly as before, or exactly as after."""

from __future__ import annotations

import json
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bench import files
from pipelines import imports
from pipelines.store import SYSTEM, Store
from tests.conftest import (
    REGISTRATION_HEADER,
    ROSTER_HEADER,
    data_snapshot,
    registration_row,
    roster_row,
    table,
    write_csv,
)
from tests.test_reviews import _stages_fresh_and_equal_live

pytestmark = pytest.mark.slow
T = TypeVar("T")
ROWS = 20_000
KILLS = 8


def copy_store(source: Path, target: Path) -> Path:
    for suffix in ("", ".wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", f"{target}{suffix}")
    return target


def killed_at_moments_spread_over(
    full_run: float,
    start: Callable[[Path], subprocess.Popen[Any]],
    check: Callable[[Path], T],
    source: Path,
    tmp_path: Path,
    *,
    seed: int,
) -> list[T]:
    """KILLS copies of the store, each with a process `start`ed on it and killed (SIGKILL) at a
    moment spread over its whole run (start-up and commit included); `check` of each afterwards."""
    rng = random.Random(seed)
    seen = []
    for attempt in range(KILLS):
        db = copy_store(source, tmp_path / f"killed{attempt}.duckdb")
        process = start(db)
        time.sleep(full_run * (attempt + rng.random()) / KILLS)
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        seen.append(check(db))
    return seen


def start_import(db: Path, registrations: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "--db",
            str(db),
            "--today",
            "2024-06-10",
            "import",
            "registrations",
            str(registrations),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=Path(__file__).parent.parent,
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

    seen = killed_at_moments_spread_over(
        full_run,
        lambda db: start_import(db, registrations),
        lambda db: outcome(db, before, after),
        store.path,
        tmp_path,
        seed=17,
    )
    print(f"full import {full_run:.2f}s; outcomes after SIGKILL: {seen}")
    assert "before" in seen, "no kill landed before the commit; the test did not test anything"


# A process that owns the store and runs decisions from 8 threads at once: they queue behind one
# another and share group commits (one transaction for several decisions, their audit rows and one
# stage refresh). Prints the groups it formed when it was not killed.
DECIDING = """
import sys, threading
from pipelines import reviews
from pipelines.rules import workflow
from pipelines import store as store_module
from pipelines.store import Actor, Store

path, ids = sys.argv[1], [int(x) for x in sys.argv[2].split(",")]
office = Actor("就业处管理员", "admin")
with store_module.owning(path, "kill test") as root:
    owned = Store(path, today="2024-06-10", lock_wait=120)
    owned.ensure_ready()
    print("owned", flush=True)
    def decide(share):
        for registration_id in share:
            reviews.decide(owned, office, registration_id, workflow.Decision("college", "approve"))
    threads = [threading.Thread(target=decide, args=(ids[k::8],)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print("groups", dict(root.turns.groups), flush=True)
"""


def start_deciding(db: Path, ids: list[int]) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", DECIDING, str(db), ",".join(map(str, ids))],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "owned"
    return process


def decisions_whole(db: Path) -> int:
    """Every decision in the store came with its audit row and its stage refresh, and no audit row
    names a decision that is not there: a group commit landed whole or not at all. Returns the
    number of decisions that landed."""

    killed = Store(db, today="2024-06-10")
    decided = sorted(r[0] for r in table(killed, "select registration_id from reviews"))
    audited = sorted(
        i
        for (detail,) in table(killed, "select detail from audit_log where action = 'review:college:approve'")
        for i in json.loads(detail)["applied"]
    )
    assert decided == audited, f"decisions {len(decided)} against audited {len(audited)}"
    _stages_fresh_and_equal_live(killed)
    return len(decided)


def test_killing_an_owner_in_the_middle_of_group_commits_leaves_each_group_whole(store: Store, tmp_path: Path) -> None:
    count = 240
    imports.import_file(
        store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(i) for i in range(count)])
    )
    imports.import_file(
        store,
        SYSTEM,
        "registrations",
        write_csv(tmp_path / "g.csv", REGISTRATION_HEADER, [registration_row(i) for i in range(count)]),
    )
    ids = sorted(r[0] for r in table(store, "select registration_id from registrations"))
    assert len(ids) == count

    reference = copy_store(store.path, tmp_path / "reference.duckdb")
    started = time.monotonic()
    process = start_deciding(reference, ids)
    out, _ = process.communicate(timeout=300)
    full_run = time.monotonic() - started
    assert process.returncode == 0
    groups = {int(k): int(v) for k, v in re.findall(r"(\d+): (\d+)", out.split("groups", 1)[1])}
    assert max(groups) > 1, f"the deciding threads formed no group commit: {groups}"
    assert decisions_whole(reference) == count

    landed = killed_at_moments_spread_over(
        full_run, lambda db: start_deciding(db, ids), decisions_whole, store.path, tmp_path, seed=19
    )
    print(f"{count} decisions in {full_run:.2f}s, groups {groups}; landed when killed: {landed}")
    assert any(0 < n < count for n in landed), f"no kill landed in the middle of the decisions: {landed}"
