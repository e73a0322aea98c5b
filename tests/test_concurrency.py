"""The dashboard and the CLI at once: every write lands, nobody crashes, waiting is announced."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from bench import files
from pipelines import imports
from pipelines.store import SYSTEM, Store
from tests.conftest import table

pytestmark = pytest.mark.slow
ROOT = Path(__file__).parent.parent

# A second process that does what the dashboard does: renders the real app (AppTest runs
# dashboard/app.py) over and over, and writes through the store between renders.
DASHBOARD_LIKE = textwrap.dedent("""
    import json, sys, time
    from streamlit.testing.v1 import AppTest
    from pipelines.store import Actor, Store
    store = Store(sys.argv[1], today="2024-06-10", lock_wait=60)
    actor = Actor("dashboard", "admin")
    renders, writes, deadline = 0, 0, time.monotonic() + float(sys.argv[2])
    while time.monotonic() < deadline:
        app = AppTest.from_file("dashboard/app.py", default_timeout=60)
        app.run()
        if app.exception:
            print(json.dumps({"error": str(app.exception[0].value)}), flush=True)
            sys.exit(1)
        renders += 1
        store.transaction(actor, "dashboard:write", lambda w, n=writes: w.set_setting(f"dashboard_{n}", "x"))
        writes += 1
    print(json.dumps({"renders": renders, "writes": writes}), flush=True)
""")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                if answer.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("the dashboard did not become healthy")


def test_cli_imports_while_the_dashboard_reads_and_writes(store: Store, tmp_path: Path) -> None:
    roster = files.roster_frame(30_000)
    imports.import_file(store, SYSTEM, "roster", files.write(roster, tmp_path / "roster.csv"))
    registrations = files.registration_frame(roster)
    halves = [
        files.write(registrations.slice(0, 15_000), tmp_path / "part1.csv"),
        files.write(registrations.slice(15_000), tmp_path / "part2.csv"),
    ]
    env = {**os.environ, "DANGAN_DB": str(store.path), "DANGAN_TODAY": "2024-06-10", "PYTHONPATH": str(ROOT)}

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    dashboard = subprocess.Popen(
        [sys.executable, "-c", DASHBOARD_LIKE, str(store.path), "12"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_healthy(port)
        time.sleep(1.0)  # let the dashboard-like process get going
        runs = []
        for part in halves:
            runs.append(
                subprocess.run(
                    [sys.executable, "-m", "pipelines.cli", "import", "registrations", str(part)],
                    env=env,
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
            )
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5) as answer:
                assert answer.read() == b"ok", "the server stopped answering during an import"
        out, err = dashboard.communicate(timeout=120)
    finally:
        server.terminate()
        dashboard.kill()
        server.wait(10)

    for run in runs:
        assert run.returncode == 0, run.stderr
        assert "Traceback" not in run.stderr
    report = json.loads(out.strip().splitlines()[-1])
    assert dashboard.returncode == 0, (report, err[-2000:])
    assert report["renders"] >= 2 and report["writes"] == report["renders"]
    # no write by either side is lost
    assert table(store, "select count(*) from settings where key like 'dashboard_%'") == [(report["writes"],)]
    assert table(store, "select count(*) from audit_log where action = 'dashboard:write'") == [(report["writes"],)]
    assert table(store, "select count(*) from registrations") == [(30_000,)]
    assert table(store, "select count(*) from import_batches where kind = 'registrations'") == [(2,)]
