"""Files as offices really have them (#14): the national system's and schools' layouts, every
column accounted for, code + name pairs, 转递编号, numbers stored as numbers, two-level headers,
invisible characters, and hostile files that must never hurt the process reading them."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from pipelines import cli, imports, reports, selfservice, statistics
from pipelines.imports import ImportRefused
from pipelines.rules.filters import Filters
from pipelines.store import SYSTEM, Store
from tests import layouts
from tests.conftest import (
    REGISTRATION_HEADER,
    ROSTER_HEADER,
    data_snapshot,
    registration_row,
    roster_row,
    table,
    write_csv,
    write_xlsx,
)


def _sid(i: int) -> str:
    return f"00240{i:05d}"


def roster(store: Store, tmp_path: Path, n: int = 6, **overrides: str) -> None:
    rows = [roster_row(i, **overrides) for i in range(n)]
    imports.import_file(store, SYSTEM, "roster", write_csv(tmp_path / "roster.csv", ROSTER_HEADER, rows))


def refused(store: Store, kind: str, path: Path, **kwargs: object) -> ImportRefused:
    before = data_snapshot(store)
    with pytest.raises(ImportRefused) as caught:
        imports.import_file(store, SYSTEM, kind, path, **kwargs)  # type: ignore[arg-type]
    assert data_snapshot(store) == before, "a refused import must write nothing"
    return caught.value


# --- every column accounted for -----------------------------------------------------------------


def test_the_dispatch_layout_stores_unit_postcode_contact_phone_and_the_transfer_number(
    store: Store, tmp_path: Path
) -> None:
    roster(store, tmp_path, 4)
    path = layouts.dispatch_export(tmp_path / "派遣管理.xlsx", [layouts.dispatch_row(i) for i in range(4)])
    result = imports.import_file(store, SYSTEM, "registrations", path)
    assert (result.inserted, result.refused) == (4, 0)
    got = table(
        store,
        "select unit_name, postcode, contact, phone, transfer_number, province, city, district, address_detail "
        "from registrations where student_id = ?",
        [_sid(2)],
    )
    assert got == [
        (
            "南昌市人才服务中心",
            "330000",
            "档案室",
            "0791-86123456",
            layouts.transfer_number(2),
            "江西省",
            "南昌市",
            "东湖区",
            "八一大道102号",
        )
    ]
    # every header is either a field or listed as not imported
    assert dict(result.mapping)["档案转寄单位"] == "档案转递单位名称"
    assert dict(result.mapping)["转递编号"] == "转递编号"
    assert result.ignored == ["“序号”（A 列）", "“班级”（J 列）"]
    assert any("没有情况说明列" in w for w in result.warnings)


def test_a_needed_column_under_an_unknown_name_refuses_the_file_naming_field_aliases_and_headers(
    store: Store, tmp_path: Path
) -> None:
    roster(store, tmp_path, 2)
    header = [h if h != "档案转寄单位" else "收件单位全称" for h in layouts.DISPATCH_HEADER]
    rows = [{**layouts.dispatch_row(i), "收件单位全称": "南昌市人才服务中心"} for i in range(2)]
    error = refused(store, "registrations", layouts.dispatch_export(tmp_path / "d.xlsx", rows, header))
    message = str(error)
    assert "缺少必需的列“档案转递单位名称”" in message
    assert "档案转寄单位" in message and "档案接收单位" in message and "收档单位名称" in message  # what is accepted
    assert "“收件单位全称”（E 列）" in message  # and what the file has that was not recognised


def test_a_roster_headed_yuanxi_mingcheng_imports_and_says_which_names_it_accepts(store: Store, tmp_path: Path) -> None:
    result = imports.import_file(
        store,
        SYSTEM,
        "roster",
        layouts.platform_roster(tmp_path / "名单.xlsx", [layouts.platform_roster_row(i) for i in range(4)]),
    )
    assert result.inserted == 4 and dict(result.mapping)["院系名称"] == "学院"
    assert table(store, "select count(distinct college_name) from graduates") == [(2,)]
    header = [h for h in layouts.PLATFORM_ROSTER_HEADER if h != "院系名称"]
    error = refused(
        store, "roster", layouts.platform_roster(tmp_path / "n2.xlsx", [layouts.platform_roster_row(0)], header)
    )
    assert "缺少必需的列“学院”（可用的表头：学院、院系、院系名称、学院名称、所在院系" in str(error)


def test_two_columns_for_one_field_are_refused_naming_both(store: Store, tmp_path: Path) -> None:
    header = [*ROSTER_HEADER, "院系名称"]
    rows = [roster_row(0, 院系名称="商学院")]
    error = refused(store, "roster", write_csv(tmp_path / "r.csv", header, rows))
    assert "“学院”（第 5 列）和“院系名称”（第 15 列）都对应“学院”" in str(error)


def test_a_two_level_header_is_read_whole(store: Store, tmp_path: Path) -> None:
    roster(store, tmp_path, 3)
    result = imports.import_file(store, SYSTEM, "registrations", layouts.two_level_export(tmp_path / "two.xlsx", 3))
    assert result.inserted == 3 and result.ignored == []
    assert table(
        store,
        "select unit_name, province, city, district, address_detail, postcode, contact, phone "
        "from registrations where student_id = ?",
        [_sid(1)],
    ) == [("南昌市人才服务中心", "江西省", "南昌市", "东湖区", "八一大道201号", "330000", "档案室", "0791-86123456")]
    assert dict(result.mapping)["档案转递单位 / 联系电话"] == "档案转递联系电话"


def test_a_two_level_header_with_an_unknown_part_is_refused_not_half_read(store: Store, tmp_path: Path) -> None:
    roster(store, tmp_path, 2)
    sub = [*layouts.TWO_LEVEL_SUB]
    sub[9] = "经办人签字"  # instead of 联系人
    error = refused(store, "registrations", layouts.two_level_export(tmp_path / "two.xlsx", 2, sub))
    assert "两级表头“档案转递单位”下的 “档案转递单位 / 经办人签字” 无法识别，未导入任何数据" in str(error)


# --- national code tables ------------------------------------------------------------------------


def test_destinations_with_three_digit_codes_and_the_names_in_use_all_import(store: Store, tmp_path: Path) -> None:
    roster(store, tmp_path, 10)
    path = layouts.national_export(tmp_path / "就业方案.xlsx", [_sid(i) for i in range(10)])
    result = imports.import_file(store, SYSTEM, "destinations", path)
    assert (result.inserted, result.refused) == (10, 0)
    codes = dict(table(store, "select student_id, destination_code from destinations"))
    assert [codes[_sid(i)] for i in range(10)] == ["10", "271", "512", "519", "801", "85", "70", "70", "704", "701"]
    names = dict(table(store, "select student_id, destination_name from destinations"))
    assert names[_sid(6)] == "签约中" and names[_sid(7)] == "拟参加公招考试"
    assert any("704 → 70 待就业" in w for w in result.warnings)  # an unlisted sub-code, counted under its class
    locations = dict(table(store, "select student_id, employer_location from destinations"))
    assert locations[_sid(2)] == "江西省赣州市章贡区"
    with store.reading(SYSTEM) as reader:
        counts = statistics.pivot_rows(reader, 2024, Filters(), "none").row(0, named=True)
    # 10 271 512 519 employed; 801 85 further study; 70 70 704 701 not placed
    assert (counts["employed"], counts["further_study"], counts["not_placed"]) == (4, 2, 4)


def test_a_name_alone_is_read_as_its_code(store: Store, tmp_path: Path) -> None:
    roster(store, tmp_path, 5)
    rows = [
        {"学号": _sid(i), "姓名": f"学生{i}", "毕业去向": name}
        for i, name in enumerate(["研究生", "境外留学", "地方选调生", "签约中", "拟参加公招考试"])
    ]
    imports.import_file(
        store, SYSTEM, "destinations", write_csv(tmp_path / "d.csv", ["学号", "姓名", "毕业去向"], rows)
    )
    assert [c for _, c in sorted(table(store, "select student_id, destination_code from destinations"))] == [
        "801",
        "85",
        "512",
        "70",
        "70",
    ]


def test_a_code_and_a_name_that_disagree_refuse_the_row_naming_both(store: Store, tmp_path: Path) -> None:
    roster(store, tmp_path, 2)
    rows = [
        {"学号": _sid(0), "姓名": "学生0", "毕业去向代码": "10", "毕业去向": "研究生"},
        {"学号": _sid(1), "姓名": "学生1", "毕业去向代码": "502", "毕业去向": "国家基层项目"},
    ]  # a class and its sub-code agree
    error = refused(
        store, "destinations", write_csv(tmp_path / "d.csv", ["学号", "姓名", "毕业去向代码", "毕业去向"], rows)
    )
    assert [(e.row, e.value) for e in error.errors] == [(2, "10 / 研究生")]
    assert "代码 10 是“签就业协议形式就业”，名称却是“研究生”" in error.errors[0].reason


def test_an_origin_code_and_name_that_disagree_refuse_the_row(store: Store, tmp_path: Path) -> None:
    rows = [roster_row(0), roster_row(1, 生源地="广东省深圳市")]
    error = refused(store, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, rows))
    assert [(e.row, e.value) for e in error.errors] == [(3, "360102 / 广东省深圳市")]
    assert "代码 360102 是江西省南昌市东湖区，名称“广东省深圳市”却在广东省" in error.errors[0].reason


@pytest.mark.parametrize(
    ("word", "stage", "levels"),
    [
        ("待审核", "pending_college", []),
        ("院审核通过", "pending_school", [("college", "approve")]),
        ("校审核通过", "approved", [("college", "approve"), ("school", "approve")]),
        ("院审核不通过", "returned", [("college", "return")]),
        ("校审核不通过", "returned", [("college", "approve"), ("school", "return")]),
    ],
)
def test_review_status_words_of_real_systems(
    store: Store, tmp_path: Path, word: str, stage: str, levels: list[tuple[str, str]]
) -> None:
    roster(store, tmp_path, 1)
    path = write_csv(
        tmp_path / "g.csv", REGISTRATION_HEADER, [registration_row(0, 审核状态=word, 退回原因="地址不详细")]
    )
    imports.import_file(store, SYSTEM, "registrations", path)
    assert table(store, "select stage from graduate_stages") == [(stage,)]
    assert table(store, "select level, decision from reviews order by review_id") == levels
    again = imports.import_file(store, SYSTEM, "registrations", path)  # the same export again changes nothing
    assert again.unchanged == 1 and not any("不能从" in w for w in again.warnings)


# --- no silent assumptions -----------------------------------------------------------------------


def test_a_roster_without_the_hukou_column_records_unknown_and_says_so(store: Store, tmp_path: Path) -> None:
    first = [roster_row(0, 户口是否迁入学校="是"), roster_row(1, 户口是否迁入学校="否")]
    imports.import_file(store, SYSTEM, "roster", write_csv(tmp_path / "r1.csv", ROSTER_HEADER, first))
    header = [h for h in ROSTER_HEADER if h != "户口是否迁入学校"]
    rows = [roster_row(i, 班主任="李老师") for i in range(3)]
    result = imports.import_file(store, SYSTEM, "roster", write_csv(tmp_path / "r2.csv", header, rows))
    assert any("户口记为“未知”" in w for w in result.warnings)
    # the new graduate: unknown, not "not at the school"; the others keep what the store knew
    assert table(store, "select student_id, is_hukou_at_school, advisor from graduates order by 1") == [
        (_sid(0), True, "李老师"),
        (_sid(1), False, "李老师"),
        (_sid(2), None, "李老师"),
    ]
    # unknown hukou: the graduate may register it (the page says why), and a hukou report follows it
    selfservice.record_hukou(store, SYSTEM, _sid(2), "origin", "江西省", "南昌市", "东湖区", "八一大道 1 号")
    with pytest.raises(selfservice.SubmissionRefused, match="无需登记户口信息"):
        selfservice.record_hukou(store, SYSTEM, _sid(1), "origin", "江西省", "南昌市", "东湖区", "八一大道 1 号")


def test_the_office_confirm_applies_the_graduates_prerequisites(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster(store, tmp_path, 1)
    imports.import_file(
        store,
        SYSTEM,
        "registrations",
        write_csv(tmp_path / "g.csv", REGISTRATION_HEADER, [registration_row(0, 审核状态="已通过")]),
    )
    db = ["--db", str(store.path), "--today", "2024-06-10"]
    assert cli.main([*db, "graduate", "confirm", "--student", _sid(0)]) == 1
    assert "尚未填报毕业去向，不能确认登记去向" in capsys.readouterr().err
    assert table(store, "select count(*) from confirmations") == [(0,)]
    assert cli.main([*db, "graduate", "destination", "--student", _sid(0), "--code", "70"]) == 0
    assert cli.main([*db, "graduate", "confirm", "--student", _sid(0)]) == 0
    # an import still records the national system's confirmation as it holds it
    assert table(store, "select count(*) from confirmations where answer = 'confirmed'") == [(1,)]


# --- report numbers and 转递编号 ------------------------------------------------------------------


def test_the_seed_numbers_verify_and_a_new_number_carries_the_school_code(store: Store, tmp_path: Path) -> None:
    roster(store, tmp_path, 1)
    imports.import_file(
        store,
        SYSTEM,
        "registrations",
        layouts.dispatch_export(tmp_path / "d.xlsx", [layouts.dispatch_row(0, 档案转寄类型名称="转回生源地")]),
    )
    selfservice.record_destination(store, SYSTEM, _sid(0), "70", "", "")
    from pipelines import reviews
    from pipelines.rules import workflow

    for level in ("college", "school"):
        reviews.decide_current(store, SYSTEM, _sid(0), workflow.Decision(level, "approve"))
    reports.confirm(store, SYSTEM, _sid(0))
    issued = reports.issue(store, SYSTEM, _sid(0), "archive", date(2024, 12, 30))
    assert issued.report_number.startswith("2410001") and len(issued.report_number) == 15
    # the PDF for the archive bag prints the 转递编号 beside the 核验编号
    from pipelines import report_pdf

    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(report_pdf.render(reports.documents(store, SYSTEM, [issued.report_id])))
    printed = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert layouts.transfer_number(0) in printed and issued.report_number in printed and "转递编号" in printed
    with store.reading(SYSTEM) as reader:
        assert reports.verify_any(reader, "学生0", issued.report_number).valid
        # by 姓名 + 转递编号 too, under the same 未找到 for a wrong part
        by_transfer = reports.verify_any(reader, "学生0", layouts.transfer_number(0))
        assert by_transfer.valid and by_transfer.unit_name == "南昌市人才服务中心"
        assert not reports.verify_any(reader, "学生9", layouts.transfer_number(0)).found
        assert not reports.verify_any(reader, "学生0", layouts.transfer_number(1)).found
        assert reports.verify_any(reader, "学生0", "241000186KCVW56").label == "未找到"  # the seed's shape, not ours


def test_the_transfer_number_is_printed_on_the_report_and_in_the_exports(store: Store, tmp_path: Path) -> None:
    roster(store, tmp_path, 1)
    imports.import_file(
        store,
        SYSTEM,
        "registrations",
        layouts.dispatch_export(tmp_path / "d.xlsx", [layouts.dispatch_row(0, 档案转寄类型名称="转回生源地")]),
    )
    out = tmp_path / "审核结果.csv"
    assert (
        cli.main(
            ["--db", str(store.path), "--today", "2024-06-10", "review", "export", "--out", str(out), "--unmasked"]
        )
        == 0
    )
    with out.open(encoding="utf-8-sig") as fh:
        exported = list(csv.DictReader(fh))
    assert exported[0]["转递编号"] == layouts.transfer_number(0)
    # the export imports back unchanged, the number included
    again = imports.import_file(store, SYSTEM, "registrations", out)
    assert again.unchanged == 1
    # a graduate's own resubmission keeps the national number
    from pipelines import reviews, submissions
    from pipelines.rules import workflow
    from tests.conftest import SUBMISSION_FORM

    reviews.decide_current(store, SYSTEM, _sid(0), workflow.Decision("college", "return", "地址不详细"))
    submissions.submit(store, SYSTEM, _sid(0), SUBMISSION_FORM)
    assert table(store, "select revision_no, transfer_number from registrations order by 1") == [
        (1, layouts.transfer_number(0)),
        (2, layouts.transfer_number(0)),
    ]


# --- numbers, line endings, invisible characters ---------------------------------------------------


def test_a_numeric_student_id_that_lost_its_zeros_is_refused_naming_the_row(store: Store, tmp_path: Path) -> None:
    rows = [roster_row(0), roster_row(1), roster_row(2, 学号=int(_sid(2)))]  # 0024000002 -> the number 24000002
    error = refused(store, "roster", write_xlsx(tmp_path / "r.xlsx", ROSTER_HEADER, rows))
    assert [(e.row, e.column, e.value) for e in error.errors] == [(4, "学号", "24000002")]
    assert "前导 0 可能已被 Excel 去掉（补足前导 0 应为 0024000002）" in error.errors[0].reason
    # against the roster in the store too: a registrations file of numbers only
    roster(store, tmp_path, 3)
    reg = [registration_row(2, 学号=int(_sid(2)))]
    error = refused(store, "registrations", write_xlsx(tmp_path / "g.xlsx", REGISTRATION_HEADER, reg))
    assert "名单中有学号 0024000002" in error.errors[0].reason


def test_whole_numeric_student_ids_are_kept(store: Store, tmp_path: Path) -> None:
    """The national export writes 学号 as numbers; nothing says a digit is missing."""
    path = layouts.national_export(tmp_path / "方案.xlsx", [7201607003 + i for i in range(3)])
    result = imports.import_file(store, SYSTEM, "roster", path)
    assert result.inserted == 3
    assert [s for (s,) in table(store, "select student_id from graduates order by 1")] == [
        "7201607003",
        "7201607004",
        "7201607005",
    ]


def test_a_csv_with_old_mac_line_endings_reads_every_row(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(i) for i in range(3)])
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\r"))
    assert imports.import_file(store, SYSTEM, "roster", path).inserted == 3


def test_invisible_characters_are_removed_and_listed(store: Store, tmp_path: Path) -> None:
    rows = [
        roster_row(0, 姓名="学\u200b生0"),
        roster_row(1, 姓名="\u202e学生1\u200e"),
        roster_row(2, 姓名="学生\u00ad2\x00"),
        roster_row(3, 班主任="王\ufeff老师"),
    ]
    result = imports.import_file(store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, rows))
    assert [n for (n,) in table(store, "select name from graduates order by student_id")] == [
        "学生0",
        "学生1",
        "学生2",
        "学生3",
    ]
    said = next(w for w in result.warnings if w.startswith("已去除不可见字符"))
    assert "姓名 列 3 个单元格" in said and "U+202E 从右到左覆盖 RLO" in said and "U+0000 NUL 空字符" in said
    assert "班主任 列 1 个单元格" in said


# --- messages that name the real cause --------------------------------------------------------------


def test_data_on_the_second_sheet_is_read_and_the_summary_says_so(store: Store, tmp_path: Path) -> None:
    rows = [[roster_row(i)[h] for h in ROSTER_HEADER] for i in range(2)]
    path = layouts.workbook(
        tmp_path / "r.xlsx",
        [("填表说明", [["请按第二个工作表填写"], ["学号为文本"]]), ("名单", [ROSTER_HEADER, *rows])],
    )
    result = imports.import_file(store, SYSTEM, "roster", path)
    assert result.inserted == 2 and any("数据取自第 2 个工作表“名单”" in w for w in result.warnings)
    both = layouts.workbook(
        tmp_path / "two.xlsx", [("服装设计学院", [ROSTER_HEADER, rows[0]]), ("商学院", [ROSTER_HEADER, rows[1]])]
    )
    assert "有 2 个工作表都有毕业生名单的表头：“服装设计学院”、“商学院”" in str(refused(store, "roster", both))


def test_a_formula_without_a_result_and_an_na_cell_are_named_as_such(store: Store, tmp_path: Path) -> None:
    rows = [roster_row(0), roster_row(1, 姓名="=VLOOKUP(A3,Sheet2!A:B,2,0)"), roster_row(2, 姓名="#N/A")]
    error = refused(store, "roster", write_xlsx(tmp_path / "r.xlsx", ROSTER_HEADER, rows))
    reasons = {e.row: e.reason for e in error.errors}
    assert "公式但没有计算结果" in reasons[3] and "错误值 #N/A" in reasons[4]
    assert not any("不能为空" in r for r in reasons.values())


def test_a_refused_import_leaves_an_audit_row(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(0, 手机号码="1234")])
    refused(store, "roster", path)
    ((detail,),) = table(store, "select detail from audit_log where action = 'import:roster'")
    detail = json.loads(detail)
    assert detail["outcome"] == "refused" and len(detail["sha256"]) == 64 and "手机号码" in detail["reasons"][0]


def test_the_refused_rows_file_is_formula_guarded(store: Store, tmp_path: Path) -> None:
    rows = [roster_row(0), roster_row(1, 姓名='=HYPERLINK("http://evil.example/x","点此")', 手机号码="1234")]
    result = imports.import_file(
        store, SYSTEM, "roster", write_csv(tmp_path / "r.csv", ROSTER_HEADER, rows), skip_invalid=True
    )
    assert result.refused_file is not None
    with result.refused_file.open(encoding="utf-8-sig") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert '\'=HYPERLINK("http://evil.example/x","点此")' in cells
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)


@pytest.mark.slow
def test_libreoffice_opens_the_refused_rows_file_without_running_a_formula(store: Store, tmp_path: Path) -> None:
    """What the attack run did: open the refused rows in LibreOffice Calc. Every cell must come
    back as text, none as a formula."""
    rows = [
        roster_row(0),
        roster_row(1, 姓名='=HYPERLINK("http://evil.example/x","点此")', 手机号码="1234"),
        roster_row(2, 班主任="+1+1", 手机号码="1234"),
        roster_row(3, 专业="@SUM(1,2)", 手机号码="1234"),
    ]
    result = imports.import_file(
        store,
        SYSTEM,
        "roster",
        write_csv(tmp_path / "r.csv", ROSTER_HEADER, rows),
        skip_invalid=True,
        refused_path=tmp_path / "refused.csv",
    )
    assert result.refused == 3
    subprocess.run(
        [
            "soffice",
            "--headless",
            "--infilter=CSV:44,34,76,1",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(tmp_path),
            str(tmp_path / "refused.csv"),
        ],
        check=True,
        capture_output=True,
        timeout=180,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    sheet = openpyxl.load_workbook(tmp_path / "refused.xlsx").active
    kinds = {cell.data_type for row in sheet.iter_rows() for cell in row if cell.value is not None}
    assert "f" not in kinds
    texts = [cell.value for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert '\'=HYPERLINK("http://evil.example/x","点此")' in texts and "'+1+1" in texts and "'@SUM(1,2)" in texts


# --- preview ---------------------------------------------------------------------------------------


def test_a_dry_run_shows_mapping_counts_and_refusals_and_writes_nothing(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster(store, tmp_path, 3)
    rows = [layouts.dispatch_row(0), layouts.dispatch_row(1, 档案转寄类型名称="寄回家"), layouts.dispatch_row(7)]
    path = layouts.dispatch_export(tmp_path / "d.xlsx", rows)
    before = data_snapshot(store)
    audits = table(store, "select count(*) from audit_log")
    db = ["--db", str(store.path), "--today", "2024-06-10"]
    assert cli.main([*db, "import", "registrations", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "预览（未写入任何数据） d.xlsx：读取 3 行，新增 1，更新 0，未变 0，拒绝 2" in out
    assert "档案转寄单位 → 档案转递单位名称" in out and "未导入的列：“序号”（A 列）、“班级”（J 列）" in out
    assert "第 4 行，“档案转寄类型名称”列（值：寄回家）" in out and "第 5 行，“学号”列（值：0024000007）" in out
    assert data_snapshot(store) == before and table(store, "select count(*) from audit_log") == audits


# --- hostile files ---------------------------------------------------------------------------------


def _cli(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("build", ["far_cell", "sparse", "bomb"])
def test_a_hostile_workbook_is_refused_with_a_message_and_no_backtrace(
    store: Store, tmp_path: Path, build: str
) -> None:
    path = tmp_path / f"{build}.xlsx"
    if build == "far_cell":
        layouts.far_cell(path)
    elif build == "sparse":
        layouts.sparse_sheet(path, tmp_path / "work.xlsx")
    else:
        layouts.zip_bomb(path, tmp_path / "work.xlsx")
    done = _cli(["--db", str(store.path), "--today", "2024-06-10", "import", "roster", str(path)])
    assert done.returncode == 1, done.stderr
    expected = {
        "far_cell": "（范围 A1:XFD1048576）有 16,384 列，超过上限",
        "sparse": "200,000,000 个单元格，超过上限",
        "bomb": "压缩比为",
    }[build]
    assert expected in done.stderr
    assert "panicked" not in done.stderr and "backtrace" not in done.stderr.lower() and "Traceback" not in done.stderr
    ((detail,),) = table(store, "select detail from audit_log where action = 'import:roster'")
    assert json.loads(detail)["outcome"] == "refused"


@pytest.mark.slow
def test_a_workbook_that_exhausts_the_reader_is_explained_and_the_caller_survives(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The declared size lies (A1:C2) and the cells span 200 million: calamine's allocation
    fails in the capped child; the caller gets the measured reason and goes on."""

    def lie(data: bytes) -> bytes:
        import re

        return re.sub(
            rb"<sheetData>",
            b'<dimension ref="A1:C2"/><sheetData>',
            re.sub(rb'<dimension ref="[^"]*"\s*/>', b"", data),
            count=1,
        )

    layouts.sparse_sheet(tmp_path / "sparse.xlsx", tmp_path / "work.xlsx")
    lying = layouts.rewrite_sheet(tmp_path / "sparse.xlsx", tmp_path / "lying.xlsx", lie)
    error = refused(store, "roster", lying)
    assert "1,000,000 行 × 200 列" in str(error)
    # the same process imports the next file normally
    assert (
        imports.import_file(
            store, SYSTEM, "roster", write_xlsx(tmp_path / "ok.xlsx", ROSTER_HEADER, [roster_row(1)])
        ).inserted
        == 1
    )


def test_the_kind_of_file_is_detected_from_its_headers(tmp_path: Path) -> None:
    assert (
        imports.detect_kind(layouts.platform_roster(tmp_path / "a.xlsx", [layouts.platform_roster_row(0)])) == "roster"
    )
    assert (
        imports.detect_kind(layouts.dispatch_export(tmp_path / "b.xlsx", [layouts.dispatch_row(0)])) == "registrations"
    )
    assert imports.detect_kind(layouts.national_export(tmp_path / "c.xlsx", ["0024000000"])) in (
        "roster",
        "destinations",
    )
    assert imports.detect_kind(write_csv(tmp_path / "d.csv", ["学号", "姓名", "毕业去向代码"], [])) == "destinations"
    notes = tmp_path / "notes.csv"
    notes.write_text("今天天气很好\n", encoding="utf-8")
    assert imports.detect_kind(notes) is None
    # detection reads only the first rows' XML, never the sheet: the far-cell file is told by its
    # header (and refused, with the reason, when it is previewed)
    assert imports.detect_kind(layouts.far_cell(tmp_path / "far.xlsx")) == "roster"
