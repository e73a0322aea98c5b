"""The load harness (bench/bench_load.py) measures real pages, not error pages: over a small demo
store and the real server, its protocol client logs in and sees the page's heading, a refused
login counts as an error, and a short run at N = 1 finishes page views, decisions and a
submission without errors, all of them found in the store afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import bench_load
from tests.browser import TODAY, dashboard_process

pytestmark = pytest.mark.slow

GRADUATES = 400


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bench_load.prepare_template(tmp_path_factory.mktemp("load") / "demo", GRADUATES, graduate_accounts=12)


@pytest.fixture(scope="module")
def served(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("served") / "dangan.duckdb"
    db.write_bytes(template.read_bytes())
    with dashboard_process(db, TODAY, bench_load.server_env()) as (base_url, _server):
        yield base_url


def test_a_session_logs_in_and_sees_the_overview(served: str) -> None:
    async def visit() -> list[bench_load.View]:
        session = bench_load.Session(served, "127.77.200.1")
        await session.connect()
        try:
            first = await session.load("")
            home = await bench_load.log_in(session, "admin")
            risk = await session.open("risk")
            return [first, home, risk]
        finally:
            await session.close()

    first, home, risk = asyncio.run(visit())
    assert first.problems() == [] and bench_load.LOGIN_HEADING in first.headings
    assert home.problems() == [], home.problems()
    assert home.headings[0] == "总览" and home.runs == 2  # the form's run, then st.rerun() into the page
    assert any("登记截止" in text for text in home.texts)  # the campaign header's text arrived in a delta
    assert risk.problems() == [] and risk.headings[0] == "截止风险"
    assert all(v.ms > 0 for v in (first, home, risk))


def test_a_refused_login_is_an_error(served: str) -> None:
    async def refused() -> bench_load.View:
        session = bench_load.Session(served, "127.77.200.2")
        await session.connect()
        try:
            await session.load("")
            return await bench_load.log_in(session, "admin", "wrong-password-1")
        finally:
            await session.close()

    view = asyncio.run(refused())
    assert any(p.startswith("error alert: 用户名或密码错误") for p in view.problems()), view.alerts


def test_a_short_run_at_one_session(template: Path, tmp_path: Path) -> None:
    args = bench_load.parse_args(
        ["--sessions", "1", "--duration", "12", "--think", "0.2", "--graduate-rate", "0.15", "--graduate-think", "0.05"]
    )
    (result,) = bench_load.run_once(template, tmp_path, args, 0)
    problems = [(s.name, p) for s in result.samples for p in s.problems]
    assert problems == [] and result.unfinished == 0
    done = bench_load.figures(result)
    assert done["登录"][2] >= 2  # the reviewer and at least one graduate got in
    assert done["待审核"][2] >= 1 and done["审核面板"][2] >= 1
    assert "审核通过" in done or "审核退回" in done
    assert done["提交登记"][2] >= 1 and done["档案信息登记（填写）"][2] >= len(bench_load.REGISTRATION_FIELDS)
    assert (result.lost, result.doubled) == (0, 0)
    assert result.cpu_s > 0 and result.rss_peak_mb > 50


@pytest.mark.browser
def test_the_chromium_check_times_the_same_pages(template: Path, tmp_path: Path) -> None:
    args = bench_load.parse_args(["--check-chromium", "--sessions", "1", "--rounds", "1", "--think", "0"])
    (compared,) = bench_load.check_chromium(template, tmp_path, args)
    assert compared.problems == []
    for label in ["登录", "总览", "截止风险", "待审核"]:
        assert len(compared.harness[label]) == len(compared.settled[label]) == len(compared.wire[label]) == 1, label
    assert set(compared.reruns) == {1}  # a sidebar click is one rerun_script, as the harness sends
