"""The two ways a cell is validated agree: the vectorised fast path (`rows.FastPath`) and the
row model's own validators, on files full of what real exports carry (#17)."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from pipelines import columns, imports, rows, sources
from pipelines.rules.identity import id_check_char
from tests.conftest import REGISTRATION_HEADER, ROSTER_HEADER, roster_row, valid_id

ZWSP, BOM, NBSP, IDEOGRAPHIC_SPACE, RLO = "\u200b", "\ufeff", "\u00a0", "\u3000", "\u202e"


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def wrong_check(first17: str) -> str:
    return first17 + ("0" if id_check_char(first17) != "0" else "1")


# Per column: the mess each field meets in real files (cells keep their Python type: a
# datetime becomes an Excel date cell, an int or float a number cell).
SUBMITTED_AT: list[Any] = [
    "2024-05-20 10:00:00",
    "2024-05-20 10:00",
    "2024-05-20",
    "2024-05-20 10:00:00.500",
    "2024/5/20 9:05",
    "2024年5月20日",
    "20240520",
    "45432",
    "45432.75",
    "2024-02-30 10:00:00",
    "2024-05-20 24:00:00",
    "2024-05-20 23:59:60",
    "0000-05-20",
    "2024-05-20T10:00:00",
    full_width("2024-05-20 10:00:00"),
    f" 2024-05-20{NBSP}10:00:00 ",
    datetime(2024, 5, 21, 14, 30),
    datetime(2024, 5, 21, 14, 30, 15, 500000),
    date(2024, 5, 22),
    45433.5,
    "昨天",
    "2024-13-01",
    "",
]
PHONES: list[Any] = [
    "13812345678",
    "138-1234-5678",
    "+86 13812345678",
    "0086-13812345678",
    "008613812345678",
    "0791-86123456",
    "079186123456",
    "(0791)86123456",
    "0791-86123456-123",
    full_width("13812345678"),
    f"138{ZWSP}12345678",
    "138****5678",
    "12345",
    "1381234567",
    "1-2-3",
    "--",
    13812345678,
    "",
]
TRANSFER_NUMBERS: list[Any] = [
    "2510876CYLAXKAZFVR",
    "2510876cylaxkazfvr",
    "2510 876CYLAXKAZFVR",
    full_width("2510876CYL"),
    "ABC12",
    "A" * 33,
    "2510876CYL****",
    "ſ2510876",
    "\u212a2510876",
    251087612,
    "",
]
DETAILS: list[Any] = [
    "八一大道100号",
    "八一大道**",
    f"八一大道{IDEOGRAPHIC_SPACE}100号",
    "  ",
    "'=HYPERLINK(1)",
    "",
    100,
]
STUDENT_IDS: list[Any] = [
    "0099000001",
    "0099 000002",
    full_width("0099000003"),
    "99000004.0",
    "学号5",
    99000006,
    f"0099{ZWSP}000007",
    "0099-000_08",
    "",
    "x" * 33,
]
ID_NUMBERS: list[Any] = [
    valid_id(1),
    valid_id(2).lower(),
    full_width(valid_id(3)),
    wrong_check("36010220010315001"),
    valid_id(4, birth="20010230"),
    valid_id(5, birth="00000101"),
    "3.60102E+17",
    f"{valid_id(6)[:17]}.0",
    valid_id(7)[:-1],
    360102200103150011,
    f"{valid_id(8)[:6]} {valid_id(8)[6:]}",
    "",
]
MOBILES: list[Any] = [
    "13812345678",
    "12812345678",
    "138-1234-5678",
    "+86 13912345678",
    "0791-86123456",
    full_width("13712345678"),
    13612345678,
    "1381234567",
    "",
]
DATES: list[Any] = [
    "2024-06-30",
    "2024/6/30",
    "20240630",
    "45473",
    date(2024, 6, 30),
    datetime(2024, 6, 30, 8, 0),
    "2024-06-31",
    time(8, 0),
    "",
]


def _cycle(values: list[Any], i: int) -> Any:
    return values[i % len(values)]


def _write(path: Path, header: list[str], records: list[list[Any]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for record in records:
        sheet.append([None if v == "" else v for v in record])
    book.save(path)
    return path


def registrations_file(path: Path, n: int = 400) -> Path:
    header = [*REGISTRATION_HEADER, "转递编号", "确认时间"]
    records = []
    for i in range(n):
        row = {
            "学号": _cycle(STUDENT_IDS, i) if i % 3 == 0 else f"00240{i:05d}",
            "姓名": f"学生{i}" if i % 17 else "",
            "档案转递类型": ["转回生源地", "签约单位接收", "托管", "出国"][i % 4],
            "档案转递单位名称": "南昌市人才服务中心",
            "档案转递单位地址": "江西省南昌市东湖区",
            "详细地址": _cycle(DETAILS, i),
            "档案转递单位邮编": ["330000", "３３０ ０００", "33000"][i % 3],
            "档案转递联系人/联系部门": "档案室",
            "档案转递联系电话": _cycle(PHONES, i),
            "情况说明": f"说明{RLO}{i}",
            "证明材料数": ["0", "1", "3", "4", "1.5", ""][i % 6],
            "提交时间": _cycle(SUBMITTED_AT, i),
            "审核状态": ["", "待审核", "院审核通过", "已退回", "乱写"][i % 5],
            "退回原因": "",
            "确认状态": ["", "已确认", "未确认"][i % 3],
            "转递编号": _cycle(TRANSFER_NUMBERS, i),
            "确认时间": _cycle(SUBMITTED_AT, i + 7),
        }
        records.append([row[h] for h in header])
    return _write(path, header, records)


def roster_file(path: Path, n: int = 200) -> Path:
    records = []
    for i in range(n):
        row = roster_row(
            i,
            学号=_cycle(STUDENT_IDS, i) if i % 3 == 0 else f"00240{i:05d}",
            身份证号=_cycle(ID_NUMBERS, i),
            手机号码=_cycle(MOBILES, i),
            毕业时间=_cycle(DATES, i),
        )
        records.append([row[h] for h in ROSTER_HEADER])
    return _write(path, ROSTER_HEADER, records)


def cleaned(path: Path, layout: columns.Layout) -> pl.DataFrame:
    """The frame `rows.validate_frame` gets in an import: read, mapped, cleaned."""
    return imports._clean_frame(sources.read_source(path, layout).frame)


def row_by_row(
    frame: pl.DataFrame, model: type[BaseModel]
) -> tuple[dict[int, dict[str, Any]], set[tuple[int, str, str]]]:
    """The model applied to each row on its own: the values of the valid rows, every error."""
    fields = [c for c in frame.columns if c in model.model_fields]
    valid: dict[int, dict[str, Any]] = {}
    errors: set[tuple[int, str, str]] = set()
    for record in frame.iter_rows(named=True):
        try:
            parsed = model.model_validate({f: record[f] for f in fields})
        except ValidationError as exc:
            errors |= {
                (record[sources.ROW], str(e["loc"][0]), str(e["msg"]).removeprefix("Value error, "))
                for e in exc.errors()
            }
            continue
        valid[record[sources.ROW]] = {f: getattr(parsed, f) for f in fields}
    return valid, errors


@pytest.mark.parametrize(
    ("kind", "build", "fast_fields"),
    [
        (
            "registrations",
            registrations_file,
            {
                "student_id",
                "phone",
                "transfer_number",
                "submitted_at",
                "confirmed_at",
                "address_detail",
                "postcode",
                "name",
            },
        ),
        ("roster", roster_file, {"student_id", "id_number", "phone", "graduation_date", "name", "college_name"}),
    ],
)
def test_fast_path_and_row_model_agree_on_real_world_mess(
    tmp_path: Path, kind: str, build: Any, fast_fields: set[str]
) -> None:
    model = imports.KINDS[kind].model
    frame = cleaned(build(tmp_path / f"{kind}.xlsx"), imports.KINDS[kind].layout)
    fast, fast_errors = rows.validate_frame(frame, model, sources.ROW)
    slow, slow_errors = rows.validate_frame(frame, model, sources.ROW, fast=False)
    assert fast.equals(slow), "the fast path and the model's validators give different values"
    assert sorted(fast_errors) == sorted(slow_errors)

    valid, errors = row_by_row(frame, model)
    assert {(row, name, message) for row, name, _, message in fast_errors} == errors
    assert valid, "the file has valid rows too"
    for record in fast.filter(pl.col(sources.ROW).is_in(list(valid))).iter_rows(named=True):
        assert {f: record[f] for f in valid[record[sources.ROW]]} == valid[record[sources.ROW]], record[sources.ROW]

    # the fast path did take cells of every field it has, and left the mess to the model
    for name in fast_fields:
        path = rows._FAST[rows._validator(model, name)]
        taken = frame.select(path.accepts(pl.col(name)).fill_null(False).sum()).item()
        assert 0 < taken < frame.height or name in {"name", "college_name"}, (name, taken)


def test_a_refused_cell_names_file_row_and_column_whichever_path_it_took(tmp_path: Path) -> None:
    path = registrations_file(tmp_path / "登记.xlsx", n=40)
    checked = imports.validate(sources.read_source(path, columns.REGISTRATIONS), imports.KINDS["registrations"])
    assert checked.errors and all(e.row and e.column for e in checked.errors)
    assert all(str(e).startswith(f"登记.xlsx 第 {e.row} 行，“{e.column}”列") for e in checked.errors)
    said = {(e.column, e.reason) for e in checked.errors}
    assert ("提交时间", "不是可识别的日期时间（例如 2024-05-20 14:30）") in said
    assert any(column == "档案转递联系电话" and "脱敏" in reason for column, reason in said)
    assert any(column == "转递编号" and reason.startswith("转递编号应为") for column, reason in said)


# --- each fast path against its validator, on made-up cells -------------------------------

ALPHABET = "0123456789-: .*XxAaZzſ\u212a/年月日" + full_width("09Xx") + NBSP
FAST_FIELDS = [
    (model, name)
    for model in (rows.RosterRow, rows.RegistrationRow)
    for name in model.model_fields
    if rows._validator(model, name) in rows._FAST
]


def _cells_of(name: str) -> st.SearchStrategy[str]:
    shaped = {
        "submitted_at": st.from_regex(
            r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,7})?)?)?\Z"
        ),
        "confirmed_at": st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}(:[0-9]{2})?)?\Z"),
        "graduation_date": st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z"),
        "id_number": st.builds(
            lambda origin, birth, seq, check: f"{origin}{birth:%Y%m%d}{seq}{check}",
            st.from_regex(r"\A[0-9]{6}\Z"),
            st.dates(),
            st.from_regex(r"\A[0-9]{3}\Z"),
            st.sampled_from("0123456789Xx"),
        ),
        "phone": st.from_regex(r"\A(\+86|0086)?-?[0-9]{0,4}-?[0-9]{3,8}(-[0-9]{1,4})?\Z"),
    }
    return shaped.get(name, st.nothing()) | st.text(ALPHABET, max_size=24)


@pytest.mark.parametrize(("model", "name"), FAST_FIELDS, ids=[f"{m.__name__}.{n}" for m, n in FAST_FIELDS])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_each_fast_path_accepts_only_what_its_validator_accepts_with_the_same_value(
    model: type[BaseModel], name: str, data: st.DataObject
) -> None:
    cells = data.draw(st.lists(_cells_of(name), min_size=1, max_size=30))
    frame = pl.DataFrame(
        {sources.ROW: list(range(len(cells))), name: cells}, schema={sources.ROW: pl.Int64, name: pl.String}
    )
    frame = imports._clean_frame(frame)  # cells reach the validators cleaned, as in an import
    fast, fast_errors = rows.validate_frame(frame, model, sources.ROW)
    slow, slow_errors = rows.validate_frame(frame, model, sources.ROW, fast=False)
    assert fast[name].to_list() == slow[name].to_list()
    assert sorted(fast_errors) == sorted(slow_errors)
