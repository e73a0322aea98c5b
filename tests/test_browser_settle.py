"""The browser helpers' idea of "settled" (tests/browser.py), checked against a real Streamlit
server whose run after st.rerun() starts late, as it does on a loaded machine.

A run that calls st.rerun() ends "early for rerun", and Streamlit reports the app not running
until the next run starts (runtime/app_session.py, SCRIPT_STOPPED_FOR_RERUN). Two CI failures
came from that gap: a page that looked settled between a login's two runs."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser import _healthy, _stop, free_port, settle_after

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The second run of a rerun chain starts 3 s late: the gap a loaded machine leaves, made long.
APP = """
import time
import streamlit as st
from streamlit.runtime.scriptrunner import script_runner

if not hasattr(script_runner, "slow_gap"):
    finished = script_runner.ScriptRunner._on_script_finished

    def slow_gap(self, ctx, event, premature_stop, run_descriptor):
        finished(self, ctx, event, premature_stop, run_descriptor)
        if event == script_runner.ScriptRunnerEvent.SCRIPT_STOPPED_FOR_RERUN:
            time.sleep(3)  # where Streamlit runs gc.collect(2) before the next run starts

    script_runner.slow_gap = slow_gap
    script_runner.ScriptRunner._on_script_finished = slow_gap

if st.session_state.get("step") == "asked":
    st.title("第二次运行")
else:
    st.title("第一次运行")
    if st.query_params.get("slow") and not st.session_state.get("drawn"):
        st.session_state.drawn = True
        time.sleep(1)  # the heading is drawn, the run goes on: a loaded machine's slow page
    if st.button("登录"):
        st.session_state.step = "asked"
        st.rerun()
"""


@pytest.fixture(scope="module")
def late_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = tmp_path_factory.mktemp("late") / "app.py"
    app.write_text(APP, encoding="utf-8")
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(app),
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not _healthy(port):
            assert server.poll() is None and time.monotonic() < deadline, "the little app did not start"
            time.sleep(0.1)  # poll interval
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(server)


def test_a_click_that_reruns_is_settled_only_when_the_second_run_has_finished(page: Page, late_app: str) -> None:
    page.goto(late_app)
    expect(page.get_by_role("heading", name="第一次运行")).to_be_visible()
    started = time.monotonic()
    settle_after(page, lambda: page.get_by_role("button", name="登录").click())
    # settled means the second run has drawn its page, not the gap before it starts
    assert page.get_by_role("heading", name="第二次运行").count() == 1
    assert time.monotonic() - started >= 2.5


def test_an_action_asked_for_while_the_page_still_runs_waits_for_the_run_it_causes(page: Page, late_app: str) -> None:
    # The CI failure: the heading was visible while the page's first run went on, so the helper
    # began watching mid-run; that run's end passed for the click's own, and the click's runs had
    # not started when it returned.
    page.goto(f"{late_app}/?slow=1")
    expect(page.get_by_role("heading", name="第一次运行")).to_be_visible()
    settle_after(page, lambda: page.get_by_role("button", name="登录").click())
    assert page.get_by_role("heading", name="第二次运行").count() == 1
