"""The server imports every library a page uses before it takes a session (dashboard/preload.py).

The load harness (bench_load, one reviewer and graduates at once) showed 总览 failing with
"partially initialized module 'pandas' has no attribute 'Series'": plotly looks pandas up in
sys.modules while another session's thread is still importing it. These tests fail if a page run
still imports a library module for the first time, and if `dangan serve` stops preloading."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines import cli, demo
from pipelines.store import Store

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent

# In a fresh interpreter: what the server has imported when it listens (Streamlit's server, then
# preload()), then every page opened as the office and as a graduate; prints the modules from
# site-packages that the page runs imported first, and any page's exception.
PROBE = """
import json, sys, sysconfig
import streamlit.web.bootstrap, streamlit.web.server
from streamlit.testing.v1 import AppTest
from dashboard.preload import preload
preload()
before = set(sys.modules)
app_py, visits = sys.argv[1], json.loads(sys.argv[2])
errors = {}
for user, pages in visits.items():
    for page in pages:
        app = AppTest.from_file(app_py, default_timeout=300)
        app.session_state["username"] = user
        if page:
            app.run()
            app.switch_page(page)
        app.run()
        failed = [e.value for e in app.exception] + [e.value for e in app.error if e.value.startswith("页面出错了")]
        if failed:
            errors[f"{user} {page}"] = failed
site = sysconfig.get_paths()["purelib"]
new = sorted(m for m in set(sys.modules) - before if (getattr(sys.modules[m], "__file__", None) or "").startswith(site))
print(json.dumps({"errors": errors, "new": new}))
"""

STAFF_PAGES = [
    "",
    "screens/progress/risk.py",
    "screens/progress/stats.py",
    "screens/review/review.py",
    "screens/drill/college.py",
    "screens/drill/detail.py",
    "screens/review/reports.py",
    "screens/admin/imports.py",
    "screens/admin/audit.py",
    "screens/admin/users.py",
    "screens/admin/campaign.py",
    "screens/public/verify.py",
]
GRADUATE_PAGES = ["", "screens/graduate/authorize.py"]


def test_no_page_run_imports_a_library_for_the_first_time(tmp_path: Path) -> None:
    store = Store(tmp_path / "demo.duckdb")
    demo.build_demo(store, graduates=300, seed=11)
    ((graduate,),) = store_rows(store, "select min(student_id) from graduates")
    env = dict(os.environ, DANGAN_DB=str(store.path), DANGAN_TODAY="2024-06-10")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            str(ROOT / "dashboard" / "app.py"),
            json.dumps({"admin": STAFF_PAGES, graduate: GRADUATE_PAGES}),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["errors"] == {}
    assert found["new"] == [], "add these to dashboard/preload.py"


def test_the_server_preloads_before_streamlit_starts() -> None:
    # `streamlit version` itself imports neither pandas nor plotly: seeing them means preload ran
    report = (
        "import atexit, json, sys; atexit.register(lambda: sys.__stdout__.write(json.dumps("
        "[m for m in ('pandas', 'plotly.graph_objs._funnel', 'dashboard.widgets') if m in sys.modules])));"
    )
    done = subprocess.run(
        [sys.executable, "-c", report + cli._SERVER_MAIN, "version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.splitlines()[-1]) == ["pandas", "plotly.graph_objs._funnel", "dashboard.widgets"]


def store_rows(store: Store, text: str) -> list[tuple[object, ...]]:
    from pipelines.store import SYSTEM

    with store.reading(SYSTEM) as reader:
        return reader._conn.execute(text).fetchall()
