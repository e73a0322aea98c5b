"""Statistics exports: each kind and format at several store sizes, in rows/s and MB.

    .venv/bin/python bench/bench_exports.py [--sizes 100000,1000000] [--runs 3] [--keep DIR]

For each size a demo store is built with `dangan demo` (or reused from `--keep DIR`; a store
built before snapshots existed gets its past snapshots replayed first). Every export goes
through the same domain function as the CLI and the 统计分析 page, as the system user (every
college), including its audit record. Prints markdown tables; timings are reported, never
asserted.
"""

from __future__ import annotations

import argparse
import statistics as stats
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines import brief_pdf, demo, exports  # noqa: E402
from pipelines import statistics as statistics_module  # noqa: E402
from pipelines.rules.filters import Filters  # noqa: E402
from pipelines.store import SYSTEM, Store, Writer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_reviews import _sizes  # noqa: E402
from bench_reviews import _store as demo_store  # noqa: E402

COHORT, DEADLINE = 2024, date(2024, 6, 17)


def _store(folder: Path, size: int) -> Store:
    """The demo store of `size` (built or reused as bench_reviews does), with past snapshots
    (replayed into a store built before they existed)."""
    store = Store(demo_store(folder, size))
    store.ensure_ready()
    with store.reading(SYSTEM) as reader:
        ((taken,),) = reader._conn.execute("select count(*) from stage_snapshots").fetchall()
        today = reader.today
    if not taken:
        print(f"replaying past snapshots into {store.path} …", file=sys.stderr, flush=True)
        started = time.perf_counter()
        demo.add_past_snapshots(store, today, size)
        print(f"  {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return store


def _jobs(store: Store) -> dict[str, Callable[[], tuple[bytes, int]]]:
    everyone = Filters()
    jobs: dict[str, Callable[[], tuple[bytes, int]]] = {}
    for fmt in ("csv", "xlsx", "parquet"):
        jobs[f"stats {fmt}"] = lambda fmt=fmt: exports.stats_file(store, SYSTEM, COHORT, everyone, fmt, f"s.{fmt}")
    for fmt in ("csv", "xlsx", "parquet"):
        jobs[f"registrations {fmt}"] = lambda fmt=fmt: exports.registrations_file(
            store, SYSTEM, COHORT, everyone, fmt, f"r.{fmt}"
        )
    for fmt in ("csv", "xlsx", "parquet"):
        jobs[f"chase-list (whole school) {fmt}"] = lambda fmt=fmt: exports.chase_list_file(
            store, SYSTEM, COHORT, everyone, None, DEADLINE, f"c.{fmt}", fmt
        )
    jobs["weekly xlsx"] = lambda: exports.weekly_workbook(store, SYSTEM, COHORT, "w.xlsx")
    jobs["brief pdf"] = lambda: brief_pdf.brief_file(store, SYSTEM, COHORT, "b.pdf")
    return jobs


def _forget_future(writer: Writer) -> None:
    writer._raw().execute("delete from stage_snapshots where snapshot_day = date '2099-01-01'")
    writer.touched_students = []  # the stages did not change: no refill


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_sizes, default=_sizes("100000,1000000"))
    parser.add_argument("--runs", type=int, default=3, help="runs per cell; the median is shown (default 3)")
    parser.add_argument("--keep", type=Path, help="build the demo stores here and keep them")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dangan-bench-exports-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"# Export speed (median of {args.runs} runs; each run includes its audit record)\n")
        for size in args.sizes:
            store = _store(folder, size)
            print(f"\n## {size:,} graduates\n")
            print("| export | rows | seconds | rows/s | file MB |")
            print("|---|---:|---:|---:|---:|")
            for name, job in _jobs(store).items():
                times, data, rows = [], b"", 0
                for _ in range(args.runs):
                    started = time.perf_counter()
                    data, rows = job()
                    times.append(time.perf_counter() - started)
                seconds = stats.median(times)
                print(
                    f"| {name} | {rows:,} | {seconds:.2f} | {rows / seconds:,.0f} | {len(data) / 2**20:.2f} |",
                    flush=True,
                )
            started = time.perf_counter()
            tomorrow = Store(store.path, today="2099-01-01")  # a day with no snapshot yet
            _, written = statistics_module.take_snapshot(tomorrow, SYSTEM)
            snapshot = time.perf_counter() - started
            Store(store.path).transaction(SYSTEM, "bench:undo", _forget_future)
            print(f"\n`dangan snapshot` (one day, {written:,} rows): {snapshot:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
