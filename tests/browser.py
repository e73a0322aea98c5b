"""Helpers for driving the real dashboard in Debian's headless Chromium (tests marked `browser`).

With the fixtures of tests/test_browser.py (`demo_url`: one server over a 2,000-graduate demo
store; `page`: a fresh browser page), a per-page test is a few lines:

    def test_college_page(page: Page, demo_url: str) -> None:
        open_page(page, demo_url, "college", {"college": "服装设计学院"})
        assert_no_exception(page)
        expect(page.get_by_role("heading", name="服装设计学院", level=1)).to_be_visible()
        settle_after(page, lambda: page.get_by_role("link", name="登记详情").first.click())
        screenshot(page, "college")

Outside those fixtures: `with serve_dashboard(db) as base_url, sync_playwright() as pw:` then
`page = new_page(launch_browser(pw))`.

`open_page` returns only once Streamlit has finished running the script and nothing on the page
is still loading, so assertions right after it see the finished page; `settle_after` does the
same for an interaction that reruns the script. Nothing here sleeps for a fixed time: every wait
is for a condition.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

from playwright.sync_api import Browser, Locator, Page, Playwright, ViewportSize, expect

from pipelines.demo import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
TODAY = "2024-06-10"

# Debian's chromium (apt-get install chromium); playwright cannot download its own build here.
CHROMIUM = "/usr/bin/chromium"
# Without the networking flags Chromium's background services try to reach Google and log errors.
CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT: ViewportSize = {"width": 1440, "height": 900}

SERVER_START_TIMEOUT = 90.0  # seconds: the first start imports streamlit, polars, duckdb, plotly
SETTLE_TIMEOUT_MS = 60_000  # a script run over a 5,000-graduate store takes a few seconds

# DOM hooks of Streamlit 1.67's frontend (checked in its bundled JS and a running app):
#   stApp carries data-test-script-state (initial | running | notRunning | rerunRequested |
#   stopRequested | compilationError) and data-test-connection-state (CONNECTED | ...).
SETTLED = '[data-testid="stApp"][data-test-script-state="notRunning"][data-test-connection-state="CONNECTED"]'
# Placeholders that are still waiting for content.
LOADING = '[data-testid="stSpinner"], [data-testid="stSkeleton"], [data-testid="stAppSkeleton"]'
# An uncaught exception (or st.exception) and st.error boxes.
PROBLEMS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
# Plotly draws after the script run has finished; a chart is done once it has its SVG.
CHARTS_DRAWN = """() => Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]'))
    .every(chart => chart.querySelector('.main-svg') !== null)"""
TWO_FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))"


# --- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
            return bool(answer.read() == b"ok")
    except (OSError, urllib.error.URLError):
        return False


def _tail(path: Path, chars: int = 4000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-chars:]
    except OSError:
        return ""


@contextmanager
def serve_dashboard(db_path: str | os.PathLike[str], today: str = TODAY) -> Iterator[str]:
    """Run `dangan serve` on a free port over `db_path`; yields the base URL (no trailing slash)."""
    with dashboard_process(db_path, today) as (base_url, _):
        yield base_url


@contextmanager
def dashboard_process(
    db_path: str | os.PathLike[str], today: str = TODAY, extra_env: Mapping[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run `dangan serve` on a free port over `db_path` (with `extra_env` added to this process's
    environment); yields the base URL (no trailing slash) and the server process (`dangan serve`
    becomes streamlit by exec, so its pid is the server's: bench/bench_load.py reads its CPU time).

    The server's output goes to `<db>.serve-<port>.log` beside the store (quoted if it fails to
    start). The server gets a session of its own and the whole process group is stopped
    afterwards, so nothing it started can outlive it, holding the port and the store.
    """
    port = free_port()
    log_path = Path(db_path).with_name(f"{Path(db_path).name}.serve-{port}.log")
    env = {k: v for k, v in os.environ.items() if k not in ("DANGAN_DB", "DANGAN_TODAY", "DANGAN_PORT")}
    # Users see no tracebacks (client.showErrorDetails = none); the tests must see exceptions.
    env["STREAMLIT_CLIENT_SHOW_ERROR_DETAILS"] = "full"
    env.update(extra_env or {})
    command = [
        sys.executable,
        "-m",
        "pipelines.cli",
        "--db",
        str(db_path),
        "--today",
        today,
        "serve",
        "--port",
        str(port),
    ]
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    LIVE_SERVERS[server.pid] = log_path
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not _healthy(port):
            if server.poll() is not None:
                raise AssertionError(f"dangan serve exited with {server.returncode}:\n{_tail(log_path)}")
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"dangan serve was not healthy after {SERVER_START_TIMEOUT:.0f} s:\n{_tail(log_path)}"
                )
            time.sleep(0.1)  # poll interval, not a wait for readiness
        yield f"http://127.0.0.1:{port}", server
    finally:
        LIVE_SERVERS.pop(server.pid, None)
        _stop(server)


