"""Initial passwords from a file: one scrypt hash per graduate, one thread vs the thread pool.

    .venv/bin/python bench/bench_passwords.py [--sizes 200,1000,5000] [--keep DIR]

For each size a demo store is built with `dangan demo --graduates N` (reused from `--keep DIR`,
as bench_reviews does). A csv gives every roster graduate their own password; on a fresh copy
of the store `accounts.initial_passwords` runs once with one hashing thread and once with the
default pool (one thread per core, at most accounts.MAX_HASH_WORKERS), from reading the file to
the audited commit. The demo's one graduate account has already changed its password, so it is
kept and not hashed. Prints a markdown table; timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines import accounts  # noqa: E402
from pipelines.store import SYSTEM, Store  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_reviews import _sizes  # noqa: E402
from bench_reviews import _store as demo_store  # noqa: E402


def _password_file(store: Store, path: Path) -> int:
    with store.reading(SYSTEM) as reader:
        ids = [r[0] for r in reader.conn.execute("select student_id from graduates order by 1").fetchall()]
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["学号", "初始密码"])
        out.writerows([sid, f"Init{i:06d}x"] for i, sid in enumerate(ids))
    return len(ids)


def measure(path: Path, work: Path, workers: int) -> tuple[int, float, float, accounts.InitialPasswords]:
    """Rows in the file, seconds in all, seconds hashing, and the result."""
    copy = work / f"copy_{path.name}"
    shutil.copy(path, copy)
    store = Store(copy)
    store.ensure_ready()
    passwords = work / "初始密码.csv"
    rows = _password_file(store, passwords)
    hashing = [0.0]
    hash_many = accounts._hash_many

    def timed(*args: Any, **kwargs: Any) -> list[str]:
        began = time.perf_counter()
        try:
            return hash_many(*args, **kwargs)
        finally:
            hashing[0] += time.perf_counter() - began

    accounts._hash_many = timed  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        done = accounts.initial_passwords(store, SYSTEM, passwords, workers=workers)
        seconds = time.perf_counter() - started
    finally:
        accounts._hash_many = hash_many  # type: ignore[assignment]
    copy.unlink()
    passwords.unlink()
    return rows, seconds, hashing[0], done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_sizes, default=_sizes("200,1000,5000"))
    parser.add_argument("--keep", type=Path, help="build stores here and keep them (copies are measured)")
    args = parser.parse_args(argv)
    pool = min(os.cpu_count() or 1, accounts.MAX_HASH_WORKERS)
    print(f"cores: {os.cpu_count()}; pool: {pool} threads")
    print("| graduates | threads | accounts written | seconds | of which hashing | accounts/s | speed-up |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="dangan-bench-passwords-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for size in args.sizes:
            path = demo_store(folder, size)
            single = None
            for workers in (1, pool):
                rows, seconds, hashing, done = measure(path, Path(tmp), workers)
                written = done.created + done.reset
                single = single or seconds
                print(f"| {rows:,} | {workers} | {written:,} | {seconds:,.1f} | {hashing:,.1f} | {written / seconds:,.0f} | "
                      f"{single / seconds:.2f}× |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
