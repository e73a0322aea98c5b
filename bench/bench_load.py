"""Load: N dashboard sessions at once, in a deadline-week mix, through Streamlit's own websocket.

    .venv/bin/python bench/bench_load.py [--graduates 5000] [--sessions 1,5,10,20,50] [--duration 45]
        [--runs 1] [--think 2.0] [--graduate-rate 1.0] [--graduate-think 1.0] [--keep DIR]
    .venv/bin/python bench/bench_load.py --check-chromium [--sessions 1,5] [--rounds 3] [--think 1.0]

Each session is what a browser tab is to the server, and costs this process little: one websocket
to `ws://127.0.0.1:<port>/_stcore/stream` (subprotocol "streamlit"), speaking the protobufs that
ship inside the streamlit package, as Streamlit's frontend does:

* The client sends `BackMsg.rerun_script`, a `ClientState`: the first one of a session names the
  page by `page_name` (the url path, "" for the default page); later ones by `page_script_hash`,
  taken from the `navigation` message's `app_pages` (url_pathname -> hash), which is what a click
  in the sidebar sends. `query_string` is the address's query: the one the server last sent in
  `page_info_changed` (the dashboard keeps page state in the address), "" on a page change, or a
  link's (`item=<登记编号>` opens a review). `widget_states` carries the values the user has set
  (text inputs, select boxes and radios are `string_value`, a select box's being the option's label)
  plus `trigger_value` for the button clicked; a form's fields travel with its submit button's
  trigger, as the frontend holds them until then. `context_info` says zh-CN, Asia/Shanghai.
* The server answers with `ForwardMsg`s: `new_session` (the run's page hash), `navigation`,
  `page_info_changed`, `delta`s (`new_element` / `add_block`; a widget's element carries its `id`,
  `label` and `form_id`, which is how widgets are addressed: no id is computed here) and finally
  `script_finished`. A run that calls `st.rerun()` (a login, a decision, a submission) ends with
  FINISHED_EARLY_FOR_RERUN and a second run follows: a page view lasts from sending `rerun_script`
  to the `script_finished` that is not "early for rerun". After each run the values of widgets
  that are no longer on the page are dropped, as the frontend drops them. Like the frontend, a
  session keeps the large elements the server marked cacheable and sends their hashes
  (`cached_message_hashes`); the server then sends a `ref_hash` instead of an element the client
  already has, and the session reads it from its cache (kept as long as the frontend keeps it).
* A view is an error if it holds an `exception` element, an error `alert` (st.error) where none
  is expected, the dashboard's "页面出错了" message (dashboard/display.py run_guarded), a compile
  error, `page_not_found`, a lost connection, or no finish within VIEW_TIMEOUT_S. A write (login,
  decision, submission) is an error unless the page then shows what success shows: the page
  behind the login form, the decision's or the submission's Chinese confirmation.

The load at N (`--sessions`): N staff sessions cycling through the roles ROLES (school and college
reviewers decide on 待审核, the office and an analyst read 总览, 截止风险 and 待审核), each
logging in first, with a think time of `--think` s (uniformly 0.5-1.5x) before every action; and
graduates arriving at `--graduate-rate` per second, each in a session of their own: log in (by
学号), open 档案信息登记, fill it as a person does (one rerun per field: a select box reruns at once,
a text field when it loses focus; `--graduate-think` s between them), submit, leave. Reviewers take
registrations from the queues read from the store before the server starts (each item goes to one
session, so decisions never collide; a college approval puts the item on the school queue). Every
session comes from its own address: the server trusts the loopback peer as a proxy
(DANGAN_TRUSTED_PROXIES, see server_env) and each session sends X-Forwarded-For 127.77.x.y, so the per-address
login limits treat them as the different people they stand for. All traffic stays on loopback.

A run: a fresh copy of the demo store (built with `dangan demo`, with accounts added for the
harness), the real server (`dangan serve --today 2024-06-10`), the levels one after another for
`--duration` s each, then the server stopped and the store read back: every decision and
submission the harness saw succeed must be in `reviews` / `registrations` and `audit_log` once
("lost" if missing, "doubled" if there twice). Server CPU is utime+stime of the server process and
its children from /proc/<pid>/stat over the level, divided by the page views (every script run
the harness asked for); RSS is the peak of VmRSS sampled every 0.5 s. The yardstick
(bench/yardstick.py) is timed before each level, with the server idle. With `--runs` > 1 each
figure is the median over the runs.

`--check-chromium` drives the same staff pages (login, then 总览, 截止风险, 待审核 via the sidebar)
with this harness and with Debian's headless Chromium (Playwright; as tests/browser.py launches
it) at N = 1 and 5 sessions, and prints per page: the harness's time, the time between the
rerun_script frame Chromium sent and the script_finished it received (its own websocket), and
the time from the click until the page has settled (tests/browser.py's condition).

Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from streamlit import config as st_config
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.yardstick import yardstick_ms  # noqa: E402
from pipelines import accounts, reviews  # noqa: E402
from pipelines.demo import DEMO_PASSWORD  # noqa: E402
from pipelines.rules import workflow  # noqa: E402
from pipelines.store import SYSTEM, Store  # noqa: E402
from tests.browser import (  # noqa: E402
    CHARTS_DRAWN,
    CHROMIUM,
    CHROMIUM_ARGS,
    LOADING,
    SETTLED,
    TODAY,
    TWO_FRAMES,
    VIEWPORT,
    build_demo,
    dashboard_process,
)

VIEW_TIMEOUT_S = 180.0  # longer than the store's lock wait (DANGAN_LOCK_WAIT, 120 s): a busy store shows as its error
CACHED_MESSAGE_AGE = int(st_config.get_option("global.maxCachedMessageAge"))  # the frontend's cache keeps as long
LEVEL_GRACE_S = 300.0  # after a level's duration, how long its last flows may take to finish
LOGIN_HEADING = "登录 · 档案登记看板"
USER_LABEL, PASSWORD_LABEL, LOGIN_BUTTON = "用户名（工号；毕业生为学号）", "密码", "登录"
PAGE_FAILED = "页面出错了"  # dashboard/display.py PAGE_FAILED
STAFF_HOME = "总览"  # the heading a staff login lands on (app.py: the default page)
GRADUATE_HOME = "我的登记"

# (label, url path, heading): the staff pages of the mix, as dashboard/app.py ENTRIES has them.
OVERVIEW, RISK, REVIEW = ("总览", "", "总览"), ("截止风险", "risk", "截止风险"), ("待审核", "review", "待审核")
REGISTER_PATH = "register"  # 档案信息登记

# The staff sessions, in the order they are added as N grows: (account kind, what it does).
ROLES = ["school", "college", "office", "college", "analyst"]
COLLEGE_REVIEWER_PREFIX = "benchdean"  # one college reviewer account per college (plus the demo's dean)

# A graduate's registration as typed into the form (the origin type needs no proof images).
# (label, value, how it is entered): "choose" a select box option (by its label), "type" a text.
REGISTRATION_FIELDS = [
    ("档案转递类型", "转回生源地", "choose"),
    ("档案转递单位地址：省", "江西省", "choose"),
    ("市", "南昌市", "choose"),
    ("区 / 县", "东湖区", "choose"),
    ("档案转递单位名称", "南昌市人才服务中心", "type"),
    ("详细地址", "八一大道 100 号 3 栋 301 室", "type"),
    ("档案转递单位邮编", "330000", "type"),
    ("档案转递联系人/联系部门", "档案室", "type"),
    ("档案转递联系电话", "0791-86123456", "type"),
    ("情况说明（必填，200 字以内）", "毕业后回生源地，档案转回南昌市人才服务中心。", "type"),
]
SUBMITTED = "已提交，等待学院审核"  # the flash after a submission (registration_form.py)
RETURN_SHARE = 0.2  # of decisions


# --- the protocol -------------------------------------------------------------------------------


@dataclass
class Widget:
    id: str
    kind: str  # the element's type: text_input, selectbox, button ...
    label: str
    form_id: str
    disabled: bool
    options: list[str]


@dataclass
class View:
    """What one page view (a rerun_script and the runs it caused) brought back."""

    ms: float
    status: str  # "ok", or why the view did not finish properly
    headings: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # headings, markdown, captions, alerts
    alerts: list[tuple[int, str]] = field(default_factory=list)  # (Alert.Format, body)
    exceptions: list[str] = field(default_factory=list)  # of every run, not only the last
    widgets: list[Widget] = field(default_factory=list)
    runs: int = 0

    def widget(self, label: str, kind: str | None = None) -> Widget:
        for w in self.widgets:
            if w.label == label and (kind is None or w.kind == kind):
                return w
        raise LookupError(f"no widget “{label}” on the page (headings: {self.headings[:3]})")

    def shows(self, text: str) -> bool:
        return any(text in t for t in self.texts)

    def success(self, text: str) -> bool:
        return any(fmt == Alert.SUCCESS and text in body for fmt, body in self.alerts)

    def problems(self, *, error_alerts_expected: bool = False) -> list[str]:
        found = [] if self.status == "ok" else [self.status]
        found += [f"exception: {e}" for e in self.exceptions]
        for fmt, body in self.alerts:
            if PAGE_FAILED in body or (fmt == Alert.ERROR and not error_alerts_expected):
                found.append(f"error alert: {body}")
        return found


class Session:
    """One browser tab's worth of the protocol: a websocket, the page it is on, its widget values."""

    def __init__(self, base_url: str, client_ip: str):
        self.base_url = base_url
        self.ws_url = base_url.replace("http://", "ws://", 1) + "/_stcore/stream"
        self.client_ip = client_ip
        self.ws: ClientConnection | None = None
        self.path = ""
        self.page_hash = ""  # the page of the last run (new_session)
        self.query = ""  # the address's query, as the server last set it (page_info_changed)
        self.pages: dict[str, str] = {}  # url path -> page_script_hash (navigation)
        self.values: dict[str, WidgetState] = {}  # widget id -> the value the user set
        # hash -> (cacheable message, the script run it was last used in), kept as the frontend's
        # ForwardMsgCache keeps them: dropped when unused for more than CACHED_MESSAGE_AGE runs
        self.cache: dict[str, tuple[ForwardMsg, int]] = {}
        self.script_runs = 0
        self.last = View(0.0, "not loaded")
        self.broken = False  # a view timed out or the connection closed: this tab is done

    async def connect(self) -> None:
        self.ws = await connect(
            self.ws_url,
            subprotocols=[Subprotocol("streamlit")],
            additional_headers={"X-Forwarded-For": self.client_ip},
            proxy=None,
            max_size=None,
            max_queue=None,
            open_timeout=VIEW_TIMEOUT_S,
            ping_interval=None,
        )

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()

    async def load(self, path: str = "", query: str = "") -> View:
        """The session's first run, as a fresh tab on `/path?query` asks for it."""
        self.path = path
        return await self._run(ClientState(query_string=query, page_name=path))

    async def open(self, path: str, query: str = "") -> View:
        """Go to another page (a sidebar click, or a link with `query`)."""
        if path not in self.pages:
            return View(0.0, f"page /{path} is not in this session's navigation")
        self.path = path
        self.values.clear()  # a page change keeps no values of this page's widgets
        return await self._run(ClientState(query_string=query, page_script_hash=self.pages[path]))

    async def rerun(self, *, click: Widget | None = None) -> View:
        """Rerun the current page with the widget values set (and `click`'s trigger)."""
        state = ClientState(query_string=self.query, page_script_hash=self.page_hash)
        if click is not None:
            state.widget_states.widgets.add(id=click.id, trigger_value=True)
        return await self._run(state)

    def set(self, widget: Widget, value: str) -> None:
        """Type into a text input or area, or choose a select box / radio option (its label)."""
        self.values[widget.id] = WidgetState(id=widget.id, string_value=value)

    async def _run(self, state: ClientState) -> View:
        assert self.ws is not None, "connect first"
        known = {w.id for w in state.widget_states.widgets}
        state.widget_states.widgets.extend(v for k, v in self.values.items() if k not in known)
        state.cached_message_hashes.extend(self.cache)
        info = state.context_info
        info.timezone, info.timezone_offset, info.locale = "Asia/Shanghai", -480, "zh-CN"
        info.url, info.is_embedded, info.color_scheme = f"{self.base_url}/{self.path}", False, "light"
        message = BackMsg()
        message.rerun_script.CopyFrom(state)
        started = time.perf_counter()
        try:
            await self.ws.send(message.SerializeToString())
            view = await asyncio.wait_for(self._receive(started), VIEW_TIMEOUT_S)
        except TimeoutError:
            view = View((time.perf_counter() - started) * 1000, f"no script_finished within {VIEW_TIMEOUT_S:.0f} s")
        except ConnectionClosed as exc:
            view = View((time.perf_counter() - started) * 1000, f"connection closed: {exc}")
        self.broken = self.broken or view.status.startswith(("no script_finished", "connection closed"))
        present = {w.id for w in view.widgets}
        self.values = {k: v for k, v in self.values.items() if k in present}
        self.last = view
        return view

    async def _receive(self, started: float) -> View:
        assert self.ws is not None
        view = View(0.0, "ok")
        while True:
            message = ForwardMsg.FromString(await self.ws.recv())  # type: ignore[arg-type]
            kind = message.WhichOneof("type")
            if kind == "ref_hash":  # an element we already have: the server sent only its hash
                if message.ref_hash not in self.cache:
                    view.status = f"ref_hash {message.ref_hash} not in the client's cache"
                    continue
                message = self.cache[message.ref_hash][0]
                self.cache[message.hash] = (message, self.script_runs)
                kind = message.WhichOneof("type")
            elif message.metadata.cacheable and message.hash:
                self.cache[message.hash] = (message, self.script_runs)
            if kind == "new_session":  # a run starts: the page shows only what this run draws
                self.page_hash = message.new_session.page_script_hash
                view = View(0.0, "ok", exceptions=view.exceptions, runs=view.runs + 1)
            elif kind == "navigation":
                self.pages = {p.url_pathname: p.page_script_hash for p in message.navigation.app_pages}
            elif kind == "page_info_changed":
                self.query = message.page_info_changed.query_string
            elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                _collect(view, message.delta.new_element)
            elif kind == "page_not_found":
                view.status = f"page_not_found: {message.page_not_found.page_name}"
            elif kind == "session_event" and message.session_event.HasField("script_compilation_exception"):
                view.exceptions.append(message.session_event.script_compilation_exception.message)
            elif kind == "script_finished":
                self.script_runs += 1
                self.cache = {
                    h: (m, used) for h, (m, used) in self.cache.items() if self.script_runs - used <= CACHED_MESSAGE_AGE
                }
                if message.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # st.rerun(): the next run follows
                if message.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    view.status = "compile error"
                view.ms = (time.perf_counter() - started) * 1000
                return view


