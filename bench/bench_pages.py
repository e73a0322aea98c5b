"""Page speed: each dashboard page's script run on the server, and its first paint in Chromium.

    .venv/bin/python bench/bench_pages.py [--sizes 5000,100000,1000000] [--overview-sizes 12000000]
        [--runs 5] [--first-paint-size 100000] [--keep DIR] [--profile]

For each size a demo store is built with `dangan demo --graduates N` (reused from `--keep DIR`
when `DIR/demo_<N>.duckdb` exists). Then:

* Server side: every page is run with Streamlit's AppTest in this process, over that store
  (`DANGAN_DB`), a fresh AppTest per run, timing only `at.run()`. "cold" clears st.cache_data
  before each run, so every query goes to DuckDB (the process and the OS file cache are warm);
  "warm" keeps the cache, which is what a user sees on a rerun when nothing has been written.
  Each cell is the median of `--runs` runs. At `--overview-sizes` only 总览 is timed.
* First paint (at `--first-paint-size`, 0 to skip): the real server (`dangan serve`) and Debian's
  headless Chromium via Playwright. A load is timed from the start of `page.goto` until the
  script run has finished (stApp's `data-test-script-state` is `notRunning`) and the page's h1
  title is visible, checked on animation frames. Every load gets a fresh browser context.
  "first" is the first load after the store changed (the bench borrows the file from the server
  for one read, after which the server forgets every cached result, so every query misses, as
  after an import); the median is
  over the loads that follow it. The server process has already served every page once.

Prints markdown tables; timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import duckdb
import streamlit as st
from streamlit import config as st_config
from streamlit import logger as st_logger
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines import accounts  # noqa: E402
from pipelines import store as store_module  # noqa: E402
from pipelines.store import (  # noqa: E402
    SYSTEM,
    Reader,
    Store,
    config,  # noqa: E402
)

APP = ROOT / "dashboard" / "app.py"
RUN_TIMEOUT_S = 300.0
SERVER_START_TIMEOUT_S = 120.0
LOAD_TIMEOUT_MS = 120_000
PAINT_LOADS = 3
TARGETS = "targets: every page ≤ 300 ms at 100k; 总览 ≤ 1.5 s at 12M; first paint ≤ 2 s at 100k"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Streamlit 1.67's frontend puts the script state on the app root:
#   <div data-testid="stApp" data-test-script-state="initial|running|notRunning|...">
APP_ROOT = '[data-testid="stApp"]'
SCRIPT_STATE = "data-test-script-state"
# True once the script run is over and the h1 holding `title` is laid out and visible.
PAINTED = """title => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    return Array.from(document.querySelectorAll('h1')).some(
        h => h.textContent.includes(title) && h.checkVisibility());
}"""
EXCEPTIONS = '[data-testid="stException"]'
LOGIN_TITLE = "登录 · 档案登记看板"
BENCH_USER, BENCH_PASSWORD = "bench", "bench2024x"
# Notes the browser's clock when the script run first shows as running.
RUNNING_SINCE = """new MutationObserver((_, observer) => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (app && app.getAttribute('data-test-script-state') === 'running') {
        window.__danganRunning = performance.now();
        observer.disconnect();
    }
}).observe(document, {subtree: true, childList: true, attributes: true});"""


@dataclass(frozen=True)
class Page:
    label: str
    script: str | None  # relative to app.py; None: the default page
    url_path: str  # the page's url_path in the browser
    query: dict[str, str]
    title: str  # the page's st.title (its h1)


@dataclass(frozen=True)
class Targets:
    college: str
    student: str


def pages(targets: Targets) -> list[Page]:
    college, student = targets.college, targets.student
    return [
        Page("总览", None, "", {}, "总览"),
        Page("截止风险", "screens/progress/risk.py", "risk", {}, "截止风险"),
        Page("截止风险（一个学院）", "screens/progress/risk.py", "risk", {"college": college}, "截止风险"),
        Page("统计分析", "screens/progress/stats.py", "stats", {}, "统计分析"),
        Page("待审核", "screens/review/review.py", "review", {}, "待审核"),
        Page("学院", "screens/drill/college.py", "college", {"college": college}, college),
        Page("登记详情", "screens/drill/detail.py", "detail", {"student": student}, "登记详情"),
        Page("档案转递", "screens/dispatch/dispatch.py", "dispatch", {}, "档案转递"),
        Page("检查与退档", "screens/dispatch/learning.py", "check_learning", {}, "检查与退档"),
    ]


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.strip().replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("comma-separated positive integers") from None
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError("comma-separated positive integers")
    return sizes


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def _file_mb(path: Path) -> float:
    files = [path, path.with_name(path.name + ".wal")]
    return sum(f.stat().st_size for f in files if f.exists()) / 1e6


def _clean_env() -> dict[str, str]:
    """This process's environment without the variables that would point dangan elsewhere."""
    return {k: v for k, v in os.environ.items() if k not in (config.ENV_DB, config.ENV_TODAY, "DANGAN_PORT")}


