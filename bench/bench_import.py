"""Import throughput: dangan's pipeline against a naive baseline, for csv and xlsx files.

    python bench/bench_import.py [--sizes 10000,100000,1000000] [--naive-max 100000]

For each size a roster is imported first (not timed in the main column), then a registrations
file of the same size is imported into a fresh store and timed end to end: read, validate,
check, write, commit. The naive baseline reads the same file row by row (openpyxl or the csv
module) and runs one INSERT per row in one transaction, with no validation at all.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import openpyxl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import files  # noqa: E402
from pipelines import campaigns, imports  # noqa: E402
from pipelines.store import SYSTEM, Store  # noqa: E402


def fresh_store(folder: Path, roster_path: Path) -> tuple[Store, float]:
    store = Store(folder / "bench.duckdb", today="2024-06-10")
    campaigns.save_campaign(store, SYSTEM, campaigns.default_campaign(2024, "江西服装学院"))
    started = time.perf_counter()
    imports.import_file(store, SYSTEM, "roster", roster_path)
    return store, time.perf_counter() - started


def naive(path: Path, db: Path) -> float:
    started = time.perf_counter()
    conn = duckdb.connect(str(db))
    conn.execute("create table registrations (student_id varchar, name varchar, transfer_type varchar, "
                 "unit_name varchar, address varchar, address_detail varchar, postcode varchar, contact varchar, "
                 "phone varchar, note varchar, proof_count varchar, submitted_at varchar, status varchar, reason varchar)")
    conn.execute("begin transaction")
    insert = "insert into registrations values (" + ",".join("?" * 14) + ")"
    if path.suffix == ".xlsx":
        book = openpyxl.load_workbook(path, read_only=True)
        rows = book.active.iter_rows(min_row=2, values_only=True)
    else:
        fh = path.open(encoding="utf-8")
        rows = csv.reader(fh)
        next(rows)
    for row in rows:
        conn.execute(insert, [None if v is None else str(v) for v in row])
    conn.execute("commit")
    conn.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--naive-max", type=int, default=100000, help="largest size the naive baseline runs at")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print("| format | rows | roster import s | registrations import s | rows/s | then stage refresh s "
          "| naive s | naive rows/s | speed-up |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in sizes:
        roster = files.roster_frame(size)
        registrations = files.registration_frame(roster)
        for fmt in args.formats.split(","):
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                roster_path = files.write(roster, folder / f"roster.{fmt}")
                reg_path = files.write(registrations, folder / f"registrations.{fmt}")
                store, roster_s = fresh_store(folder, roster_path)
                started = time.perf_counter()
                result = imports.import_file(store, SYSTEM, "registrations", reg_path, refresh_stages=False)
                took = time.perf_counter() - started
                started = time.perf_counter()
                store.transaction(SYSTEM, "stages:refresh", lambda w: w.refresh_stage_cache(), refresh_stages=False)
                refresh_s = time.perf_counter() - started
                assert result.inserted == size, result.summary()
                if size <= args.naive_max:
                    naive_s = naive(reg_path, folder / "naive.duckdb")
                    naive_cols = f"{naive_s:.2f} | {size / naive_s:,.0f} | {naive_s / took:.1f}×"
                else:
                    naive_cols = "— | — | —"
                print(f"| {fmt} | {size:,} | {roster_s:.2f} | {took:.2f} | {size / took:,.0f} | {refresh_s:.2f} "
                      f"| {naive_cols} |", flush=True)


if __name__ == "__main__":
    main()