# The dashboards this test process runs: pid → log file.
LIVE_SERVERS: dict[int, Path] = {}


def thread_dumps() -> str:
    """Every live server's thread stacks (`dangan serve` writes them on SIGUSR1) and the end of
    its log: attached to a failed browser test's report, to show what a stuck server waited for."""
    parts = []
    for pid in list(LIVE_SERVERS):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGUSR1)
    time.sleep(1.0)  # the dump is written by the server's own signal handler
    for pid, log_path in list(LIVE_SERVERS.items()):
        parts.append(f"--- dashboard {pid}, {log_path} ---\n{_tail(log_path, 12000)}")
    return "\n".join(parts)


def _live_members(pgid: int) -> list[int]:
    """Processes of the group that are still running (zombies waiting to be reaped do not count)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Stop the server's whole process group: politely, then for good."""
    for sig, grace in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + grace
        while True:
            server.poll()  # reap the leader
            if not _live_members(server.pid) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if not _live_members(server.pid):
            break
    server.wait(5)


def build_demo(folder: Path, graduates: int) -> Path:
    """A demo store built by the real command (`dangan demo`) in `folder`."""
    path = folder / "dangan.duckdb"
    run = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "--db", str(path), "demo", "--graduates", str(graduates)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    return path


# --- the browser ----------------------------------------------------------------------------


@contextmanager
def chromium() -> Iterator[Browser]:
    """One headless Chromium for a test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        yield browser
        browser.close()


@contextmanager
def fresh_page(browser: Browser) -> Iterator[Page]:
    """A page in a context of its own, closed afterwards."""
    page = new_page(browser)
    try:
        yield page
    finally:
        page.context.close()


def launch_browser(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless, with its background networking off."""
    if not os.access(CHROMIUM, os.X_OK):
        raise AssertionError(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does this)")
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def new_page(browser: Browser) -> Page:
    """A page in a fresh context (no shared cookies or storage), as a user in China would see it."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(SETTLE_TIMEOUT_MS)
    context.add_init_script(WATCH_RUNS)
    return context.new_page()


# How the page's last script run ended, read in the page just before the app handles each
# websocket message: a run that calls st.rerun() (a login, a decision) ends "early for rerun"
# (ForwardMsg field 6, script_finished = 2), and the server reports the app not running until
# the next run starts. On a busy machine that gap is long enough for the page to look settled
# half-way (CI failures: a filter typed into the login run's last frame, a click on a button
# the next run replaced). Settled means the last run ended for good. The message's top-level
# protobuf fields are walked: varints read, length-delimited and fixed fields skipped.
WATCH_RUNS = """(() => {
    window.__danganFinishes = 0;
    const finished = data => {
        const b = new Uint8Array(data); let i = 0;
        const varint = () => { let v = 0, m = 1, x; do { x = b[i++]; v += (x & 127) * m; m *= 128; } while (x & 128); return v; };
        while (i < b.length) {
            const tag = varint(), field = Math.floor(tag / 8), kind = tag % 8;
            if (kind === 0) { const v = varint(); if (field === 6) return v; }
            else if (kind === 2) { const n = varint(); i += n; }
            else if (kind === 1) { i += 8; } else if (kind === 5) { i += 4; } else { return null; }
        }
        return null;
    };
    const add = WebSocket.prototype.addEventListener;
    WebSocket.prototype.addEventListener = function (type, listener, options) {
        if (type === "message" && typeof listener === "function") {
            const inner = listener;
            listener = function (event) {
                if (event.data instanceof ArrayBuffer) {
                    const status = finished(event.data);
                    if (status !== null) { window.__danganLastFinish = status; window.__danganFinishes += 1; }
                }
                return inner.call(this, event);
            };
        }
        return add.call(this, type, listener, options);
    };
})()"""
RUN_ENDED_FOR_GOOD = "() => window.__danganLastFinish !== 2"


def page_url(base_url: str, path: str = "", query: Mapping[str, object] | None = None) -> str:
    """`base_url/path?query` for a page's url_path ("" is the default page)."""
    url = f"{base_url.rstrip('/')}/{path.strip('/')}"
    return f"{url}?{urlencode({k: str(v) for k, v in query.items()})}" if query else url


