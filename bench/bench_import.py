"""Import throughput: dangan's pipeline against a naive baseline, for xlsx and csv files.

    python bench/bench_import.py [--sizes 5000,100000,1000000] [--runs 3] [--large-runs 1] [--naive-max 100000]

For each size a roster is imported into a fresh store; in a copy of it a registrations file of
the same size (bench/files.py: a 转递编号, a submission time to the second and a contact phone
of its own on every row, as national exports have) is imported with nothing read before, as
`dangan import` does. That import is split as the user waits for it:

- read: the file's size and zip checks, the capped reading process, header and column accounting;
- validate: every cell through the row rules (`rows`), the rules across fields, duplicates;
- write: the write transaction: checks against the store, the new revisions and reviews, commit;
- stage refresh: the materialised stages refilled after the import commits (pipelines/store.py).

"import s" is read + validate + write; "user waits s" adds the stage refresh. In another copy
the file is previewed (`--dry-run`: everything but the write, rolled back) and then imported,
as the 导入 page does ("import after preview s", without the stage refresh). Each figure is the
median of `--runs` runs (`--large-runs` from 1M rows on). The naive baseline reads the same
file row by row (openpyxl or the csv module) and runs one INSERT per row in one transaction,
with no validation at all (one run: it is slow); the speed-up is naive / import. The CLI column
is `dangan import registrations FILE` as a new process: interpreter start, the reading
process's start and the stage refresh included.

The machine is shared: a DuckDB group-by over 10M rows is timed in the same run as a yardstick
(bench/yardstick.py), before, between sizes and after; compare figures across runs through it.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import openpyxl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import files, yardstick  # noqa: E402
from pipelines import campaigns, imports, sheets  # noqa: E402
from pipelines.store import SYSTEM, Store  # noqa: E402


def fresh_store(folder: Path, roster_path: Path) -> tuple[Store, float]:
    for old in folder.glob("bench.duckdb*"):
        old.unlink()
    store = Store(folder / "bench.duckdb", today="2024-06-10")
    campaigns.save_campaign(
        store,
        SYSTEM,
        campaigns.Campaign(**{**campaigns.default_campaign(2024, "江西服装学院").__dict__, "school_code": "10001"}),
    )
    started = time.perf_counter()
    imports.import_file(store, SYSTEM, "roster", roster_path)
    return store, time.perf_counter() - started


def naive(path: Path, db: Path) -> float:
    started = time.perf_counter()
    conn = duckdb.connect(str(db))
    if path.suffix == ".xlsx":
        book = openpyxl.load_workbook(path, read_only=True)
        rows = book.active.iter_rows(values_only=True)
    else:
        fh = path.open(encoding="utf-8")
        rows = csv.reader(fh)
    width = len(next(rows))
    conn.execute("create table registrations (" + ", ".join(f"c{i} varchar" for i in range(width)) + ")")
    conn.execute("begin transaction")
    insert = "insert into registrations values (" + ",".join("?" * width) + ")"
    for row in rows:
        conn.execute(insert, [None if v is None else str(v) for v in row])
    conn.execute("commit")
    conn.close()
    db.unlink()
    return time.perf_counter() - started


class Stages:
    """The moments an import reaches its stages (its progress callback)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.at: dict[tuple[str, int], float] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.at.setdefault((stage, done), time.perf_counter())

    def split(self, ended: float) -> dict[str, float]:
        read = self.at[("读取", 1)]
        validated = self.at[("写入数据库", 0)]
        return {"read": read - self.started, "validate": validated - read, "write": ended - validated}


