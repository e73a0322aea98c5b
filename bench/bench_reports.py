"""Verification reports: issuing (one audited transaction each) and PDF output, in reports/s.

    .venv/bin/python bench/bench_reports.py [--counts 10,100,500] [--graduates 20000] [--keep DIR]

A demo store of `--graduates` is built (or reused from `--keep DIR`) and copied. For each count
N, N confirmed graduates without a report in force get one (`reports.issue_many`, one write
transaction each: checks, number, audit, stage refresh), then their PDFs are rendered as one
merged PDF and as a ZIP of single PDFs (each embeds its own font subset). Prints a markdown
table; timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines import report_pdf, reports  # noqa: E402
from pipelines.store import SYSTEM, Store  # noqa: E402

VALID_UNTIL = date(2024, 12, 30)


def _counts(text: str) -> list[int]:
    counts = [int(part.strip()) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("--counts: comma-separated positive integers")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=_counts, default=_counts("10,100,500"))
    parser.add_argument("--graduates", type=int, default=20000)
    parser.add_argument("--keep", type=Path, help="build the demo store here and keep it (a copy is measured)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dangan-bench-reports-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        source = folder / f"demo_{args.graduates}.duckdb"
        if not source.exists():
            print(f"building {source} …", file=sys.stderr, flush=True)
            subprocess.run([sys.executable, "-m", "pipelines.cli", "--db", str(source), "demo",
                            "--graduates", str(args.graduates)], cwd=ROOT, check=True, capture_output=True)
        copy = Path(tmp) / "copy.duckdb"
        shutil.copy(source, copy)
        store = Store(copy)
        store.ensure_ready()
        print(f"{args.graduates:,} graduates in the store\n")
        print("| reports | issue s | issued/s | merged PDF s | pages/s | PDF MB | ZIP s | PDFs/s | ZIP MB |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for count in args.counts:
            with store.reading(SYSTEM) as reader:
                people = [r[0] for r in reader.conn.execute(
                    "select student_id from graduate_stages where is_confirmed and not is_verified "
                    "order by student_id limit ?", [count]).fetchall()]
            if len(people) < count:
                print(f"| {count:,} | not enough confirmed graduates without a report ({len(people)}) |")
                continue
            started = time.perf_counter()
            done, refused = reports.issue_many(store, SYSTEM, people, "archive", VALID_UNTIL)
            issue_s = time.perf_counter() - started
            assert not refused, refused[:3]
            with store.reading(SYSTEM) as reader:
                documents = reader.rows("report_documents", ids=[r.report_id for r in done])
            started = time.perf_counter()
            merged = report_pdf.render(documents)
            merged_s = time.perf_counter() - started
            started = time.perf_counter()
            bundle = report_pdf.render_zip(documents)
            zip_s = time.perf_counter() - started
            print(f"| {count:,} | {issue_s:.1f} | {count / issue_s:,.1f} | {merged_s:.1f} | {count / merged_s:,.1f} | "
                  f"{len(merged) / 1e6:.1f} | {zip_s:.1f} | {count / zip_s:,.1f} | {len(bundle) / 1e6:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
