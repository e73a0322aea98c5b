"""Shared fixtures: a real store file per test, and writers of real csv/xlsx files."""

from __future__ import annotations

import csv
import os
import random
import shutil
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from pipelines import campaigns
from pipelines.rules.identity import id_check_char
from pipelines.store import SYSTEM, Store

# Users never see tracebacks (.streamlit/config.toml); the tests must (AppTest reads that file).
os.environ.setdefault("STREAMLIT_CLIENT_SHOW_ERROR_DETAILS", "full")

TODAY = "2024-06-10"

ROSTER_HEADER = [
    "学号",
    "姓名",
    "性别",
    "身份证号",
    "学院",
    "专业",
    "班级",
    "学历层次",
    "毕业时间",
    "生源地代码",
    "生源地",
    "户口是否迁入学校",
    "手机号码",
    "班主任",
]
REGISTRATION_HEADER = [
    "学号",
    "姓名",
    "档案转递类型",
    "档案转递单位名称",
    "档案转递单位地址",
    "详细地址",
    "档案转递单位邮编",
    "档案转递联系人/联系部门",
    "档案转递联系电话",
    "情况说明",
    "证明材料数",
    "提交时间",
    "审核状态",
    "退回原因",
    "确认状态",
]


# A complete registration as a graduate submits it (pipelines.submissions.submit).
SUBMISSION_FORM = {
    "transfer_type": "origin",
    "unit_name": "南昌市人才服务中心",
    "province": "江西省",
    "city": "南昌市",
    "district": "东湖区",
    "address_detail": "八一大道 100 号",
    "postcode": "330000",
    "contact": "档案室",
    "phone": "0791-86123456",
    "note": "回生源地",
}


def valid_id(seed: int, origin: str = "360102", birth: str = "20010315") -> str:
    first17 = f"{origin}{birth}{seed % 1000:03d}"
    return first17 + id_check_char(first17)


def roster_row(i: int, **overrides: Any) -> dict[str, Any]:
    row = {
        "学号": f"00240{i:05d}",
        "姓名": f"学生{i}",
        "性别": "女" if i % 2 else "男",
        "身份证号": valid_id(i),
        "学院": ["服装设计学院", "商学院"][i % 2],
        "专业": "服装与服饰设计",
        "班级": f"服设20{i % 3}班",
        "学历层次": "本科",
        "毕业时间": "2024-06-30",
        "生源地代码": "360102",
        "生源地": "江西省南昌市东湖区",
        "户口是否迁入学校": "否",
        "手机号码": f"138{i:08d}",
        "班主任": "王老师",
    }
    row.update(overrides)
    return row


def registration_row(i: int, **overrides: Any) -> dict[str, Any]:
    row = {
        "学号": f"00240{i:05d}",
        "姓名": f"学生{i}",
        "档案转递类型": "转回生源地",
        "档案转递单位名称": "南昌市人才服务中心",
        "档案转递单位地址": "江西省南昌市东湖区",
        "详细地址": f"八一大道{i + 1}号",
        "档案转递单位邮编": "330000",
        "档案转递联系人/联系部门": "档案室",
        "档案转递联系电话": "0791-86123456",
        "情况说明": "回生源地",
        "证明材料数": "0",
        "提交时间": "2024-05-20 10:00:00",
        "审核状态": "",
        "退回原因": "",
        "确认状态": "",
    }
    row.update(overrides)
    return row


def write_csv(
    path: Path,
    header: list[str],
    rows: list[dict[str, Any]],
    *,
    encoding: str = "utf-8",
    title_rows: list[str] | None = None,
) -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        out = csv.writer(fh)
        for title in title_rows or []:
            out.writerow([title])
        out.writerow(header)
        for row in rows:
            out.writerow([row.get(h, "") for h in header])
    return path


def write_xlsx(
    path: Path,
    header: list[str],
    rows: list[dict[str, Any]],
    *,
    title_rows: list[str] | None = None,
    blank_rows_above: int = 0,
) -> Path:
    """Cells keep the Python type they are given: ints become numeric cells, as Excel would."""
    book = openpyxl.Workbook()
    sheet = book.active
    for _ in range(blank_rows_above):
        sheet.append([])
    for title in title_rows or []:
        sheet.append([title])
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(h) if row.get(h) != "" else None for h in header])
    book.save(path)
    return path


@pytest.fixture(scope="session")
def empty_store_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated store with the 2024 campaign, built once and copied for each test."""
    path = tmp_path_factory.mktemp("template") / "dangan.duckdb"
    s = Store(path, today=TODAY, lock_wait=10)
    campaigns.save_campaign(
        s,
        SYSTEM,
        campaigns.Campaign(
            cohort=2024,
            school_name="江西服装学院",
            registration_deadline=datetime(2024, 6, 17).date(),
            default_graduation_date=datetime(2024, 6, 30).date(),
            notice_number="江服就发〔2024〕27号",
            school_code="10001",
        ),
    )
    return path


@pytest.fixture
def store(tmp_path: Path, empty_store_file: Path) -> Store:
    """An empty store with the 2024 campaign, as of 2024-06-10."""
    path = tmp_path / "dangan.duckdb"
    shutil.copy(empty_store_file, path)
    return Store(path, today=TODAY, lock_wait=10)


def table(store: Store, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Rows of an ad-hoc assertion query (tests may read the store however they like)."""
    with store.reading(SYSTEM) as reader:
        return reader._conn.execute(sql, params or []).fetchall()


def data_snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every data table's rows, without the columns that record when or by which batch."""
    volatile = {"updated_at", "recorded_at", "decided_at", "batch_id", "confirmed_at"}
    snapshot = {}
    with store.reading(SYSTEM) as reader:
        for name in [
            "graduates",
            "destinations",
            "registrations",
            "reviews",
            "confirmations",
            "hukou_registrations",
            "verification_reports",
            "colleges",
            "campaigns",
        ]:
            cols = [
                r[0]
                for r in reader._conn.execute(
                    "select column_name from information_schema.columns where table_name = ? order by ordinal_position",
                    [name],
                ).fetchall()
            ]
            keep = ", ".join(c for c in cols if c not in volatile)
            snapshot[name] = reader._conn.execute(f"select {keep} from {name} order by all").fetchall()
    return snapshot


@pytest.fixture
def rng() -> random.Random:
    return random.Random(20240617)


# Browser tests (tests/test_browser*.py): one headless Chromium per module, a fresh page per test.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from tests.browser import chromium

    with chromium() as found:
        yield found


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    from tests.browser import fresh_page

    with fresh_page(browser) as found:
        yield found


@pytest.fixture(autouse=True)
def _no_store_stays_owned() -> Iterator[None]:
    """A page test makes this process the owner of its store (as the dashboard server is);
    afterwards the file is closed and the channel stopped, so no test inherits another's."""
    yield
    from pipelines import serving, store

    serving.stop_all()
    store.disown_all()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed test that had dashboards running gets their thread stacks in its report."""
    report = yield
    browser = sys.modules.get("tests.browser")
    if report.failed and call.when == "call" and browser is not None and getattr(browser, "LIVE_SERVERS", None):
        report.sections.append(("dashboard threads", browser.thread_dumps()))
    return report