def one_run(folder: Path, roster_path: Path, reg_path: Path, size: int) -> dict[str, float]:
    """A fresh store with the roster. In a copy, the registrations imported with nothing read
    before (as `dangan import` does), then the stages refreshed; in another copy, previewed then
    imported (as the 导入 page does: the import after a preview)."""
    store, roster_s = fresh_store(folder, roster_path)
    template = folder / "template.duckdb"
    shutil.copy(store.path, template)
    forget = getattr(imports, "forget_previews", lambda: None)  # main before #17 kept no preview

    cold = Store(shutil.copy(template, folder / "cold.duckdb"), today="2024-06-10")
    forget()
    stages = Stages()
    result = imports.import_file(cold, SYSTEM, "registrations", reg_path, refresh_stages=False, progress=stages)
    ended = time.perf_counter()
    assert result.inserted == size, result.summary()
    started = time.perf_counter()
    cold.transaction(SYSTEM, "stages:refresh", lambda w: w.refresh_stage_cache(), refresh_stages=False)
    refresh_s = time.perf_counter() - started

    page = Store(shutil.copy(template, folder / "page.duckdb"), today="2024-06-10")
    started = time.perf_counter()
    preview = imports.import_file(page, SYSTEM, "registrations", reg_path, dry_run=True)
    dry_s = time.perf_counter() - started
    assert preview.inserted == size and preview.refused == 0, preview.summary()
    started = time.perf_counter()
    imports.import_file(page, SYSTEM, "registrations", reg_path, refresh_stages=False)
    after_preview_s = time.perf_counter() - started
    for old in folder.glob("*.duckdb*"):
        old.unlink()
    took = ended - stages.started
    return {
        "roster": roster_s,
        "dry": dry_s,
        **stages.split(ended),
        "import": took,
        "refresh": refresh_s,
        "waits": took + refresh_s,
        "after_preview": after_preview_s,
    }


def median_of(runs: int, once: Callable[[], dict[str, float]]) -> dict[str, float]:
    found = [once() for _ in range(runs)]
    return {key: statistics.median(r[key] for r in found) for key in found[0]}


def cli_seconds(folder: Path, roster_path: Path, reg_path: Path) -> float:
    store, _ = fresh_store(folder, roster_path)
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "--db",
            str(store.path),
            "--today",
            "2024-06-10",
            "import",
            "registrations",
            str(reg_path),
        ],
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="5000,100000,1000000")
    parser.add_argument("--formats", default="xlsx,csv")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (the median is printed)")
    parser.add_argument("--large-runs", type=int, default=1, help="runs per figure from 1M rows on")
    parser.add_argument("--naive-max", type=int, default=100000, help="largest size the naive baseline runs at")
    parser.add_argument("--cli-sizes", default="100000", help="sizes timed through the dangan command as well")
    args = parser.parse_args()
    # A 1M-row csv with a 转递编号, a time and a phone of its own on every row is about 225 MB,
    # above the default file limit (200 MB): the bench raises it, as an office would for that file.
    os.environ.setdefault("DANGAN_IMPORT_MAX_MB", "400")
    sizes = [int(s) for s in args.sizes.split(",")]
    cli_sizes = {int(s) for s in args.cli_sizes.split(",") if s}
    sheets.warm()
    print(yardstick.line())
    print(f"medians of {args.runs} runs ({args.large_runs} from 1M rows on), each in a fresh store\n")
    print(
        "| format | rows | roster import s | read s | validate s | write s | import s | rows/s | stage refresh s "
        "| user waits s | preview s | import after preview s | CLI process s | naive s | naive rows/s | speed-up |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in sizes:
        roster = files.roster_frame(size)
        registrations = files.registration_frame(roster)
        runs = args.runs if size < 1_000_000 else args.large_runs
        for fmt in args.formats.split(","):
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                roster_path = files.write(roster, folder / f"roster.{fmt}")
                reg_path = files.write(registrations, folder / f"registrations.{fmt}")

                got = median_of(runs, lambda f=folder, r=roster_path, g=reg_path, n=size: one_run(f, r, g, n))
                cli = (
                    f"{statistics.median(cli_seconds(folder, roster_path, reg_path) for _ in range(runs)):.2f}"
                    if size in cli_sizes
                    else "—"
                )
                if size <= args.naive_max:
                    naive_s = naive(reg_path, folder / "naive.duckdb")
                    naive_cols = f"{naive_s:.2f} | {size / naive_s:,.0f} | {naive_s / got['import']:.1f}×"
                else:
                    naive_cols = "— | — | —"
                print(
                    f"| {fmt} | {size:,} | {got['roster']:.2f} | {got['read']:.2f} | {got['validate']:.2f} "
                    f"| {got['write']:.2f} | {got['import']:.2f} | {size / got['import']:,.0f} | {got['refresh']:.2f} "
                    f"| {got['waits']:.2f} | {got['dry']:.2f} | {got['after_preview']:.2f} | {cli} | {naive_cols} |",
                    flush=True,
                )
        print(yardstick.line(), flush=True)


if __name__ == "__main__":
    main()
