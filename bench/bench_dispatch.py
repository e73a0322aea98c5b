"""Benchmark the archive's dispatch (#19) at the sizes an office meets.

    .venv/bin/python bench/bench_dispatch.py --sizes 100000 --archives 5000 --runs 3

For each size a demo store is built as of its dispatch weeks (registration closed), once; every
run then works on a fresh copy of it, through the product's functions, timing:

* bag: `dispatch.mark_bags` for `--archives` verified graduates (one transaction);
* batch: `dispatch.build_batch` taking those archives (goal: a batch of 5,000 in ≤ 2 s at 100k);
* slips / labels / list: `dispatch.papers` for the batch (goal: 5,000 slips in one PDF ≤ 30 s);
* waybills: reading a csv of `--archives` rows as the post exports it and recording it
  (goal: 5,000 waybills in ≤ 2 s);
* progress / rows: the queries the dispatch page reads (`dispatch_progress`, `archive_rows`).

Prints a markdown table of medians with the machine's yardstick (bench/yardstick.py) beside it.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.yardstick import yardstick_ms  # noqa: E402
from pipelines import demo, dispatch  # noqa: E402
from pipelines.rules import dispatch as rules  # noqa: E402
from pipelines.store import SYSTEM, Store  # noqa: E402

STEPS = ("bag", "batch", "slips", "labels", "list", "waybills", "progress", "rows")


def _timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def _waybill(channel: str, n: int) -> str:
    digits = f"{n:08d}"
    return f"EA{digits}{rules.s10_check_digit(digits)}CN" if channel == rules.EMS else f"9{n:012d}"


def one_run(built: Path, folder: Path, archives: int) -> dict[str, float]:
    path = folder / "run.duckdb"
    shutil.copy(built, path)
    store = Store(path, today=demo.DISPATCH_AS_OF.isoformat())
    times: dict[str, float] = {}
    with store.reading(SYSTEM) as reader:
        rows = reader.query("archive_rows", cohort=2024, college=None, ids=None, **{"class": None})
    chosen = rows.filter(rows["is_verified"])["student_id"].head(archives).to_list()
    times["bag"], done = _timed(lambda: dispatch.mark_bags(store, SYSTEM, chosen))
    times["batch"], batch = _timed(lambda: dispatch.build_batch(store, SYSTEM, 2024))
    assert batch.added == len(done.done), "the batch should take every bagged archive"
    for kind in ("slips", "labels", "list"):
        times[kind], _ = _timed(
            lambda kind=kind: dispatch.papers(store, SYSTEM, 2024, batch.batch_no, kind, f"{kind}.pdf")
        )
    with store.reading(SYSTEM) as reader:
        members = reader.query("dispatch_documents", batch_no=batch.batch_no)
    file = folder / "邮政批量交寄.csv"
    with file.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["中国邮政 批量交寄清单"])
        writer.writerow(["序号", "邮件号", "收件人", "转递编号", "交寄日期"])
        for i, row in enumerate(members.iter_rows(named=True)):
            writer.writerow(
                [i + 1, _waybill(row["channel"], 20_000_000 + i), row["contact"], row["transfer_number"], "2024-07-10"]
            )
    times["waybills"], recorded = _timed(
        lambda: dispatch.record_waybills(store, SYSTEM, dispatch.read_entries(file), source=file.name)
    )
    assert len(recorded.done) == members.height
    with store.reading(SYSTEM) as reader:
        times["progress"], _ = _timed(lambda: reader.query("dispatch_progress", cohort=2024))
        times["rows"], _ = _timed(
            lambda: reader.query("archive_rows", cohort=2024, college=None, ids=None, **{"class": None})
        )
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000", help="graduates, comma-separated (default 100000)")
    parser.add_argument("--archives", type=int, default=5000, help="archives bagged, batched and sent (default 5000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per size (default 3, medians)")
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    print(f"archives per batch: {args.archives:,}; runs per size: {args.runs} (medians, seconds)")
    print("| graduates | " + " | ".join(STEPS) + " | yardstick ms |")
    print("|---:|" + "---:|" * (len(STEPS) + 1))
    with tempfile.TemporaryDirectory(prefix="dangan-bench-dispatch-") as tmp:
        folder = Path(tmp)
        for size in sizes:
            built = folder / f"demo-{size}.duckdb"
            store = Store(built, today=demo.DISPATCH_AS_OF.isoformat())
            demo.build_demo(store, graduates=size, seed=2024, as_of=demo.DISPATCH_AS_OF)
            runs = [one_run(built, folder, args.archives) for _ in range(max(args.runs, 1))]
            cells = " | ".join(f"{statistics.median(r[s] for r in runs):.2f}" for s in STEPS)
            print(f"| {size:,} | {cells} | {yardstick_ms():,.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