def _collect(view: View, element: Any) -> None:
    kind = element.WhichOneof("type")
    part = getattr(element, kind)
    if kind == "exception":
        view.exceptions.append(f"{part.type}: {part.message}")
    elif kind == "alert":
        view.alerts.append((part.format, part.body))
        view.texts.append(part.body)
    elif kind == "heading":
        view.headings.append(part.body)
        view.texts.append(part.body)
    elif kind == "markdown":
        view.texts.append(part.body)
    if getattr(part, "id", "") and hasattr(part, "label"):
        view.widgets.append(
            Widget(
                part.id,
                kind,
                part.label,
                getattr(part, "form_id", ""),
                bool(getattr(part, "disabled", False)),
                list(getattr(part, "options", [])),
            )
        )


async def log_in(session: Session, username: str, password: str = DEMO_PASSWORD) -> View:
    """Fill the login form of the page the session is on and submit it."""
    try:
        session.set(session.last.widget(USER_LABEL), username)
        session.set(session.last.widget(PASSWORD_LABEL), password)
        button = session.last.widget(LOGIN_BUTTON, "button")
    except LookupError as exc:
        return View(0.0, str(exc))
    return await session.rerun(click=button)


# --- the load -----------------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str  # "page", "write" or "fill" (a rerun while filling in a form)
    name: str
    ms: float
    problems: list[str]


