"""The graduate's side: their pages on the server, and the latency of each of their acts.

    .venv/bin/python bench/bench_graduate.py [--sizes 5000,100000,1000000] [--runs 5]
        [--graduates 20] [--keep DIR] [--skip-pages] [--skip-acts]

For each size the demo store `DIR/demo_<N>.duckdb` is reused (`--keep DIR`), or
built with `dangan demo --graduates N` when it is missing (bench_pages.build_store). Then:

* Pages, server side: bench_pages' machinery (AppTest in this process, a fresh AppTest per run,
  only `at.run()` timed, a frame script that runs app.py's `main` with the page as default),
  logged in as a graduate: the lowest student id whose stage is 'confirmed' or 'verified' and
  whose hukou is at the school (so every module page has something to show, 户口信息登记
  included). Their account (user name = student id) is added to the store when missing: the
  only write to a kept store. "cold" clears st.cache_data before each run, "warm" keeps it; each
  cell is the median of `--runs` runs, after one untimed run.
* Acts: on a copy of the store (the kept one is never written to), `--graduates` graduates who
  have not registered and whose hukou is not at the school (so 去向登记确认 needs no hukou
  record) go through the whole module chain one call at a time, each call timed on its own:
  毕业去向填报 (`selfservice.record_destination`), 档案信息登记 (`submissions.submit` with one
  800×600 PNG proof), the college's and the school's approval (`reviews.decide` as the system:
  the office's side, timed apart), 去向登记确认 (`reports.confirm`), 核验授权
  (`reports.issue`, valid until 2024-12-01) and the report's PDF (`reports.report_file`). Every
  call but the reviews acts as the graduate themself; every write is one audited transaction
  that opens the file read-write, updates the graduate's materialised stage row and today's
  counts, commits, verifies its COMMIT and closes (checkpoint included). One more graduate goes
  first, untimed (imports, fonts, the OS file cache). Then the graduate's own read, the
  `graduate_detail` query of their record: the whole read (locks, connect, configure, query,
  close) and the query alone.

Prints markdown tables; timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import streamlit as st
from PIL import Image, ImageDraw
from streamlit import config as st_config
from streamlit import logger as st_logger

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_pages import (  # noqa: E402
    Errors,
    Page,
    _file_mb,
    _frames_removed,
    _log,
    _ms,
    _sizes,
    apptest_overhead,
    build_store,
    measure_server,
    server_table,
)
from pipelines import accounts, reports, reviews, selfservice, submissions
from pipelines.rules import workflow  # noqa: E402
from pipelines.store import SYSTEM, Actor, Store, config  # noqa: E402

GRADUATE_PASSWORD = "bench2024x"
VALID_UNTIL = date(2024, 12, 1)
FORM = {
    "transfer_type": "employer",
    "unit_name": "江西省纺织工业集团人力资源部",
    "province": "江西省",
    "city": "南昌市",
    "district": "东湖区",
    "address_detail": "八一大道 100 号 3 栋",
    "postcode": "330000",
    "contact": "档案室",
    "phone": "0791-86123456",
    "note": "已签就业协议",
}
DESTINATION = ("10", "江西省纺织工业集团", "江西省南昌市")

# The acts in the order a graduate takes them, (label, who acts).
ACTS = [
    ("毕业去向填报 · record_destination", "graduate"),
    ("档案信息登记 · submit (1 PNG proof)", "graduate"),
    ("学院审核通过 · reviews.decide college", "office"),
    ("学校审核通过 · reviews.decide school", "office"),
    ("去向登记确认 · reports.confirm", "graduate"),
    ("核验授权 · reports.issue archive", "graduate"),
    ("下载核验报告 · reports.report_file (PDF)", "graduate"),
]
READS = [
    ("我的登记 read · graduate_detail (open, query, close)", "graduate"),
    ("我的登记 read · graduate_detail (query alone)", "graduate"),
]


def graduate_pages() -> list[Page]:
    """The graduate's pages. 我的登记 is their default page (app.py swaps 总览 for detail.py, which
    titles itself 我的登记 for a graduate); through the frame it is opened as detail.py."""
    return [
        Page("我的登记", "screens/drill/detail.py", "", {}, "我的登记"),
        Page("毕业去向填报", "screens/graduate/destination_form.py", "destination", {}, "毕业去向填报"),
        Page("档案信息登记", "screens/graduate/registration_form.py", "register", {}, "档案信息登记"),
        Page("户口信息登记", "screens/graduate/hukou_form.py", "hukou", {}, "户口信息登记"),
        Page("去向登记确认", "screens/graduate/confirm.py", "confirm", {}, "去向登记确认"),
        Page("核验授权", "screens/graduate/authorize.py", "authorize", {}, "核验授权"),
    ]


# --- stores and the graduate account ---------------------------------------------------------


def _store(folder: Path, size: int) -> tuple[Path, str]:
    """The kept store of `size` ("reused"), or a new one from bench_pages.build_store."""
    path = folder / f"demo_{size}.duckdb"
    if path.exists():
        _log(f"reusing {path}")
        return path, "reused"
    path, seconds = build_store(folder, size)
    return path, f"built in {seconds or 0:.1f} s"


def ensure_graduate(path: Path) -> tuple[str, str]:
    """The graduate the pages are opened as, with an account (user name = student id); returns
    (student id, stage)."""
    store = Store(path)
    with store.reading(SYSTEM) as reader:
        found = reader._conn.execute(
            "select student_id, stage from graduate_stages where is_confirmed and is_hukou_at_school "
            "order by student_id limit 1"
        ).fetchall()
        if not found:
            sys.exit(f"{path}: no confirmed graduate whose hukou is at the school")
        student_id, stage = str(found[0][0]), str(found[0][1])
        account = reader.one("user_by_name", username=student_id)
    if account is None:
        _log(f"adding the graduate account {student_id} to {path}")
        accounts.add_user(
            store, SYSTEM, student_id, "graduate", GRADUATE_PASSWORD, student_id=student_id, must_change_password=False
        )
    elif account["role"] != "graduate" or account.get("disabled"):
        sys.exit(f"{path}: the account {student_id} exists but is not an enabled graduate account")
    return student_id, stage


# --- acts ------------------------------------------------------------------------------------


def proof_png() -> bytes:
    """An 800×600 PNG that looks a little like a scanned letter (lines of "text", a stamp)."""
    image = Image.new("RGB", (800, 600), (250, 250, 246))
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 40, 740, 80), fill=(30, 30, 30))
    for i, y in enumerate(range(110, 520, 26)):
        draw.line((80, y, 720 - (i * 37) % 180, y), fill=(60, 60, 60), width=3)
    draw.ellipse((540, 400, 700, 560), outline=(200, 30, 30), width=6)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@dataclass
class ActResult:
    times: dict[str, list[float]]
    people: int
    pdf_bytes: int
    fresh: bool  # the copy's materialised stages are still today's after every act
    copy_s: float
    chains: list[float]  # per timed graduate, the sum of their acts
    png_bytes: int


def _candidates(store: Store, count: int) -> list[str]:
    with store.reading(SYSTEM) as reader:
        rows = reader._conn.execute(
            "select student_id from graduate_stages where stage = 'not_registered' and not is_hukou_at_school "
            "order by student_id limit ?",
            [count],
        ).fetchall()
    return [str(r[0]) for r in rows]


def _chain(store: Store, student_id: str, png: bytes, clock: Callable[..., Any], query_times: list[float]) -> int:
    """One graduate's acts, each through `clock`, then their own read; returns the PDF's bytes."""
    actor = Actor(student_id, "graduate", None, student_id)
    labels = [label for label, _ in ACTS]
    clock(labels[0], selfservice.record_destination, store, actor, student_id, *DESTINATION)
    registration_id = clock(labels[1], submissions.submit, store, actor, student_id, FORM, [("调档函.png", png)])
    clock(labels[2], reviews.decide, store, SYSTEM, registration_id, workflow.Decision("college", "approve", ""))
    clock(labels[3], reviews.decide, store, SYSTEM, registration_id, workflow.Decision("school", "approve", ""))
    clock(labels[4], reports.confirm, store, actor, student_id)
    report = clock(labels[5], reports.issue, store, actor, student_id, "archive", VALID_UNTIL)
    pdf, _pages = clock(labels[6], reports.report_file, store, actor, report.report_id)

    def read() -> None:
        with store.reading(actor) as reader:
            started = time.perf_counter()
            found = reader.query("graduate_detail", student_id=student_id)
            query_times.append(time.perf_counter() - started)
        if found.height != 1 or found["stage"][0] != "verified":
            raise AssertionError(
                f"graduate_detail of {student_id}: {found.height} rows, stage {found['stage'].to_list()}"
            )

    clock(READS[0][0], read)
    return len(pdf)


def measure_acts(path: Path, work: Path, count: int, size: int, errors: Errors) -> ActResult:
    """Take `count` graduates (and one untimed first) through every act, on a copy of `path`."""
    copy = work / f"copy_{path.name}"
    started = time.perf_counter()
    shutil.copy(path, copy)
    copy_s = time.perf_counter() - started
    store = Store(copy)
    store.ensure_ready()
    png = proof_png()
    people = _candidates(store, count + 1)
    times: dict[str, list[float]] = {label: [] for label, _ in ACTS + READS}
    pdf_bytes = 0
    done = 0
    chains: list[float] = []
    for i, student_id in enumerate(people):
        timed = i > 0
        step = ""

        def clock(label: str, call: Callable[..., Any], *args: Any, timed: bool = timed) -> Any:
            nonlocal step
            step = label
            started = time.perf_counter()
            result = call(*args)
            if timed:
                times[label].append(time.perf_counter() - started)
            return result

        try:
            pdf_bytes = _chain(store, student_id, png, clock, times[READS[1][0]] if timed else [])
            if timed:
                done += 1
                chains.append(sum(times[label][-1] for label, _ in ACTS))
        except Exception:
            errors.add(f"acts @ {size:,}: {student_id}, {step}", traceback.format_exc())
    with store.reading(SYSTEM) as reader:
        fresh = reader.setting("stage_cache_as_of") == reader.today.isoformat()
    for leftover in work.glob(f"{copy.name}*"):
        leftover.unlink()
    return ActResult(times, done, pdf_bytes, fresh, copy_s, chains, len(png))


def _p90(values: list[float]) -> float:
    if len(values) < 2:
        return max(values)
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def acts_table(size: int, result: ActResult) -> list[str]:
    lines = [
        f"\n### {size:,} graduates ({result.people} graduates timed, each act once per graduate)\n",
        "| act | by | median ms | p90 ms | acts/s (1/median) |",
        "|---|---|---:|---:|---:|",
    ]
    for label, who in ACTS + READS:
        values = result.times[label]
        if not values:
            lines.append(f"| {label} | {who} | — | — | — |")
            continue
        median = statistics.median(values)
        lines.append(f"| {label} | {who} | {median * 1000:,.1f} | {_p90(values) * 1000:,.1f} | {1 / median:,.1f} |")
    chain = result.chains
    if chain:
        lines.append(
            f"| whole chain (sum of the acts above) | | {statistics.median(chain) * 1000:,.1f} "
            f"| {_p90(chain) * 1000:,.1f} | {1 / statistics.median(chain):,.2f} |"
        )
    lines.append("")
    lines.append(
        f"Proof PNG {result.png_bytes / 1024:,.0f} KB; report PDF {result.pdf_bytes / 1024:,.0f} KB. Materialised stages still today's after every act: "
        f"{'yes' if result.fresh else 'no'}. Copying the store took {result.copy_s:.2f} s (not timed)."
    )
    return lines


# --- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=_sizes("5000,100000,1000000"),
        help="numbers of graduates, comma-separated (default 5000,100000,1000000)",
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per page cell (default 5)")
    parser.add_argument(
        "--graduates", type=int, default=20, help="graduates taken through the acts per size (default 20)"
    )
    parser.add_argument(
        "--keep",
        type=Path,
        help="build stores here and keep them; an existing DIR/demo_<N>.duckdb is reused "
        "(default: a temporary folder, removed afterwards)",
    )
    parser.add_argument("--skip-pages", action="store_true", help="time the acts only")
    parser.add_argument("--skip-acts", action="store_true", help="time the pages only")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.graduates < 1:
        parser.error("--runs and --graduates must be at least 1")

    st_config.set_option("logger.level", "error")
    st_logger.set_log_level("error")
    os.environ.pop(config.ENV_TODAY, None)  # the demo stores carry their own as-of date
    errors = Errors()
    stores: list[str] = []
    used: list[str] = []
    cells: dict[int, dict[str, tuple[str, str]]] = {}
    acts: list[str] = []
    overhead = None
    with _frames_removed(), tempfile.TemporaryDirectory(prefix="dangan-bench-graduate-") as tmp:
        keep = args.keep or Path(tmp) / "stores"
        keep.mkdir(parents=True, exist_ok=True)
        if not args.skip_pages:
            overhead = apptest_overhead(args.runs)
        for size in args.sizes:
            path, how = _store(keep, size)
            student_id, stage = ensure_graduate(path)
            stores.append(f"| {size:,} | {how} | {_file_mb(path):,.1f} |")
            used.append(f"{size:,}: {student_id} ({stage})")
            if not args.skip_pages:
                _log(f"graduate pages at {size:,} graduates, as {student_id}")
                cells[size] = measure_server(path, graduate_pages(), args.runs, size, errors, user=student_id)
            if not args.skip_acts:
                _log(f"graduate acts at {size:,} graduates")
                acts += acts_table(size, measure_acts(path, Path(tmp), args.graduates, size, errors))

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"# Graduate side: pages and acts\n\n{platform.node()} · {os.cpu_count()} CPUs · "
        f"load average {load} (at the end) · Python {platform.python_version()} · "
        f"streamlit {st.__version__} · duckdb {duckdb.__version__}"
    )
    print("\n## Stores\n")
    print("| graduates | store | file MB |")
    print("|---:|---|---:|")
    print("\n".join(stores))
    if not args.skip_pages:
        table = server_table(graduate_pages(), args.sizes, cells, args.runs)
        table[0] = f"\n## Graduate pages, server-side script run (AppTest, median of {args.runs} runs)\n"
        print("\n".join(table))
        print(
            f"\ncold: st.cache_data cleared before each run (every query hits DuckDB); warm: cache kept. "
            f"AppTest's own overhead (one-line script): {_ms(overhead or 0)} ms. "
            f"Logged in as the graduate (student id, stage): {'; '.join(used)}."
        )
    if not args.skip_acts:
        print("\n## A graduate's acts, one call each, on a copy of the store\n")
        print(
            "by graduate: `Actor(student_id, 'graduate', None, student_id)`; by office: `SYSTEM`. "
            "Each write opens the file read-write for one audited transaction and closes it."
        )
        print("\n".join(acts))
    errors.print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