# --- stores ---------------------------------------------------------------------------------


def build_store(folder: Path, size: int) -> tuple[Path, float | None]:
    """`folder/demo_<size>.duckdb`, built by `dangan demo` unless it is already there.

    Returns the path and the build's wall-clock seconds (None when an existing store is reused).
    """
    path = folder / f"demo_{size}.duckdb"
    if path.exists():
        _log(f"reusing {path}")
        _ensure_account(path)
        return path, None
    _log(f"building {path} …")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "--db", str(path), "demo", "--graduates", str(size)],
        cwd=ROOT,
        env=_clean_env(),
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"dangan demo --graduates {size} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    _ensure_account(path)
    return path, seconds


def _ensure_account(path: Path) -> None:
    """The admin account the benchmark logs in as (a store kept from before accounts has none)."""
    store = Store(path)
    with store.reading(SYSTEM) as reader:
        found = reader.one("user_by_name", username=BENCH_USER)
    if found is None:
        accounts.add_user(store, SYSTEM, BENCH_USER, "admin", BENCH_PASSWORD, must_change_password=False)


def find_targets(path: Path) -> Targets:
    """The first college, and a student whose registration has a second revision."""
    # through the store: the server-side runs leave this process owning the file
    with Store(path).reading(SYSTEM) as reader:
        college = reader._conn.execute("select min(college_name) from graduates").fetchall()[0]
        student = reader._conn.execute("select min(student_id) from registrations where revision_no = 2").fetchall()[0]
    if not college or college[0] is None or not student or student[0] is None:
        sys.exit(f"{path}: no college, or no registration with revision_no 2")
    return Targets(college=str(college[0]), student=str(student[0]))


# --- server side: AppTest -------------------------------------------------------------------


class Errors:
    """Exceptions seen while measuring, printed after the tables."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def add(self, where: str, text: str) -> None:
        _log(f"ERROR {where}: {text.splitlines()[0] if text else ''}")
        self.seen.append(f"**{where}**\n\n```\n{text.strip()[:4000]}\n```")

    def print(self) -> None:
        if self.seen:
            print(f"\n## Errors ({len(self.seen)})\n")
            print("\n\n".join(self.seen))


def _frame_script(page: Page) -> Path:
    """The script AppTest runs for `page`: app.py for the default page, else a one-line frame
    beside app.py that runs app.py's `main` with `page` as its default.

    AppTest's `switch_page` runs a page file on its own, outside app.py and its one read
    connection per run; the real server always runs app.py, so the frame is what is timed.
    """
    if not page.script:
        return APP
    frame = APP.with_name(f".bench_{Path(page.script).stem}.py")
    if not frame.exists():
        frame.write_text(f"from dashboard.app import main\n\nmain({page.script!r})\n", encoding="utf-8")
    return frame


def remove_frames() -> None:
    for frame in APP.parent.glob(".bench_*.py"):
        frame.unlink()


@contextmanager
def _frames_removed() -> Iterator[None]:
    try:
        yield
    finally:
        remove_frames()


def run_once(page: Page, *, cold: bool, user: str = BENCH_USER) -> tuple[float, str | None]:
    """One script run of `page` in a fresh AppTest, logged in as `user`; (seconds, problem or None)."""
    at = AppTest.from_file(_frame_script(page), default_timeout=RUN_TIMEOUT_S)
    at.session_state["username"] = user  # what a login leaves in the session
    for key, value in page.query.items():
        at.query_params[key] = value
    if cold:
        st.cache_data.clear()
    started = time.perf_counter()
    try:
        at.run()
    except Exception:  # a timeout or a failure inside AppTest itself
        return time.perf_counter() - started, traceback.format_exc()
    seconds = time.perf_counter() - started
    if at.exception:
        return seconds, "\n\n".join(f"{e.message}\n{''.join(e.stack_trace)}" for e in at.exception)
    titles = [t.value for t in at.title]
    if page.title not in titles:
        return seconds, f"expected the title {page.title!r}, the run drew {titles!r}"
    return seconds, None


def median_cell(page: Page, runs: int, *, cold: bool, where: str, errors: Errors, user: str = BENCH_USER) -> str:
    times = []
    for _ in range(runs):
        seconds, problem = run_once(page, cold=cold, user=user)
        if problem:
            errors.add(where, problem)
            return "ERROR"
        times.append(seconds)
    return _ms(statistics.median(times))


def apptest_overhead(runs: int) -> float:
    """AppTest's own cost for one run of a one-line script (a floor under every cell)."""
    times = []
    for _ in range(runs + 1):
        at = AppTest.from_string("import streamlit as st\nst.write('x')", default_timeout=RUN_TIMEOUT_S)
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
    return statistics.median(times[1:])


