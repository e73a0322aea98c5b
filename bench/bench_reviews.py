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

Prints a markdown table; timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines import reviews, workflow  # noqa: E402
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
        done = subprocess.run([sys.executable, "-m", "pipelines.cli", "--db", str(path), "demo",
                               "--graduates", str(size)], cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(done.stderr[-3000:])
    return path


def _pending(store: Store, count: int, *, unflagged: bool, skip: int = 0) -> list[int]:
    with store.reading(SYSTEM) as reader:
        rows = reader.conn.execute(
            "select registration_id from graduate_stages where status = 'pending_college'"
            + (" and len(flags) = 0" if unflagged else "")
            + " order by submitted_at, registration_id limit ? offset ?", [count, skip]).fetchall()
    return [int(r[0]) for r in rows]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def measure(path: Path, work: Path, decisions: int, bulk: int) -> str:
    copy = work / f"copy_{path.name}"
    shutil.copy(path, copy)
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
        shown = reviews.as_listed(reader.conn.execute(
            "select registration_id, student_id, revision_no from registrations where registration_id in "
            "(select unnest(?::bigint[]))", [batch_ids]).pl())
    started = time.perf_counter()
    batch = reviews.decide_many(store, SYSTEM, shown, APPROVE)
    bulk_seconds = time.perf_counter() - started
    with store.reading(SYSTEM) as reader:
        fresh = reader.conn.execute("select getvariable('use_stage_cache')").fetchall()[0][0]
    copy.unlink()
    size = path.stem.split("_")[1]
    return (f"| {int(size):,} | {len(single)} | {_ms(statistics.median(single))} | {_ms(max(single))} | "
            f"{_ms(statistics.median(refused)) if refused else '—'} | {len(batch.applied)} | {_ms(bulk_seconds)} | "
            f"{len(batch.applied) / bulk_seconds:,.0f} | {'yes' if fresh else 'no'} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_sizes, default=_sizes("5000,100000,1000000"))
    parser.add_argument("--decisions", type=int, default=20, help="single decisions per size (default 20)")
    parser.add_argument("--bulk", type=int, default=50, help="revisions in the bulk approval (default 50)")
    parser.add_argument("--keep", type=Path, help="build stores here and keep them (copies are measured)")
    args = parser.parse_args(argv)
    print("| graduates | decisions | single median ms | single worst ms | refused median ms "
          "| bulk approved | bulk ms | bulk approvals/s | stages still materialised |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|:---:|")
    with tempfile.TemporaryDirectory(prefix="dangan-bench-reviews-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for size in args.sizes:
            print(measure(_store(folder, size), Path(tmp), args.decisions, args.bulk), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
