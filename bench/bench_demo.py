"""Benchmark `pipelines.demo.build_demo`: how fast it fills a store, and how big the file gets.

    .venv/bin/python bench/bench_demo.py --sizes 100000,1000000

Each size is built `--runs` times into a fresh store in a temporary directory (deleted afterwards
unless `--keep DIR` is given; then once). The schema is created before the clock starts, so the
time is the demo alone: generating the rows, checking the facts that have rules (reviews,
confirmations, reports: `pipelines.facts`, shown apart as "rule checks s") and writing them, one
transaction per chunk. Prints a markdown table of medians with the machine's yardstick beside
it, then the process's peak memory (which should stay flat: the demo streams in chunks).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.yardstick import yardstick_ms  # noqa: E402
from pipelines import facts  # noqa: E402
from pipelines.demo import build_demo  # noqa: E402
from pipelines.store import Store  # noqa: E402


def _sizes(text: str) -> list[int]:
    sizes = [int(part.strip().replace("_", "")) for part in text.split(",") if part.strip()]
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("--sizes: comma-separated positive integers")
    return sizes


def _file_mb(path: Path) -> float:
    """The store's size on disk, with its write-ahead log if one is left."""
    files = [path, path.with_name(path.name + ".wal")]
    return sum(f.stat().st_size for f in files if f.exists()) / 1e6


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _build(path: Path, size: int, seed: int, progress: bool) -> tuple[float, float]:
    """(seconds of the whole build, seconds of it spent checking facts with the rules)."""
    store = Store(path, today="2024-06-10")
    store.ensure_ready()  # the schema is not part of the measurement
    checking = [0.0]
    check = facts.problems_of

    def timed_check(batch: facts.Facts) -> list[str]:
        started = time.perf_counter()
        try:
            return check(batch)
        finally:
            checking[0] += time.perf_counter() - started

    def report(done: int, total: int) -> None:
        print(f"  {done:,}/{total:,}", file=sys.stderr, flush=True)

    facts.problems_of = timed_check  # type: ignore[assignment]
    try:
        start = time.perf_counter()
        build_demo(store, graduates=size, seed=seed, progress=report if progress else None)
        return time.perf_counter() - start, checking[0]
    finally:
        facts.problems_of = check  # type: ignore[assignment]


def run(sizes: list[int], seed: int, directory: Path, progress: bool, runs: int, keep: bool) -> None:
    print(f"runs per size: {runs} (medians)")
    print("| graduates | seconds | graduates/s | rule checks s | file size MB | yardstick ms |")
    print("|---:|---:|---:|---:|---:|---:|")
    for size in sizes:
        measured = []
        for attempt in range(runs):
            path = directory / (f"demo-{size}.duckdb" if keep else f"demo-{size}-{attempt}.duckdb")
            measured.append(_build(path, size, seed, progress))
            size_mb = _file_mb(path)
            if not keep:
                for leftover in (path, path.with_name(path.name + ".wal")):
                    leftover.unlink(missing_ok=True)
        seconds = statistics.median(m[0] for m in measured)
        checks = statistics.median(m[1] for m in measured)
        print(
            f"| {size:,} | {seconds:.1f} | {size / seconds:,.0f} | {checks:.2f} | {size_mb:,.1f} | {yardstick_ms():,.0f} |",
            flush=True,
        )
    print(f"\npeak memory (RSS) of this process: {_peak_rss_mb():,.0f} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=_sizes("100000,1000000"),
        help="numbers of graduates, comma-separated (default 100000,1000000)",
    )
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--keep", type=Path, help="build the stores here and keep them")
    parser.add_argument("--progress", action="store_true", help="report each chunk on stderr")
    parser.add_argument("--runs", type=int, default=3, help="builds per size (default 3; 1 with --keep)")
    args = parser.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        run(args.sizes, args.seed, args.keep, args.progress, 1, keep=True)
    else:
        with tempfile.TemporaryDirectory(prefix="dangan-bench-demo-") as tmp:
            run(args.sizes, args.seed, Path(tmp), args.progress, max(args.runs, 1), keep=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
