"""Review decisions: how long a reviewer waits for one decision, and for a bulk approval.

    .venv/bin/python bench/bench_reviews.py [--sizes 5000,100000,1000000] [--decisions 20]
        [--bulk 50] [--keep DIR]

For each size a demo store is built with `dangan demo --graduates N` (reused from `--keep DIR`
when `DIR/demo_<N>.duckdb` exists, and then copied, so the kept store is not changed). Then,
on the copy:

* single: `reviews.decide` on the oldest 待院审核 revisions one after another (college
  approval); each is one write transaction that checks the rules, records the review, updates
  the decided graduate's materialised stage row and today's summed counts, audits and verifies
  its COMMIT. Median and worst milliseconds.
* refused: the same decisions again; each is refused inside its transaction (already decided).
* bulk: `reviews.decide_many` approving `--bulk` unflagged 待院审核 revisions at once.
* writers: `--writers` threads decide at once (`--each` decisions each, different revisions),
  as reviewers on the dashboard do: p50/p95/worst of the time each waited and wrote, and the
  decisions lost or doubled (each revision must have exactly one college review).

Every figure is measured twice: with the store owned by this process, as the dashboard server
owns it (one connection, a cursor per operation, writers in arrival order), and as a script
that owns nothing opens it (a connection per operation). The DuckDB 10M-row group-by of
bench/yardstick.py is printed beside them.

Prints a markdown table; timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.yardstick import yardstick_ms  # noqa: E402
from pipelines import reviews  # noqa: E402
from pipelines import store as store_module  # noqa: E402
from pipelines.rules import workflow  # noqa: E402
from pipelines.store import SYSTEM, Store  # noqa: E402

APPROVE = workflow.Decision("college", "approve")


def _sizes(text: str) -> list[int]:
    sizes = [int(part.strip().replace("_", "")) for part in text.split(",") if part.strip()]
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("--sizes: comma-separated positive integers")
    return sizes


def _store(folder: Path, size: int) -> Path:
    path = folder / f"demo_{size}.duckdb"
    if not path.exists():
        print(f"building {path} …", file=sys.stderr, flush=True)
        done = subprocess.run(
            [sys.executable, "-m", "pipelines.cli", "--db", str(path), "demo", "--graduates", str(size)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            sys.exit(done.stderr[-3000:])
    return path


def _pending(store: Store, count: int, *, unflagged: bool, skip: int = 0) -> list[int]:
    with store.reading(SYSTEM) as reader:
        rows = reader._conn.execute(
            "select registration_id from graduate_stages where status = 'pending_college'"
            + (" and len(flags) = 0" if unflagged else "")
            + " order by submitted_at, registration_id limit ? offset ?",
            [count, skip],
        ).fetchall()
    return [int(r[0]) for r in rows]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def _writers(store: Store, ids: list[int], writers: int) -> tuple[list[float], int, int]:
    """Decide `ids` from `writers` threads at once; (seconds each, lost, doubled)."""
    chunks = [ids[i::writers] for i in range(writers)]
    waited: list[float] = []
    lock = threading.Lock()

    def run(chunk: list[int]) -> None:
        for registration_id in chunk:
            started = time.perf_counter()
            reviews.decide(store, SYSTEM, registration_id, APPROVE)
            with lock:
                waited.append(time.perf_counter() - started)

    threads = [threading.Thread(target=run, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with store.reading(SYSTEM) as reader:
        counts = dict(
            reader._conn.execute(
                "select registration_id, count(*) from reviews where level = 'college' and decision = 'approve' "
                "and registration_id in (select unnest(?::bigint[])) group by all",
                [ids],
            ).fetchall()
        )
    lost = sum(1 for i in ids if counts.get(i, 0) == 0)
    doubled = sum(1 for i in ids if counts.get(i, 0) > 1)
    return waited, lost, doubled


def measure(path: Path, work: Path, decisions: int, bulk: int, writers: int, each: int, *, owned: bool) -> str:
    copy = work / f"copy_{path.name}"
    shutil.copy(path, copy)
    if owned:
        store_module.own(copy, "bench")
    store = Store(copy)
    store.ensure_ready()
    ids = _pending(store, decisions, unflagged=False)
    single = []
    for registration_id in ids:
        started = time.perf_counter()
        reviews.decide(store, SYSTEM, registration_id, APPROVE)
        single.append(time.perf_counter() - started)
    refused = []
    for registration_id in ids:
        started = time.perf_counter()
        try:
            reviews.decide(store, SYSTEM, registration_id, APPROVE)
        except reviews.ReviewRefused:
            refused.append(time.perf_counter() - started)
    batch_ids = _pending(store, bulk, unflagged=True)
    with store.reading(SYSTEM) as reader:
        shown = reviews.as_listed(
            reader._conn.sql(
                "select registration_id, student_id, revision_no from registrations where registration_id in "
                "(select unnest(?::bigint[]))",
                params=[batch_ids],
            ).pl()
        )
    started = time.perf_counter()
    batch = reviews.decide_many(store, SYSTEM, shown, APPROVE)
    bulk_seconds = time.perf_counter() - started
    race_ids = _pending(store, writers * each, unflagged=False)
    root = store_module.owner_of(copy)
    if root is not None:
        root.turns.groups.clear()
    waited, lost, doubled = _writers(store, race_ids, writers)
    groups = root.turns.groups if root is not None else collections.Counter[int]()
    commits = sum(groups.values())
    with store.reading(SYSTEM) as reader:
        fresh = reader._conn.execute("select getvariable('use_stage_cache')").fetchall()[0][0]
    if owned:
        store_module.disown(copy)
    copy.unlink()
    size = path.stem.split("_")[1]
    return (
        f"| {int(size):,} | {'owned' if owned else 'per operation'} | {len(single)} | "
        f"{_ms(statistics.median(single))} | {_ms(_p(single, 0.95))} | {_ms(max(single))} | "
        f"{_ms(statistics.median(refused)) if refused else '—'} | {len(batch.applied)} | {_ms(bulk_seconds)} | "
        f"{writers}×{each} | {_ms(statistics.median(waited))} | {_ms(_p(waited, 0.95))} | {_ms(max(waited))} | "
        f"{len(waited) / max(sum(waited) / writers, 1e-9):,.1f} | "
        f"{f'{commits} ({max(groups)} max)' if commits else '—'} | {lost} | {doubled} | "
        f"{'yes' if fresh else 'no'} | {yardstick_ms():,.0f} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_sizes, default=_sizes("5000,100000,1000000"))
    parser.add_argument("--decisions", type=int, default=20, help="single decisions per size (default 20)")
    parser.add_argument("--bulk", type=int, default=50, help="revisions in the bulk approval (default 50)")
    parser.add_argument("--writers", type=int, default=10, help="concurrent writers (default 10)")
    parser.add_argument("--each", type=int, default=5, help="decisions per concurrent writer (default 5)")
    parser.add_argument("--modes", default="owned,per-operation", help="owned, per-operation or both")
    parser.add_argument("--keep", type=Path, help="build stores here and keep them (copies are measured)")
    args = parser.parse_args(argv)
    print(
        "| graduates | store | decisions | single p50 ms | single p95 ms | single worst ms | refused p50 ms "
        "| bulk approved | bulk ms | writers | concurrent p50 ms | concurrent p95 ms | concurrent worst ms "
        "| decisions/s | commits (largest group) | lost | doubled | stages still materialised | yardstick ms |"
    )
    print("|---:|:---|---:|---:|---:|---:|---:|---:|---:|:---:|---:|---:|---:|---:|:---|---:|---:|:---:|---:|")
    with tempfile.TemporaryDirectory(prefix="dangan-bench-reviews-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        modes = [m.strip() for m in args.modes.split(",") if m.strip()]
        for size in args.sizes:
            for mode in modes:
                print(
                    measure(
                        _store(folder, size),
                        Path(tmp),
                        args.decisions,
                        args.bulk,
                        args.writers,
                        args.each,
                        owned=mode == "owned",
                    ),
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