def open_page(
    page: Page, base_url: str, path: str = "", query: Mapping[str, object] | None = None, user: str | None = "admin"
) -> Page:
    """Load a dashboard page, log in as the demo account `user` through the login form if the
    page asks for it (a fresh load is a fresh session), and wait until it has settled."""
    page.goto(page_url(base_url, path, query))
    wait_settled(page)
    if user is not None and page.get_by_role("heading", name=LOGIN_HEADING).count():
        log_in(page, user)
    return page


LOGIN_HEADING = "登录 · 档案登记看板"


def log_in(page: Page, user: str, password: str = DEMO_PASSWORD, *, refused: bool = False) -> None:
    """Fill the login form and wait for the page it opens (or, `refused`, for the error).

    A successful login is two script runs (the form's, which calls st.rerun, then the page's):
    wait until the login heading is gone and the page's own run has settled too."""
    page.get_by_label("用户名（工号；毕业生为学号）").fill(user)
    page.get_by_label("密码", exact=True).fill(password)
    settle_after(page, lambda: page.get_by_role("button", name="登录", exact=True).click())
    if refused:
        expect(page.get_by_test_id("stAlertContentError")).to_be_visible()
        return
    expect(page.get_by_role("heading", name=LOGIN_HEADING, level=1)).to_have_count(0, timeout=SETTLE_TIMEOUT_MS)
    wait_settled(page)


