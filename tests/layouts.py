"""Files in the layouts offices really have, written by the tests: the national 毕业去向登记系统's
school-end export (就业方案导出), a school's 毕业派遣管理 export of archive addresses, a platform
roster (云就业 / 91job style: 院系名称, 生源地代码 + 生源地名称, no hukou column), a two-level
header, and hostile files (a sheet of 17 billion cells, a zip bomb, formulas without results).

The layouts follow public material: schools' published 就业方案 column lists (学号、姓名、性别、
生源地名称、生源地代码 … 毕业去向类别代码、毕业去向、单位名称 … 单位所在地代码、单位所在地、单位地址), and
scripts that fill 档案转递单 from a 派遣管理 export (姓名、生源地名称、档案转寄类型名称、身份证号、
手机号码、用人单位名称、档案转寄单位、转递编号). IDs are text cells, as the exports write them, unless
a test says otherwise.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.styles import Alignment

from tests.conftest import valid_id

TEXT = "@"  # Excel's text number format: what exports use for 学号, 身份证号, 邮编


def workbook(path: Path, sheets: list[tuple[str, list[list[Any]]]], *, text_columns: int = 0) -> Path:
    """Write sheets of rows; the first `text_columns` columns of every row are text cells."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        for row in sheet.iter_rows():
            for cell in row[:text_columns]:
                if isinstance(cell.value, str):
                    cell.number_format = TEXT
    book.save(path)
    return path


# --- the national system's school end: 就业方案导出 --------------------------------------------

NATIONAL_HEADER = [
    "学号",
    "姓名",
    "性别",
    "生源地名称",
    "生源地代码",
    "民族名称",
    "政治面貌",
    "城乡生源",
    "学历层次",
    "院系名称",
    "专业名称",
    "专业方向",
    "专业代码",
    "入学年月",
    "毕业日期",
    "培养方式",
    "委培单位",
    "学习形式",
    "毕业去向类别代码",
    "毕业去向",
    "签约日期",
    "单位名称",
    "统一社会信用代码",
    "留学院校外文名称",
    "单位性质代码",
    "单位性质",
    "单位行业代码",
    "单位行业",
    "单位所在地代码",
    "单位所在地",
    "单位地址",
    "工作职位类别代码",
    "工作职位类别",
]
# (code, name) pairs as such exports carry them, three-digit sub-codes and names in use included
NATIONAL_DESTINATIONS = [
    ("10", "签就业协议形式就业", "江西省纺织工业集团有限公司", "360102", "江西省南昌市东湖区"),
    ("271", "科研助理、管理助理", "南昌大学", "360103", "江西省南昌市西湖区"),
    ("512", "地方选调生", "中共赣州市委组织部", "360702", "江西省赣州市章贡区"),
    ("519", "其他地方基层项目", "吉安市青原区人民政府", "360803", "江西省吉安市青原区"),
    ("801", "研究生", "江西财经大学", "360111", "江西省南昌市青山湖区"),
    ("85", "境外留学", "University of Leeds", "", ""),
    ("70", "签约中", "", "", ""),
    ("70", "拟参加公招考试", "", "", ""),
    ("704", "拟创业", "", "", ""),  # a sub-code dangan's table does not list: counted under 70
    ("701", "求职中", "", "", ""),
]


def national_row(
    i: int, student_id: str | int, code: str, name: str, unit: str, place_code: str, place: str
) -> list[Any]:
    return [
        student_id,
        f"学生{i}",
        "女" if i % 2 else "男",
        "江西省南昌市东湖区",
        "360102",
        "汉族",
        "共青团员",
        "城镇",
        "本科生毕业",
        "服装设计学院",
        "服装与服饰设计",
        "",
        "130505",
        "2020-09",
        "2024-06-30",
        "非定向",
        "",
        "普通全日制",
        code,
        name,
        "2024-05-01" if unit else "",
        unit,
        "",
        "University of Leeds" if code == "85" else "",
        "",
        "",
        "",
        "",
        place_code,
        place,
        "",
        "",
        "",
    ]


def national_export(path: Path, student_ids: list[str | int], *, title: bool = True) -> Path:
    """The 就业方案 export: a title row, then the 33 national columns; 学号 as given (a str is a
    text cell, an int a number cell, as the national system writes them)."""
    rows: list[list[Any]] = [["江西服装学院2024届毕业生就业方案"]] if title else []
    rows.append(NATIONAL_HEADER)
    for i, sid in enumerate(student_ids):
        code, name, unit, place_code, place = NATIONAL_DESTINATIONS[i % len(NATIONAL_DESTINATIONS)]
        rows.append(national_row(i, sid, code, name, unit, place_code, place))
    return workbook(path, [("就业方案", rows)], text_columns=1)


# --- a school's 毕业派遣管理 export of archive addresses ------------------------------------------

DISPATCH_HEADER = [
    "序号",
    "学号",
    "姓名",
    "档案转寄类型名称",
    "档案转寄单位",
    "档案转递单位地址",
    "档案转寄联系人",
    "档案转寄联系电话",
    "档案转寄邮编",
    "班级",
    "转递编号",
    "提交时间",
]


def transfer_number(i: int) -> str:
    """A 转递编号 shaped like the samples seen (18 characters: cohort, 院校代码, 11 more)."""
    return f"2410001{i:04d}CYLAXKA"


