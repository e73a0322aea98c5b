"""Verification reports: issuing a batch, then its merged PDF and its ZIP of single PDFs (#17).

    .venv/bin/python bench/bench_reports.py [--counts 100,1000,5000] [--runs 3] [--graduates 30000]
                                            [--zip-up-to N] [--keep DIR]

A demo store of `--graduates` is built (or reused from `--keep DIR`). Each run of a count N
copies it afresh, issues N reports to confirmed graduates without one (`reports.issue_many`,
one audited transaction), reads their documents (`reports.documents`) and renders them as one
merged PDF and as a ZIP (`report_pdf.render`, `render_zip`, as the CLI and the dashboard call
them). The table gives medians over the runs; "batch + PDF s" is what a user waits for (issue,
documents, merged PDF; goal ≤ 30 s at 5,000), "CPU ms" the processor time per report of this
process and its workers (less sensitive to a busy machine than the wall clock). The yardstick
is timed before each row. Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import yardstick  # noqa: E402
from pipelines import report_pdf, reports  # noqa: E402
from pipelines.store import SYSTEM, Store  # noqa: E402

VALID_UNTIL = date(2024, 12, 30)


def _counts(text: str) -> list[int]:
    counts = [int(part.strip()) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("--counts: comma-separated positive integers")
    return counts


def _cpu() -> float:
    """Processor seconds of this process and of its children that have ended (the pool's)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(work: Callable[[], Any]) -> tuple[Any, float, float]:
    cpu, started = _cpu(), time.perf_counter()
    result = work()
    return result, time.perf_counter() - started, _cpu() - cpu


def _run(source: Path, folder: Path, count: int, with_zip: bool) -> dict[str, float] | None:
    copy = folder / "copy.duckdb"
    shutil.copy(source, copy)
    store = Store(copy)
    store.ensure_ready()
    with store.reading(SYSTEM) as reader:
        people = [
            r[0]
            for r in reader._conn.execute(
                "select student_id from graduate_stages where is_confirmed and not is_verified "
                "order by student_id limit ?",
                [count],
            ).fetchall()
        ]
    if len(people) < count:
        return None
    (done, refused), issue_s, _ = _timed(lambda: reports.issue_many(store, SYSTEM, people, "archive", VALID_UNTIL))
    assert not refused, refused[:3]
    documents, documents_s, _ = _timed(lambda: reports.documents(store, SYSTEM, [r.report_id for r in done]))
    merged, merged_s, merged_cpu = _timed(lambda: report_pdf.render(documents))
    row = {
        "issue": issue_s,
        "documents": documents_s,
        "merged": merged_s,
        "merged_cpu": merged_cpu,
        "merged_mb": len(merged) / 1e6,
    }
    if with_zip:
        bundle, zip_s, zip_cpu = _timed(lambda: report_pdf.render_zip(documents))
        row |= {"zip": zip_s, "zip_cpu": zip_cpu, "zip_mb": len(bundle) / 1e6}
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=_counts, default=_counts("100,1000,5000"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--graduates", type=int, default=30000, help="5,000 reports need about 25,000")
    parser.add_argument("--zip-up-to", type=int, default=None, help="leave the ZIP out above this many reports")
    parser.add_argument("--keep", type=Path, help="build the demo store here and keep it (a copy is measured)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dangan-bench-reports-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        source = folder / f"demo_{args.graduates}.duckdb"
        if not source.exists():
            print(f"building {source} …", file=sys.stderr, flush=True)
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pipelines.cli",
                    "--db",
                    str(source),
                    "demo",
                    "--graduates",
                    str(args.graduates),
                ],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
        print(f"{args.graduates:,} graduates in the store; medians of {args.runs} runs\n")
        print(
            "| reports | yardstick ms | issue s | merged PDF s | pages/s | CPU ms/page | batch + PDF s | PDF MB "
            "| ZIP s | PDFs/s | CPU ms/PDF | ZIP MB |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for count in args.counts:
            ruler = yardstick.yardstick_ms()
            with_zip = args.zip_up_to is None or count <= args.zip_up_to
            runs = [_run(source, Path(tmp), count, with_zip) for _ in range(args.runs)]
            if any(run is None for run in runs):
                print(f"| {count:,} | {ruler:.0f} | not enough confirmed graduates without a report: use --graduates |")
                continue
            m = {key: statistics.median(run[key] for run in runs if run) for key in runs[0] or {}}
            zip_part = (
                f"{m['zip']:.1f} | {count / m['zip']:,.1f} | {m['zip_cpu'] / count * 1000:.1f} | {m['zip_mb']:.1f}"
                if with_zip
                else "— | — | — | —"
            )
            print(
                f"| {count:,} | {ruler:.0f} | {m['issue']:.1f} | {m['merged']:.1f} | {count / m['merged']:,.1f} | "
                f"{m['merged_cpu'] / count * 1000:.1f} | {m['issue'] + m['documents'] + m['merged']:.1f} | "
                f"{m['merged_mb']:.1f} | {zip_part} |",
                flush=True,
            )
        print(f"\n{yardstick.line()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