def wait_settled(page: Page, timeout_ms: float = SETTLE_TIMEOUT_MS) -> None:
    """Wait until the script run has finished, nothing is loading and charts and fonts are drawn.

    Like Streamlit's own e2e tests, this waits for stApp's data-test-script-state to be
    `notRunning`. Right after `page.goto` the attribute is `initial` until the session's first run
    starts, so this cannot return early on a fresh load. After a widget interaction the state is
    still `notRunning` until the rerun starts: use `settle_after` for interactions.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    page.locator(SETTLED).wait_for(state="attached", timeout=timeout_ms)
    while not page.evaluate(RUN_ENDED_FOR_GOOD):  # the gap between a run that called st.rerun() and the next
        if time.monotonic() > deadline:
            raise AssertionError(f"the run after st.rerun() did not finish within {timeout_ms / 1000:.0f} s")
        page.wait_for_function(RUN_ENDED_FOR_GOOD, timeout=timeout_ms)
        page.locator(SETTLED).wait_for(state="attached", timeout=timeout_ms)
    expect(page.locator(LOADING)).to_have_count(0, timeout=timeout_ms)
    page.wait_for_function(CHARTS_DRAWN, timeout=timeout_ms)
    page.evaluate("() => document.fonts.ready.then(() => true)")
    page.evaluate(TWO_FRAMES)


def settle_after(page: Page, action: Callable[[], object], timeout_ms: float = SETTLE_TIMEOUT_MS) -> None:
    """Do `action` (a click, a fill, a page link) and wait until the rerun it causes has settled.

    The page is first let settle, so the action never lands on a run still going (CI failure: a
    click while the page's first run was finishing; that run's end passed for the click's own).
    Then this waits for a run to finish after the action, and for the chain it starts to end for
    good (not early for st.rerun()).
    """
    wait_settled(page, timeout_ms)
    before = page.evaluate("() => window.__danganFinishes")
    action()
    page.wait_for_function("before => window.__danganFinishes > before", arg=before, timeout=timeout_ms)
    wait_settled(page, timeout_ms)


# --- tables and select boxes ---------------------------------------------------------------

# st.dataframe draws on a canvas: rows are 35 px high under a 35 px header, and a selectable
# table's tick box sits in its first 30 px.
ROW_HEIGHT = 35


def grid(page: Page, index: int = 0) -> Locator:
    """The `index`-th table on screen (tables in hidden tabs do not count)."""
    return page.locator('[data-testid="stDataFrame"]:visible').nth(index)


def grid_rows(table: Locator) -> list[list[str]]:
    """The cells of the rows the grid has in its accessible DOM (the visible ones), header first."""
    lines = table.locator("table tr")
    table.scroll_into_view_if_needed()
    expect(lines.nth(1)).to_be_attached()  # the grid fills its accessible rows after it has drawn
    return [[cell.strip() for cell in lines.nth(i).locator("th, td").all_inner_texts()] for i in range(lines.count())]


def tick(page: Page, table: Locator, row: int) -> None:
    """Click row `row` (0 = first data row) of a selectable grid, and wait for the rerun."""
    settle_after(page, lambda: table.click(position={"x": 15, "y": ROW_HEIGHT * (row + 1) + 17}))


def choose(page: Page, label: str, option: str) -> None:
    """Pick `option` in the selectbox labelled `label` (nothing to do when it is already chosen:
    choosing it again would not rerun the script)."""
    box = page.get_by_label(label, exact=True)
    if box.input_value() == option:
        return
    box.click()
    settle_after(page, lambda: page.get_by_role("option", name=option, exact=True).click())


# --- assertions and artifacts --------------------------------------------------------------


def problems(page: Page) -> list[str]:
    """The text of every visible exception and st.error box (an exception drawn inside an error
    box counts once)."""
    found = page.evaluate(
        """selector => Array.from(document.querySelectorAll(selector))
        .filter(box => !box.parentElement.closest(selector) && box.checkVisibility())
        .map(box => box.innerText.trim())""",
        PROBLEMS,
    )
    return [str(text) for text in found]


def assert_no_exception(page: Page) -> None:
    found = problems(page)
    assert not found, f"{page.url} shows {len(found)} exception/error box(es):\n\n" + "\n\n---\n\n".join(
        text[:3000] for text in found
    )


def metric_label(page: Page, label: str) -> Locator:
    """The st.metric label whose whole text is `label`."""
    return page.get_by_test_id("stMetricLabel").filter(has_text=re.compile(rf"^\s*{re.escape(label)}\s*$"))


def screenshot(page: Page, name: str) -> Path:
    """A PNG of the whole page in test-artifacts/screenshots/<name>.png.

    Streamlit scrolls inside the app, not the document, so a plain full-page screenshot would stop
    at the viewport: the viewport is stretched to the content's height for the shot.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    viewport = page.viewport_size or VIEWPORT
    height = int(
        page.evaluate("""() => Math.max(document.documentElement.scrollHeight,
        ...Array.from(document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"], [data-testid="stSidebarContent"]'))
            .map(e => e.scrollHeight))""")
    )
    if height > viewport["height"]:
        page.set_viewport_size({"width": viewport["width"], "height": min(height, 16_000)})
        page.evaluate(TWO_FRAMES)
    try:
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(viewport)
    return path