def dispatch_row(i: int, **overrides: Any) -> dict[str, Any]:
    row = {
        "序号": i + 1,
        "学号": f"00240{i:05d}",
        "姓名": f"学生{i}",
        "档案转寄类型名称": "托管单位接收",
        "档案转寄单位": "南昌市人才服务中心",
        "档案转递单位地址": f"江西省南昌市东湖区八一大道{i + 100}号",
        "档案转寄联系人": "档案室",
        "档案转寄联系电话": "0791-86123456",
        "档案转寄邮编": "330000",
        "班级": f"服设20{i % 3}班",
        "转递编号": transfer_number(i),
        "提交时间": "2024-05-20 10:00:00",
    }
    row.update(overrides)
    return row


def dispatch_export(path: Path, rows: list[dict[str, Any]], header: list[str] | None = None) -> Path:
    header = header or DISPATCH_HEADER
    table = [["江西服装学院 2024届毕业生派遣管理（档案转寄信息）"], header] + [
        [r.get(h, "") for h in header] for r in rows
    ]
    return workbook(path, [("派遣管理", table)], text_columns=3)


# --- a platform roster (云就业 / 91job style) -------------------------------------------------------

PLATFORM_ROSTER_HEADER = [
    "序号",
    "学号",
    "姓名",
    "性别",
    "院系名称",
    "专业名称",
    "班级",
    "学历层次",
    "生源地代码",
    "生源地名称",
    "身份证号",
    "手机号码",
    "辅导员",
]


def platform_roster_row(i: int, **overrides: Any) -> dict[str, Any]:
    row = {
        "序号": i + 1,
        "学号": f"00240{i:05d}",
        "姓名": f"学生{i}",
        "性别": "女" if i % 2 else "男",
        "院系名称": ["服装设计学院", "商学院"][i % 2],
        "专业名称": "服装与服饰设计",
        "班级": f"服设20{i % 3}班",
        "学历层次": "本科生毕业",
        "生源地代码": "360102",
        "生源地名称": "江西省南昌市东湖区",
        "身份证号": valid_id(i),
        "手机号码": f"138{i:08d}",
        "辅导员": "王老师",
    }
    row.update(overrides)
    return row


def platform_roster(path: Path, rows: list[dict[str, Any]], header: list[str] | None = None) -> Path:
    header = header or PLATFORM_ROSTER_HEADER
    return workbook(path, [("学生名单", [header] + [[r.get(h, "") for h in header] for r in rows])], text_columns=2)


# --- a two-level header: 档案转递单位 merged over its parts -----------------------------------------

TWO_LEVEL_TOP = ["学号", "姓名", "档案转递类型", "档案转递单位", "", "", "", "", "", "", "", "情况说明", "提交时间"]
TWO_LEVEL_SUB = ["", "", "", "名称", "省", "市", "区", "详细地址", "邮编", "联系人", "联系电话", "", ""]


def two_level_export(path: Path, count: int, sub: list[str] | None = None) -> Path:
    sub = sub or TWO_LEVEL_SUB
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "档案转递"
    sheet.append(TWO_LEVEL_TOP)
    sheet.append(sub)
    for i in range(count):
        sheet.append(
            [
                f"00240{i:05d}",
                f"学生{i}",
                "托管单位接收",
                "南昌市人才服务中心",
                "江西省",
                "南昌市",
                "东湖区",
                f"八一大道{i + 200}号",
                "330000",
                "档案室",
                "0791-86123456",
                "托管",
                "2024-05-21 09:00",
            ]
        )
    sheet.merge_cells("D1:K1")
    for column in ("A", "B", "C", "L", "M"):
        sheet.merge_cells(f"{column}1:{column}2")
    sheet["D1"].alignment = Alignment(horizontal="center")
    book.save(path)
    return path


# --- hostile files ----------------------------------------------------------------------------------


def far_cell(path: Path) -> Path:
    """5 KB: a header, one row, and one blank (styled) cell at XFD1048576, the last cell Excel has."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["学号", "姓名", "学院"])
    sheet.append(["0024000001", "学生1", "商学院"])
    sheet.cell(row=1_048_576, column=16_384).number_format = TEXT
    sheet.cell(row=1_048_576, column=16_384).value = ""
    book.save(path)
    return path


def rewrite_sheet(source: Path, target: Path, change: Any) -> Path:
    """A copy of an xlsx with its first sheet's XML changed by `change(bytes) -> bytes`."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = change(data)
            zout.writestr(item.filename, data)
    return target


def sparse_sheet(path: Path, work: Path) -> Path:
    """A few KB, no declared dimension, and a cell at GR1000000: 200 million cells to allocate."""
    far_cell(work)

    def change(data: bytes) -> bytes:
        data = re.sub(rb'<dimension ref="[^"]*"\s*/>', b"", data)
        return re.sub(
            rb'<row r="1048576".*?</row>',
            b'<row r="1000000"><c r="GR1000000" t="inlineStr"><is><t>x</t></is></c></row>',
            data,
            flags=re.S,
        )

    return rewrite_sheet(work, path, change)


def zip_bomb(path: Path, work: Path, megabytes: int = 2048) -> Path:
    """About 2 MB that unpack to `megabytes` MB of whitespace inside the sheet."""
    far_cell(work)
    with zipfile.ZipFile(work) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename != "xl/worksheets/sheet1.xml":
                zout.writestr(item.filename, data)
                continue
            head, tail = data.split(b"<sheetData>", 1)
            with zout.open(item.filename, "w", force_zip64=True) as out:
                out.write(head + b"<sheetData>")
                blob = b" " * (1 << 20)
                for _ in range(megabytes):
                    out.write(blob)
                out.write(tail)
    return path
