"""Benchmark `pipelines.demo.build_demo`: how fast it fills a store, and how big the file gets.

    .venv/bin/python bench/bench_demo.py --sizes 100000,1000000

Each size is built into a fresh store in a temporary directory (deleted afterwards unless
`--keep DIR` is given). The schema is created before the clock starts, so the time is the
demo alone: generating the rows and writing them, one transaction per chunk. Prints a markdown
table, then the process's peak memory (which should stay flat: the demo streams in chunks).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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


def run(sizes: list[int], seed: int, directory: Path, progress: bool) -> None:
    print("| graduates | seconds | graduates/s | file size MB |")
    print("|---:|---:|---:|---:|")
    for size in sizes:
        path = directory / f"demo-{size}.duckdb"
        store = Store(path, today="2024-06-10")
        store.ensure_ready()  # the schema is not part of the measurement

        def report(done: int, total: int) -> None:
            print(f"  {done:,}/{total:,}", file=sys.stderr, flush=True)

        start = time.perf_counter()
        build_demo(store, graduates=size, seed=seed, progress=report if progress else None)
        seconds = time.perf_counter() - start
        print(f"| {size:,} | {seconds:.1f} | {size / seconds:,.0f} | {_file_mb(path):,.1f} |", flush=True)
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
    args = parser.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        run(args.sizes, args.seed, args.keep, args.progress)
    else:
        with tempfile.TemporaryDirectory(prefix="dangan-bench-demo-") as tmp:
            run(args.sizes, args.seed, Path(tmp), args.progress)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