@dataclass
class Plan:
    """What a run's sessions draw on: accounts and the work read from the store beforehand."""

    colleges: list[str]
    college_accounts: dict[str, str]  # college -> its reviewer account
    college_queue: dict[str, deque[int]]  # registrations pending college review, by college
    school_queue: deque[int]
    graduates: deque[str]  # 学号 of graduates with an account and no registration


@dataclass
class Level:
    n: int
    duration: float
    think: float
    graduate_rate: float
    graduate_think: float
    plan: Plan
    seed: int
    base_url: str
    addresses: Iterator[str]
    samples: list[Sample] = field(default_factory=list)
    decisions: list[tuple[int, str, str]] = field(default_factory=list)  # (registration, level, decision)
    submissions: list[str] = field(default_factory=list)  # 学号
    unfinished: int = 0
    stop_at: float = 0.0

    def over(self) -> bool:
        return time.monotonic() >= self.stop_at

    def record(self, kind: str, name: str, view: View, problems: list[str] | None = None) -> View:
        self.samples.append(Sample(kind, name, view.ms, view.problems() if problems is None else problems))
        return view


def client_addresses(level_no: int) -> Iterator[str]:
    """Distinct loopback addresses to claim in X-Forwarded-For, one per session."""
    for i in range(1_000_000):
        yield f"127.77.{level_no * 16 + i // 250 % 16}.{i % 250 + 1}"


async def pause(rng: random.Random, mean: float) -> None:
    if mean > 0:
        await asyncio.sleep(mean * rng.uniform(0.5, 1.5))


async def arrive(level: Level, session: Session, rng: random.Random, think: float, username: str, home: str) -> bool:
    """Open the dashboard (its login page), log in as `username`; True once `home` is shown."""
    await session.connect()
    if level.record("page", "登录页", await session.load("")).problems():
        return False
    await pause(rng, think)
    view = await log_in(session, username)
    problems = view.problems()
    if view.status == "ok" and (view.shows(LOGIN_HEADING) or home not in view.headings):
        problems.append(f"login as {username} did not open {home} (headings: {view.headings[:3]})")
    level.record("write", "登录", view, problems)
    return not problems