def measure_server(
    path: Path, page_list: list[Page], runs: int, size: int, errors: Errors, user: str = BENCH_USER
) -> dict[str, tuple[str, str]]:
    """{page label: (cold median ms, warm median ms)} over the store at `path`, as `user`."""
    os.environ[config.ENV_DB] = str(path)
    os.environ.pop(config.ENV_TODAY, None)  # the demo store carries its own as-of date
    cells: dict[str, tuple[str, str]] = {}
    for page in page_list:
        where = f"{page.label} @ {size:,}"
        _log(f"  {where}")
        # One untimed run: imports, the Store object, the OS file cache, and errors show early.
        seconds, problem = run_once(page, cold=True, user=user)
        if problem:
            errors.add(where, problem)
            cells[page.label] = ("ERROR", "ERROR")
            continue
        cold = median_cell(page, runs, cold=True, where=f"{where} cold", errors=errors, user=user)
        run_once(page, cold=False, user=user)  # fill the cache for the warm runs
        warm = median_cell(page, runs, cold=False, where=f"{where} warm", errors=errors, user=user)
        cells[page.label] = (cold, warm)
    return cells


@contextmanager
def _recording(reads: list[float], connects: list[float], queries: dict[str, list[float]]) -> Iterator[None]:
    """While active, time every read of the store (locks, connect, configure, queries, close),
    every duckdb.connect and every named query."""
    original_query = Reader.query
    original_reading = Store.reading
    original_connect = Store._connect

    def connect(self: Store, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original_connect(self, *args, **kwargs)
        finally:
            connects.append(time.perf_counter() - started)

    def query(self: Reader, name: str, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original_query(self, name, *args, **kwargs)
        finally:
            queries[name].append(time.perf_counter() - started)

    @contextmanager
    def reading(self: Store, *args: Any, **kwargs: Any) -> Iterator[Any]:
        started = time.perf_counter()
        try:
            with original_reading(self, *args, **kwargs) as reader:
                yield reader
        finally:
            reads.append(time.perf_counter() - started)

    Reader.query = query  # type: ignore[method-assign]
    Store.reading = reading  # type: ignore[method-assign,assignment]
    Store._connect = connect  # type: ignore[method-assign]
    try:
        yield
    finally:
        Reader.query = original_query  # type: ignore[method-assign]
        Store.reading = original_reading  # type: ignore[method-assign]
        Store._connect = original_connect  # type: ignore[method-assign]


def profile_server(path: Path, page_list: list[Page], size: int) -> list[str]:
    """Markdown lines: where one cold run of each page spends its time."""
    os.environ[config.ENV_DB] = str(path)
    os.environ.pop(config.ENV_TODAY, None)
    lines = [
        f"\n### Cold-run breakdown at {size:,} graduates (one run per page, --profile)\n",
        "| page | run ms | store reads | in reads ms | of which duckdb.connect ms "
        "| of which queries ms | slowest queries (calls × total ms) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for page in page_list:
        reads: list[float] = []
        connects: list[float] = []
        queries: dict[str, list[float]] = defaultdict(list)
        with _recording(reads, connects, queries):
            seconds, problem = run_once(page, cold=True)
        if problem:
            lines.append(f"| {page.label} | ERROR | | | | | |")
            continue
        ranked = sorted(queries.items(), key=lambda item: -sum(item[1]))
        in_queries = sum(sum(times) for times in queries.values())
        top = ", ".join(f"{name} {len(times)}×{_ms(sum(times))}" for name, times in ranked[:4])
        lines.append(
            f"| {page.label} | {_ms(seconds)} | {len(reads)} | {_ms(sum(reads))} | "
            f"{_ms(sum(connects))} | {_ms(in_queries)} | {top} |"
        )
    return lines


# --- first paint: the real server and Chromium ----------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
            return bool(answer.read().strip() == b"ok")
    except (OSError, urllib.error.URLError):
        return False


@contextmanager
def serve(path: Path, log_path: Path) -> Iterator[str]:
    """`dangan serve` over `path` on a free port; yields the base URL; stops its process group."""
    port = _free_port()
    with log_path.open("wb") as log:
        # dangan serve starts streamlit as a child: a session of its own lets us stop both.
        server = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "--db", str(path), "serve", "--port", str(port)],
            cwd=ROOT,
            env=_clean_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not _healthy(port):
            if server.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
                raise RuntimeError(f"dangan serve did not become healthy:\n{tail}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        for sig, grace in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(server.pid, sig)
            except ProcessLookupError:
                break
            try:
                server.wait(grace)
                break
            except subprocess.TimeoutExpired:
                continue


def _url(base: str, page: Page) -> str:
    url = f"{base}/{page.url_path}"
    return f"{url}?{urlencode(page.query)}" if page.query else url


def _log_in(tab: Any) -> float:
    """Fill the login form and click 登录; returns the perf_counter() of the click."""
    tab.get_by_label("用户名（工号；毕业生为学号）").fill(BENCH_USER)
    tab.get_by_label("密码", exact=True).fill(BENCH_PASSWORD)
    clicked = time.perf_counter()
    tab.get_by_role("button", name="登录", exact=True).click()
    return clicked


@dataclass(frozen=True)
class Load:
    seconds: float  # from the click on 登录 until the page is painted
    login_seconds: float  # from the start of page.goto until the login form is painted
    script_started: float | None  # browser clock (ms since navigation) when the script run began
    problem: str | None


def _load(browser: Any, url: str, title: str) -> Load:
    """One load of `url` in a fresh browser context."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
    try:
        tab = context.new_page()
        tab.add_init_script(RUNNING_SINCE)
        started = time.perf_counter()
        login_seconds = 0.0
        try:
            tab.goto(url, wait_until="commit", timeout=LOAD_TIMEOUT_MS)
            tab.wait_for_function(PAINTED, arg=LOGIN_TITLE, polling="raf", timeout=LOAD_TIMEOUT_MS)
            login_seconds = time.perf_counter() - started
            script_started = tab.evaluate("() => window.__danganRunning ?? null")
            started = _log_in(tab)
            tab.wait_for_function(PAINTED, arg=title, polling="raf", timeout=LOAD_TIMEOUT_MS)
        except Exception as exc:
            state = (
                tab.locator(APP_ROOT).first.get_attribute(SCRIPT_STATE, timeout=1000)
                if tab.locator(APP_ROOT).count()
                else "(no stApp element)"
            )
            return Load(
                time.perf_counter() - started,
                login_seconds,
                None,
                f"{type(exc).__name__}: {exc}\n{SCRIPT_STATE}={state!r}",
            )
        seconds = time.perf_counter() - started
        shown = tab.locator(EXCEPTIONS)
        return Load(seconds, login_seconds, script_started, shown.first.inner_text() if shown.count() else None)
    finally:
        context.close()


def measure_paint(path: Path, page_list: list[Page], size: int, errors: Errors) -> list[str]:
    """Markdown lines of the first-paint table (or why it was skipped)."""
    heading = (
        f"\n## First paint in Chromium at {size:,} graduates "
        f"(ms from page.goto until the script has finished and the h1 is visible)\n"
    )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return [
            heading,
            "skipped: playwright is not installed "
            "(`.venv/bin/pip install playwright==1.65.2`; never `playwright install`)",
        ]
    if not os.access(CHROMIUM, os.X_OK):
        return [heading, f"skipped: {CHROMIUM} is missing (`apt-get install -y chromium fonts-noto-cjk`)"]

    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="dangan-bench-pages-") as tmp,
        serve(path, Path(tmp) / "serve.log") as base,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            # The server's very first loads import plotly & co. and fill the cache: not in the
            # table, but the first one is reported below it.
            very_first = _load(browser, _url(base, page_list[0]), page_list[0].title)
            if very_first.problem:
                errors.add(f"first paint {page_list[0].label} (server's first load)", very_first.problem)
            for page in page_list[1:]:
                _load(browser, _url(base, page), page.title)
            attribute = _check_dom(browser, base, page_list[0])
            for page in page_list:
                where = f"first paint {page.label} @ {size:,}"
                _log(f"  {where}")
                _forget_caches(path)  # a new cache key: every query of the next load misses
                first = _load(browser, _url(base, page), page.title)
                loads = (
                    [] if first.problem else [_load(browser, _url(base, page), page.title) for _ in range(PAINT_LOADS)]
                )
                problems = [load.problem for load in [first, *loads] if load.problem]
                if problems:
                    errors.add(where, problems[0])
                    rows.append(f"| {page.label} | ERROR | ERROR | | |")
                    continue
                times = [load.seconds for load in loads]
                starts = [load.script_started for load in loads if load.script_started is not None]
                began = f"{statistics.median(starts):,.0f}" if starts else "?"
                login = statistics.median(load.login_seconds for load in loads)
                rows.append(
                    f"| {page.label} | {_ms(login)} | {_ms(first.seconds)} | {_ms(statistics.median(times))} | "
                    f"{_ms(min(times))}–{_ms(max(times))} | {began} |"
                )
        finally:
            browser.close()
    return [
        heading,
        f"| page | login form painted ms (median) | after 登录: first load ms (cold cache) "
        f"| median of {PAINT_LOADS} ms (warm cache) | range ms | script run began at ms (median) |",
        "|---|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "Every load is a fresh browser context, so a fresh session: the link opens the login form, "
        "the benchmark logs in, and the page's time runs from the click on 登录 until its h1 is painted "
        "(the password check, about 50 ms of scrypt, is inside it). "
        "first load: right after the bench borrowed the store from the server, so every query misses the "
        "server's cache (as after an import); the server had served each page once before. "
        "\"script run began\": the browser's clock (ms since navigation) when stApp's script state "
        "became running, i.e. the frontend's boot and websocket before the server starts the script. "
        f"The server's very first load after start (总览: imports, cold cache): "
        f"{_ms(very_first.seconds)} ms. Script state in the live DOM after a run: {attribute}.",
    ]


def _check_dom(browser: Any, base: str, page: Page) -> str:
    """The script-state attribute as the live app shows it after a finished run."""
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.goto(_url(base, page))
        tab.wait_for_function(PAINTED, arg=LOGIN_TITLE, polling="raf", timeout=LOAD_TIMEOUT_MS)
        _log_in(tab)
        tab.wait_for_function(PAINTED, arg=page.title, polling="raf", timeout=LOAD_TIMEOUT_MS)
        value = tab.locator(APP_ROOT).first.get_attribute(SCRIPT_STATE)
        return f'{APP_ROOT} {SCRIPT_STATE}="{value}"'
    finally:
        context.close()


def _forget_caches(path: Path) -> None:
    """Borrow the store from the server that owns it for one read (pipelines/store.py): when it
    takes the file back, the server forgets every cached result, as after a write it cannot
    see into."""
    from pipelines.store import SYSTEM, Store

    with Store(path).reading(SYSTEM) as reader:
        reader._conn.execute("select 1").fetchall()


# --- tables ---------------------------------------------------------------------------------


def server_table(
    page_list: list[Page], sizes: list[int], cells: dict[int, dict[str, tuple[str, str]]], runs: int
) -> list[str]:
    header = "| page | " + " | ".join(f"{s:,} cold ms | {s:,} warm ms" for s in sizes) + " |"
    lines = [
        f"\n## Server-side script run per page (AppTest, median of {runs} runs)\n",
        header,
        "|---|" + "---:|---:|" * len(sizes),
    ]
    for page in page_list:
        row = []
        for size in sizes:
            cold, warm = cells.get(size, {}).get(page.label, ("—", "—"))
            row += [cold, warm]
        lines.append(f"| {page.label} | " + " | ".join(row) + " |")
    return lines


@contextmanager
def _folder(keep: Path | None) -> Iterator[Path]:
    """`keep` (created if need be), else a temporary folder deleted afterwards."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="dangan-bench-pages-") as tmp:
        yield Path(tmp)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=_sizes("5000,100000,1000000"),
        help="numbers of graduates, comma-separated (default 5000,100000,1000000)",
    )
    parser.add_argument(
        "--overview-sizes",
        type=_sizes,
        default=[],
        help="extra sizes at which only 总览 is timed, e.g. 12000000 (default none)",
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per cell (default 5)")
    parser.add_argument(
        "--first-paint-size",
        type=int,
        default=100000,
        help="size for the browser measurement, 0 to skip (default 100000)",
    )
    parser.add_argument(
        "--keep", type=Path, help="build stores here and keep them; an existing DIR/demo_<N>.duckdb is reused"
    )
    parser.add_argument("--profile", action="store_true", help="also break one cold run of each page down by query")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    # AppTest outside a server warns on every run ("missing ScriptRunContext"); AppTest re-applies
    # the logger.level option while running, so set the option as well as the level.
    st_config.set_option("logger.level", "error")
    st_logger.set_log_level("error")
    errors = Errors()
    all_sizes = sorted(set(args.sizes) | set(args.overview_sizes))
    overview_only = set(args.overview_sizes) - set(args.sizes)
    paint_size = args.first_paint_size
    build_sizes = sorted(set(all_sizes) | ({paint_size} if paint_size else set()))

    builds: list[str] = []
    cells: dict[int, dict[str, tuple[str, str]]] = {}
    profiles: list[str] = []
    paint: list[str] = []
    used: list[str] = []
    with _folder(args.keep) as folder, _frames_removed():
        stores: dict[int, Path] = {}
        for size in build_sizes:
            path, seconds = build_store(folder, size)
            stores[size] = path
            took = "reused" if seconds is None else f"{seconds:.1f}"
            builds.append(f"| {size:,} | {took} | {_file_mb(path):,.1f} |")
        overhead = apptest_overhead(args.runs)
        for size in all_sizes:
            targets = find_targets(stores[size])
            page_list = pages(targets)
            if size in overview_only:
                page_list = page_list[:1]
            used.append(f"{size:,}: college {targets.college}, student {targets.student}")
            _log(f"server side at {size:,} graduates")
            cells[size] = measure_server(stores[size], page_list, args.runs, size, errors)
            if args.profile:
                profiles += profile_server(stores[size], page_list, size)
        if paint_size:
            _log(f"first paint at {paint_size:,} graduates")
            targets = find_targets(stores[paint_size])
            store_module.disown_all()  # the dashboard server started for the paint owns the file
            paint = measure_paint(stores[paint_size], pages(targets), paint_size, errors)

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"# Dashboard page speed\n\n{platform.node()} · {os.cpu_count()} CPUs · load average {load} "
        f"(at the end) · Python {platform.python_version()} · streamlit {st.__version__} · "
        f"duckdb {duckdb.__version__}"
    )
    print("\n## Store build (`dangan demo --graduates N`)\n")
    print("| graduates | build s | file MB |")
    print("|---:|---:|---:|")
    print("\n".join(builds))
    print("\n".join(server_table(pages(Targets("", "")), all_sizes, cells, args.runs)))
    print(
        f"\ncold: st.cache_data cleared before each run (every query hits DuckDB); warm: cache kept. "
        f"AppTest's own overhead (one-line script): {_ms(overhead)} ms. "
        f"Pages opened with: {'; '.join(used)}."
    )
    if profiles:
        print("\n".join(profiles))
    if paint:
        print("\n".join(paint))
    print(f"\n{TARGETS}")
    from bench import yardstick

    print(yardstick.line())
    errors.print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