async def staff(level: Level, index: int) -> None:
    """One staff session: log in, then go round its role's pages (and decisions) until the level
    is over; every session does at least one round, and finishes the round it has begun."""
    rng = random.Random(level.seed * 1000 + index)
    role = ROLES[index % len(ROLES)]
    # college reviewers go round the colleges, the n-th college session to the n-th college
    college_no = sum(ROLES[j % len(ROLES)] == "college" for j in range(index))
    college = level.plan.colleges[college_no % len(level.plan.colleges)]
    username = {"school": "school", "office": "admin", "analyst": "analyst"}.get(role) or level.plan.college_accounts[
        college
    ]
    await asyncio.sleep(rng.uniform(0, max(level.think, 0.1)))  # sessions do not all start at once
    session = Session(level.base_url, next(level.addresses))
    try:
        if not await arrive(level, session, rng, level.think, username, STAFF_HOME):
            return
        pages = [OVERVIEW, RISK] if role == "analyst" else [OVERVIEW, RISK, REVIEW]
        round_no = 0
        while (round_no == 0 or not level.over()) and not session.broken:  # a round begun is finished
            if role in ("school", "college"):
                if round_no % 2 == 1:
                    for page in pages[:2]:
                        await visit(level, session, rng, page)
                await visit(level, session, rng, REVIEW)
                queue = level.plan.school_queue if role == "school" else level.plan.college_queue[college]
                if queue:
                    await decide(level, session, rng, "school" if role == "school" else "college", queue.popleft())
            else:
                for page in pages:
                    await visit(level, session, rng, page)
            round_no += 1
    finally:
        await session.close()


async def visit(level: Level, session: Session, rng: random.Random, page: tuple[str, str, str]) -> None:
    await pause(rng, level.think)
    label, path, heading = page
    view = await session.open(path)
    problems = view.problems()
    if view.status == "ok" and heading not in view.headings:
        problems.append(f"{label}: heading “{heading}” missing (headings: {view.headings[:3]})")
    level.record("page", label, view, problems)


async def decide(level: Level, session: Session, rng: random.Random, review_level: str, registration_id: int) -> None:
    """Open one registration's review pane by its link (?item=) and approve or return it."""
    await pause(rng, level.think)
    view = level.record("page", "审核面板", await session.open(REVIEW[1], f"item={registration_id}"))
    if view.problems():
        return
    choice = "return" if rng.random() < RETURN_SHARE else "approve"
    await pause(rng, level.think)
    try:
        session.set(view.widget("结论", "radio"), workflow.DECISIONS[choice])
        if choice == "return":
            session.set(view.widget("常用退回原因", "selectbox"), reviews.RETURN_TEMPLATES[0])
        button = view.widget("提交审核意见", "button")
    except LookupError as exc:
        level.record("write", f"审核{workflow.DECISIONS[choice]}", View(0.0, f"registration {registration_id}: {exc}"))
        return
    view = await session.rerun(click=button)
    problems = view.problems()
    done = f"已{workflow.LEVELS[review_level]}{workflow.DECISIONS[choice]}"
    if view.status == "ok" and not view.success(done):
        problems.append(f"decision on {registration_id} not confirmed (“{done}” missing; alerts: {view.alerts[:2]})")
    level.record("write", f"审核{workflow.DECISIONS[choice]}", view, problems)
    if not problems:
        level.decisions.append((registration_id, review_level, choice))
        if review_level == "college" and choice == "approve":
            level.plan.school_queue.append(registration_id)


async def graduate(level: Level, student_id: str, index: int) -> None:
    """A graduate logs in, opens 档案信息登记, fills it in field by field and submits it."""
    rng = random.Random(level.seed * 7919 + index)
    session = Session(level.base_url, next(level.addresses))
    try:
        if not await arrive(level, session, rng, level.graduate_think, student_id, GRADUATE_HOME):
            return
        await pause(rng, level.graduate_think)
        view = await session.open(REGISTER_PATH)  # an empty form: its checks show as st.error boxes
        problems = view.problems(error_alerts_expected=True)
        if view.status == "ok" and "档案信息登记" not in view.headings:
            problems.append(f"graduate {student_id}: 档案信息登记 heading missing (headings: {view.headings[:3]})")
        level.record("page", "档案信息登记", view, problems)
        if problems:
            return
        for label, value, how in REGISTRATION_FIELDS:
            if view.problems(error_alerts_expected=True):
                return
            await pause(rng, level.graduate_think)
            try:
                widget = view.widget(label)
            except LookupError as exc:
                level.record("fill", "档案信息登记（填写）", View(0.0, f"{student_id}: {exc}"))
                return
            if how == "choose" and value not in widget.options:
                level.record(
                    "fill", "档案信息登记（填写）", View(0.0, f"{student_id}: “{value}” not offered in {label}")
                )
                return
            session.set(widget, value)
            view = await session.rerun()
            # until the form is complete its checks show as st.error boxes: expected here
            level.record("fill", "档案信息登记（填写）", view, view.problems(error_alerts_expected=True))
        await pause(rng, level.graduate_think)
        try:
            button = view.widget("提交", "button")
        except LookupError as exc:
            level.record("write", "提交登记", View(0.0, f"{student_id}: {exc}"))
            return
        if button.disabled:
            blocking = [body for fmt, body in view.alerts if fmt == Alert.ERROR]
            level.record("write", "提交登记", View(0.0, f"{student_id}: 提交 disabled: {blocking}"))
            return
        view = await session.rerun(click=button)
        problems = view.problems()
        if view.status == "ok" and not view.success(SUBMITTED):
            problems.append(f"submission of {student_id} not confirmed (alerts: {view.alerts[:2]})")
        level.record("write", "提交登记", view, problems)
        if not problems:
            level.submissions.append(student_id)
    finally:
        await session.close()


async def graduates_arriving(level: Level, tasks: list[asyncio.Task[None]]) -> None:
    if level.graduate_rate <= 0:
        return
    rng = random.Random(level.seed)
    index = 0
    next_at = time.monotonic()
    while not level.over():
        if not level.plan.graduates:
            print("  (no graduate accounts left: arrivals stop)", file=sys.stderr)
            return
        tasks.append(asyncio.create_task(graduate(level, level.plan.graduates.popleft(), index)))
        index += 1
        next_at += rng.uniform(0.5, 1.5) / level.graduate_rate
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))


async def run_level(level: Level) -> None:
    level.stop_at = time.monotonic() + level.duration
    tasks = [asyncio.create_task(staff(level, i)) for i in range(level.n)]
    arrivals = asyncio.create_task(graduates_arriving(level, tasks))
    await arrivals
    done, pending = await asyncio.wait(tasks, timeout=max(0.0, level.stop_at - time.monotonic()) + LEVEL_GRACE_S)
    for task in pending:
        task.cancel()
    level.unfinished = len(pending)
    for task in done:
        if task.exception() is not None:
            level.samples.append(Sample("write", "会话", 0.0, [f"session failed: {task.exception()!r}"]))


# --- the server's side --------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _family(pid: int) -> list[int]:
    """`pid` and its live descendants."""
    children: dict[int, list[int]] = defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            children[int(stat.read_text().rsplit(")", 1)[1].split()[1])].append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU of the server and its children (live ones, and those it waited for)."""
    total = 0
    for member in _family(pid):
        with contextlib.suppress(OSError, IndexError):
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    return total / CLOCK_TICKS


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def server_rss_mb(pid: int) -> float:
    total = 0
    for member in _family(pid):
        with contextlib.suppress(OSError, StopIteration):
            line = next(x for x in Path(f"/proc/{member}/status").read_text().splitlines() if x.startswith("VmRSS:"))
            total += int(line.split()[1])
    return total / 1024


async def sample_rss(pid: int, peak: list[float]) -> None:
    while True:
        peak[0] = max(peak[0], server_rss_mb(pid))
        await asyncio.sleep(0.5)


# --- preparing and checking the store -----------------------------------------------------------


def prepare_template(folder: Path, graduates: int, graduate_accounts: int) -> Path:
    """The demo store (`dangan demo`) with the harness's accounts: a college reviewer for every
    college and `graduate_accounts` graduates without a registration (password DEMO_PASSWORD).
    Kept in `folder` and reused when it has enough graduate accounts."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "dangan.duckdb"
    marker = folder / f"accounts-{graduates}.txt"
    if path.exists() and marker.exists() and int(marker.read_text() or 0) >= graduate_accounts:
        return path
    if not path.exists():
        started = time.perf_counter()
        build_demo(folder, graduates)
        print(f"built the {graduates:,}-graduate demo store in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    store = Store(path, today=TODAY)
    with store.reading(SYSTEM) as reader:
        colleges = [
            r[0] for r in reader._conn.execute("select distinct college_name from graduates order by 1").fetchall()
        ]
        existing = {r[0] for r in reader._conn.execute("select username from users").fetchall()}
        free = [
            r[0]
            for r in reader._conn.execute(
                "select student_id from graduate_stages where stage = 'not_registered' order by student_id"
            ).fetchall()
        ]
    for i, college in enumerate(colleges):
        name = f"{COLLEGE_REVIEWER_PREFIX}{i}"
        if name not in existing:
            accounts.add_user(
                store,
                SYSTEM,
                name,
                "college_reviewer",
                DEMO_PASSWORD,
                display_name=f"压测·{college}审核员",
                colleges=[college],
                must_change_password=False,
            )
    started, added = time.perf_counter(), 0
    have = sum(1 for s in free if s in existing)
    for student_id in free:
        if have + added >= graduate_accounts:
            break
        if student_id not in existing:
            accounts.add_user(
                store, SYSTEM, student_id, "graduate", DEMO_PASSWORD, student_id=student_id, must_change_password=False
            )
            added += 1
    if added:
        print(f"added {added} graduate accounts in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    marker.write_text(str(have + added))
    return path


def read_plan(path: Path) -> Plan:
    """Queues and graduates, read from the store while no server runs."""
    store = Store(path, today=TODAY)
    with store.reading(SYSTEM) as reader:
        conn = reader._conn
        colleges = [r[0] for r in conn.execute("select distinct college_name from graduates order by 1").fetchall()]
        reviewers = dict(
            conn.execute(
                "select colleges[1], min(username) from users where role = 'college_reviewer' and len(colleges) = 1 "
                "group by 1"
            ).fetchall()
        )
        pending = conn.execute("""select stage, college_name, registration_id from graduate_stages
                                  where stage in ('pending_college', 'pending_school')
                                  order by submitted_at, registration_id""").fetchall()
        graduates = [
            r[0]
            for r in conn.execute("""
            select u.username from users u join graduate_stages g on g.student_id = u.student_id
            where u.role = 'graduate' and g.stage = 'not_registered' and not u.disabled order by u.username""").fetchall()
        ]
    college_queue: dict[str, deque[int]] = {c: deque() for c in colleges}
    school_queue: deque[int] = deque()
    for stage, college, registration_id in pending:
        (college_queue[college] if stage == "pending_college" else school_queue).append(int(registration_id))
    return Plan(
        colleges, {c: reviewers[c] for c in colleges if c in reviewers}, college_queue, school_queue, deque(graduates)
    )


def check_writes(path: Path, decisions: list[tuple[int, str, str]], submissions: list[str]) -> tuple[int, int]:
    """(lost, doubled): writes the harness saw succeed that the store (read after the server
    stopped) lacks, or holds more than once — in its own table or in the audit log."""
    conn = duckdb.connect(str(path), read_only=True)
    try:
        review_rows = {
            (r, lv, d): n
            for r, lv, d, n in conn.execute(
                "select registration_id, level, decision, count(*) from reviews group by all"
            ).fetchall()
        }
        review_audit = {
            (a, t): n
            for a, t, n in conn.execute(
                "select action, target, count(*) from audit_log where action like 'review:%' group by all"
            ).fetchall()
        }
        submitted = dict(
            conn.execute(
                """select student_id, count(*) from registrations
                                         where source = 'graduate' and unit_name = ? group by all""",
                [REGISTRATION_FIELDS[4][1]],
            ).fetchall()
        )
        submit_audit = dict(
            conn.execute(
                "select target, count(*) from audit_log where action = 'registration:submit' group by all"
            ).fetchall()
        )
    finally:
        conn.close()
    lost = doubled = 0
    for registration_id, level, decision in decisions:
        counts = (
            review_rows.get((registration_id, level, decision), 0),
            review_audit.get((f"review:{level}:{decision}", str(registration_id)), 0),
        )
        lost += min(counts) == 0
        doubled += max(counts) > 1
    for student_id in submissions:
        counts = (submitted.get(student_id, 0), submit_audit.get(student_id, 0))
        lost += min(counts) == 0
        doubled += max(counts) > 1
    return lost, doubled


# --- a run --------------------------------------------------------------------------------------


@dataclass
class LevelResult:
    n: int
    samples: list[Sample]
    views: int
    cpu_s: float
    rss_peak_mb: float
    yardstick_ms: float
    seconds: float
    client_cpu_s: float = 0.0  # this process: what the sessions cost the client
    lost: int = 0
    doubled: int = 0
    unfinished: int = 0
    logged_failures: int = 0  # page failures and store errors the server logged during the level


def server_log_failures(db: Path) -> int:
    """Lines of the server's log (tests/browser.py puts it beside the store) that record a page
    that failed (display.run_guarded) or a traceback."""
    return sum(
        line.count("出错（参考编号") + line.startswith("Traceback")
        for log in db.parent.glob(f"{db.name}.serve-*.log")
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines()
    )


def server_env() -> dict[str, str]:
    """Every session claims an address of its own in X-Forwarded-For, as behind the school's proxy.
    The server listens on "::" as well, so a connection to 127.0.0.1 arrives from the IPv4-mapped
    ::ffff:127.0.0.1 (Streamlit reports a plain 127.0.0.1 or ::1 peer as no address at all)."""
    # PYTHONFAULTHANDLER: a server that stops answering can be made to write every thread's stack
    # to its log (kill -ABRT <pid>; the log is kept beside the run's store)
    return {"DANGAN_TRUSTED_PROXIES": "::ffff:127.0.0.1,127.0.0.1", "PYTHONFAULTHANDLER": "1"}


def run_once(template: Path, work: Path, args: argparse.Namespace, run_no: int) -> list[LevelResult]:
    """Copy the store, start the server, run every level, stop it, check the writes."""
    db = work / f"run{run_no}.duckdb"
    shutil.copyfile(template, db)
    plan = read_plan(db)
    results: list[tuple[LevelResult, Level]] = []
    with dashboard_process(db, TODAY, server_env()) as (base_url, server):
        for level_no, n in enumerate(args.sessions):
            stick = yardstick_ms()
            level = Level(
                n,
                args.duration,
                args.think,
                args.graduate_rate,
                args.graduate_think,
                plan,
                seed=args.seed + 100 * run_no + level_no,
                base_url=base_url,
                addresses=client_addresses(level_no),
            )
            cpu_before, started, peak = server_cpu_seconds(server.pid), time.monotonic(), [server_rss_mb(server.pid)]

            async def measured(level: Level = level, peak: list[float] = peak) -> None:
                sampler = asyncio.create_task(sample_rss(server.pid, peak))
                try:
                    await run_level(level)
                finally:
                    sampler.cancel()

            client_before, failures_before = own_cpu_seconds(), server_log_failures(db)
            asyncio.run(measured())
            result = LevelResult(
                n,
                level.samples,
                len(level.samples),
                server_cpu_seconds(server.pid) - cpu_before,
                peak[0],
                stick,
                time.monotonic() - started,
                own_cpu_seconds() - client_before,
                unfinished=level.unfinished,
                logged_failures=server_log_failures(db) - failures_before,
            )
            results.append((result, level))
            print(
                f"  run {run_no + 1}, N={n}: {result.views} page views in {result.seconds:.0f} s, "
                f"{sum(bool(s.problems) for s in level.samples)} errors",
                file=sys.stderr,
            )
    for result, level in results:
        result.lost, result.doubled = check_writes(db, level.decisions, level.submissions)
    return [r for r, _ in results]


# --- the figures --------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


PAGE_ORDER = ["登录页", "总览", "截止风险", "待审核", "审核面板", "档案信息登记", "档案信息登记（填写）"]
WRITE_ORDER = ["登录", "审核通过", "审核退回", "提交登记"]


def figures(result: LevelResult) -> dict[str, tuple[float, float, int]]:
    """name -> (p50, p95, count) over the views that finished without a problem."""
    by_name: dict[str, list[float]] = defaultdict(list)
    for s in result.samples:
        if not s.problems:
            by_name[s.name].append(s.ms)
    return {name: (statistics.median(v), percentile(v, 95), len(v)) for name, v in by_name.items()}


def errors(result: LevelResult) -> int:
    return sum(bool(s.problems) for s in result.samples) + result.unfinished


def table(runs: list[list[LevelResult]], title: str) -> str:
    """One markdown table, a column per N; with several runs each cell is the median over them."""
    levels = [r.n for r in runs[0]]

    def cell(get: Callable[[LevelResult], float | None], fmt: str) -> list[str]:
        out = []
        for i in range(len(levels)):
            values = [v for run in runs if (v := get(run[i])) is not None]
            out.append(format(statistics.median(values), fmt) if values else "—")
        return out

    lines = [
        f"### {title}",
        "",
        "| | " + " | ".join(f"N = {n}" for n in levels) + " |",
        "|---|" + "---:|" * len(levels),
    ]
    names = [n for n in PAGE_ORDER + WRITE_ORDER if any(n in figures(r) for run in runs for r in run)]
    for name in names:
        kind = "写入" if name in WRITE_ORDER else "页面"
        cells = []
        for i in range(len(levels)):
            got = [figures(run[i]).get(name) for run in runs]
            got_ok = [g for g in got if g is not None]
            cells.append(
                f"{statistics.median(g[0] for g in got_ok):.0f} / {statistics.median(g[1] for g in got_ok):.0f}"
                f" ({statistics.median(g[2] for g in got_ok):.0f})"
                if got_ok
                else "—"
            )
        lines.append(f"| {kind} {name}: p50 / p95 ms (n) | " + " | ".join(cells) + " |")
    rows: list[tuple[str, Callable[[LevelResult], float | None], str]] = [
        ("errors (views + unfinished sessions)", lambda r: errors(r), ".0f"),
        ("failures in the server's log", lambda r: r.logged_failures, ".0f"),
        ("lost writes", lambda r: r.lost, ".0f"),
        ("doubled writes", lambda r: r.doubled, ".0f"),
        ("page views (script runs asked for)", lambda r: r.views, ".0f"),
        ("page views per second", lambda r: r.views / r.seconds if r.seconds else None, ".1f"),
        ("server CPU s per page view", lambda r: r.cpu_s / r.views if r.views else None, ".3f"),
        ("server CPU use (cores)", lambda r: r.cpu_s / r.seconds if r.seconds else None, ".2f"),
        ("server RSS peak MB", lambda r: r.rss_peak_mb, ".0f"),
        (
            "harness CPU s per page view (the client's cost)",
            lambda r: r.client_cpu_s / r.views if r.views else None,
            ".3f",
        ),
        ("level wall time s (duration + the last flows finishing)", lambda r: r.seconds, ".0f"),
        ("yardstick ms (before the level)", lambda r: r.yardstick_ms, ".0f"),
    ]
    for label, get, fmt in rows:
        lines.append(f"| {label} | " + " | ".join(cell(get, fmt)) + " |")
    return "\n".join(lines)


def problem_lines(runs: list[list[LevelResult]], limit: int = 12) -> list[str]:
    seen: dict[str, int] = defaultdict(int)
    for run in runs:
        for result in run:
            for s in result.samples:
                for p in s.problems:
                    seen[f"N={result.n} {s.name}: {p[:300]}"] += 1
    return [f"  {n}× {text}" for text, n in sorted(seen.items(), key=lambda kv: -kv[1])[:limit]]


# --- Chromium beside the harness ----------------------------------------------------------------

CHECK_PAGES = [OVERVIEW, RISK, REVIEW]


async def harness_check_session(
    base_url: str, address: str, rounds: int, think: float, times: dict[str, list[float]], problems: list[str]
) -> None:
    session = Session(base_url, address)
    rng = random.Random(address)
    try:
        await session.connect()
        view = await session.load("")
        problems += view.problems()
        await pause(rng, think)
        view = await log_in(session, "admin")
        if view.problems() or STAFF_HOME not in view.headings:
            problems.append(f"harness login: {view.problems()} {view.headings[:3]}")
            return
        times["登录"].append(view.ms)
        for _ in range(rounds):
            for label, path, heading in CHECK_PAGES[1:] + CHECK_PAGES[:1]:
                await pause(rng, think)
                view = await session.open(path)
                if view.problems() or heading not in view.headings:
                    problems.append(f"harness {label}: {view.problems()} {view.headings[:3]}")
                else:
                    times[label].append(view.ms)
    finally:
        await session.close()


async def chromium_check_session(
    browser: Any,
    base_url: str,
    rounds: int,
    think: float,
    seed: str,
    settled: dict[str, list[float]],
    wire: dict[str, list[float]],
    reruns: list[int],
    problems: list[str],
) -> None:
    """One Chromium tab: log in, then the pages through the sidebar, timed twice: on its own
    websocket (rerun_script sent -> final script_finished received) and until settled."""
    rng = random.Random(seed)
    context = await browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(VIEW_TIMEOUT_S * 1000)
    page = await context.new_page()
    frames: dict[str, float] = {}

    def sent(payload: Any) -> None:
        if isinstance(payload, bytes) and BackMsg.FromString(payload).WhichOneof("type") == "rerun_script":
            frames.setdefault("sent", time.perf_counter())  # the first one, if a click sends more
            frames["reruns"] = frames.get("reruns", 0) + 1

    def received(payload: Any) -> None:
        if isinstance(payload, bytes):
            message = ForwardMsg.FromString(payload)
            if (
                message.WhichOneof("type") == "script_finished"
                and message.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN
                and "sent" in frames
            ):
                frames["finished"] = time.perf_counter()

    def on_websocket(ws: Any) -> None:
        if ws.url.endswith("/_stcore/stream"):
            ws.on("framesent", sent)
            ws.on("framereceived", received)

    page.on("websocket", on_websocket)

    async def timed(label: str, heading: str, action: Callable[[], Awaitable[Any]]) -> None:
        """Time `action` until the page has settled: its websocket has brought the final
        script_finished (a login's first run ends "early for rerun": the page between the two
        runs looks settled too), the page's h1 is `heading`, and tests/browser.py's condition."""
        frames.clear()
        started = time.perf_counter()
        await action()
        while "finished" not in frames:
            if time.perf_counter() - started > VIEW_TIMEOUT_S:
                problems.append(f"chromium {label}: no script_finished within {VIEW_TIMEOUT_S:.0f} s")
                return
            await asyncio.sleep(0.005)  # poll interval for the frame event, not a wait for readiness
        await page.wait_for_function(HEADING_SHOWN, arg=heading)
        await wait_settled_async(page)
        done = time.perf_counter()
        found = await page.evaluate(
            """s => Array.from(document.querySelectorAll(s)).map(e => e.innerText)""",
            '[data-testid="stException"], [data-testid="stAlertContentError"]',
        )
        if found:
            problems.append(f"chromium {label}: {found[:2]}")
            return
        settled[label].append((done - started) * 1000)
        if "finished" in frames:
            wire[label].append((frames["finished"] - frames["sent"]) * 1000)
            reruns.append(int(frames["reruns"]))

    try:
        await page.goto(base_url)
        await wait_settled_async(page)
        await pause(rng, think)
        await page.get_by_label(USER_LABEL).fill("admin")
        await page.get_by_label(PASSWORD_LABEL, exact=True).fill(DEMO_PASSWORD)
        await timed("登录", STAFF_HOME, lambda: page.get_by_role("button", name=LOGIN_BUTTON, exact=True).click())
        nav = page.get_by_test_id("stSidebarNav")
        for _ in range(rounds):
            for label, _path, heading in CHECK_PAGES[1:] + CHECK_PAGES[:1]:
                await pause(rng, think)
                await timed(label, heading, lambda label=label: nav.get_by_role("link", name=label, exact=True).click())
    finally:
        await context.close()


HEADING_SHOWN = """title => Array.from(document.querySelectorAll('h1')).some(
    h => h.textContent.trim() === title && h.checkVisibility())"""


async def wait_settled_async(page: Any) -> None:
    """tests/browser.py wait_settled, for Playwright's async API."""
    await page.locator(SETTLED).wait_for(state="attached")
    await page.wait_for_function(f"() => document.querySelectorAll({LOADING!r}).length === 0")
    await page.wait_for_function(CHARTS_DRAWN)
    await page.evaluate("() => document.fonts.ready.then(() => true)")
    await page.evaluate(TWO_FRAMES)


@dataclass
class Compared:
    n: int
    harness: dict[str, list[float]]  # page -> ms
    wire: dict[str, list[float]]
    settled: dict[str, list[float]]
    reruns: list[int]  # rerun_script frames Chromium sent per timed action
    problems: list[str]
    after: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # the harness again
    cpu_harness: float = 0.0  # server CPU s over the harness's first sessions
    cpu_chromium: float = 0.0  # and over Chromium's
    cpu_after: float = 0.0  # and over the harness's sessions after Chromium
    client_harness: float = 0.0  # CPU s of the client: this process for the harness
    client_chromium: float = 0.0  # Chromium and Playwright's driver for the browser


async def compare(base_url: str, pid: int, addresses: Iterator[str], args: argparse.Namespace, got: Compared) -> None:
    """N harness sessions at once, then N Chromium tabs at once, over the same pages; the
    server's CPU time is taken for each half (both ask for the same script runs)."""
    from playwright.async_api import async_playwright

    before, client = server_cpu_seconds(pid), own_cpu_seconds()
    await asyncio.gather(
        *(
            harness_check_session(base_url, next(addresses), args.rounds, args.think, got.harness, got.problems)
            for _ in range(got.n)
        )
    )
    got.cpu_harness, got.client_harness = server_cpu_seconds(pid) - before, own_cpu_seconds() - client
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            before, family, client = server_cpu_seconds(pid), server_cpu_seconds(os.getpid()), own_cpu_seconds()
            await asyncio.gather(
                *(
                    chromium_check_session(
                        browser,
                        base_url,
                        args.rounds,
                        args.think,
                        f"{got.n}-{i}",
                        got.settled,
                        got.wire,
                        got.reruns,
                        got.problems,
                    )
                    for i in range(got.n)
                )
            )
            got.cpu_chromium = server_cpu_seconds(pid) - before
            # this process's children are Playwright's driver and Chromium (the server is not one: it
            # is a child of this process too, so it is taken out)
            got.client_chromium = (
                (server_cpu_seconds(os.getpid()) - family) - (own_cpu_seconds() - client) - got.cpu_chromium
            )
        finally:
            await browser.close()
    before = server_cpu_seconds(pid)
    await asyncio.gather(
        *(
            harness_check_session(base_url, next(addresses), args.rounds, args.think, got.after, got.problems)
            for _ in range(got.n)
        )
    )
    got.cpu_after = server_cpu_seconds(pid) - before


def check_chromium(template: Path, work: Path, args: argparse.Namespace) -> list[Compared]:
    db = work / "chromium.duckdb"
    shutil.copyfile(template, db)
    levels = [n for n in args.sessions if n <= 5] or [1, 5]
    lines = [
        f"### harness vs Chromium: staff pages (admin), {args.rounds} rounds per session, think {args.think} s",
        "",
        "| N | page | harness p50 / p95 ms (n) | Chromium websocket p50 / p95 ms (n) "
        "| Chromium settled p50 / p95 ms (n) | harness again, after Chromium |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    compared = []
    with dashboard_process(db, TODAY, server_env()) as (base_url, server):
        for level_no, n in enumerate(levels):
            stick = yardstick_ms()
            got = Compared(n, defaultdict(list), defaultdict(list), defaultdict(list), [], [])
            asyncio.run(compare(base_url, server.pid, client_addresses(level_no), args, got))
            for label in ["登录", *(p[0] for p in CHECK_PAGES)]:
                lines.append(
                    f"| {n} | {label} | {_pair(got.harness[label])} | {_pair(got.wire[label])} "
                    f"| {_pair(got.settled[label])} | {_pair(got.after[label])} |"
                )
            lines.append(
                f"| {n} | server CPU s (the same script runs asked for) | {got.cpu_harness:.1f} "
                f"| {got.cpu_chromium:.1f} | rerun_script frames per click: "
                f"{min(got.reruns, default=0)}-{max(got.reruns, default=0)} | {got.cpu_after:.1f} |"
            )
            lines.append(
                f"| {n} | client CPU s | {got.client_harness:.1f} | {got.client_chromium:.1f} (Chromium + driver) | | |"
            )
            lines.append(f"| {n} | yardstick ms (before) | {stick:.0f} | | | |")
            compared.append(got)
    for stale in work.glob("chromium.duckdb*"):
        stale.unlink()
    print("\n".join(lines))
    if problems := [p for c in compared for p in c.problems]:
        print("\nproblems:\n" + "\n".join(f"  {p[:300]}" for p in problems[:20]))
    return compared


def _pair(values: list[float]) -> str:
    if not values:
        return "—"
    return f"{statistics.median(values):.0f} / {percentile(values, 95):.0f} ({len(values)})"


# --- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--graduates", type=int, default=5000, help="demo size (5000; 100000 is the big one)")
    parser.add_argument("--sessions", default="1,5,10,20,50", help="staff sessions at each level (comma-separated)")
    parser.add_argument("--duration", type=float, default=45.0, help="seconds per level")
    parser.add_argument("--runs", type=int, default=1, help="runs (fresh store and server each); figures are medians")
    parser.add_argument("--think", type=float, default=2.0, help="staff think time before each action, s (mean)")
    parser.add_argument("--graduate-rate", type=float, default=1.0, help="graduates arriving per second")
    parser.add_argument("--graduate-think", type=float, default=1.0, help="graduate think time between steps, s")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--keep", help="folder for the demo store (reused when present)")
    parser.add_argument("--check-chromium", action="store_true", help="harness vs Chromium at N = 1 and 5")
    parser.add_argument("--rounds", type=int, default=3, help="--check-chromium: page rounds per session")
    args = parser.parse_args(argv)
    args.sessions = [int(n) for n in str(args.sessions).split(",") if n.strip()]
    return args


def graduate_accounts_needed(args: argparse.Namespace) -> int:
    per_run = math.ceil(args.graduate_rate * 1.5 * args.duration) * len(args.sessions) + 10
    return per_run  # every run starts from the same template, so one run's worth


def main(argv: list[str] | None = None) -> list[list[LevelResult]] | list[Compared]:
    args = parse_args(argv)
    with contextlib.ExitStack() as stack:
        work = (
            Path(args.keep)
            if args.keep
            else Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench_load_")))
        )
        template = prepare_template(work / f"demo_{args.graduates}", args.graduates, graduate_accounts_needed(args))
        if args.check_chromium:
            return check_chromium(template, work, args)
        runs = []
        for run_no in range(args.runs):
            runs.append(run_once(template, work, args, run_no))
            for stale in work.glob(f"run{run_no}.duckdb*"):
                if stale.suffix != ".log":  # the server's log stays for a look at its errors
                    stale.unlink()
        title = (
            f"load at {args.graduates:,} graduates: N staff sessions (roles {'/'.join(ROLES)}), think {args.think} s, "
            f"+ graduates submitting at {args.graduate_rate}/s, {args.duration:.0f} s per level"
            + (f", median of {args.runs} runs" if args.runs > 1 else "")
        )
        print(table(runs, title))
        if lines := problem_lines(runs):
            print("\nproblems (most frequent first):\n" + "\n".join(lines))
        return runs


if __name__ == "__main__":
    main()
