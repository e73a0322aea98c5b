"""Import pipelines over real files the tests write: messy encodings, layouts and values."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipelines import imports
from pipelines.imports import ImportRefused
from pipelines.store import SYSTEM, Store
from tests.conftest import (
    REGISTRATION_HEADER,
    ROSTER_HEADER,
    data_snapshot,
    registration_row,
    roster_row,
    table,
    valid_id,
    write_csv,
    write_xlsx,
)


def load_roster(store: Store, tmp_path: Path, n: int = 5) -> Path:
    path = write_csv(tmp_path / "roster.csv", ROSTER_HEADER, [roster_row(i) for i in range(n)])
    imports.import_file(store, SYSTEM, "roster", path)
    return path


def refused(store: Store, kind: str, path: Path, **kwargs: object) -> list[imports.RowError]:
    before = data_snapshot(store)
    with pytest.raises(ImportRefused) as caught:
        imports.import_file(store, SYSTEM, kind, path, **kwargs)  # type: ignore[arg-type]
    assert data_snapshot(store) == before, "a refused import must write nothing"
    return caught.value.errors


# --- roster ------------------------------------------------------------------------------


def test_gbk_csv_with_title_rows_keeps_leading_zeros_and_normalises_full_width(store: Store, tmp_path: Path) -> None:
    rows = [
        roster_row(1, 手机号码="１３８００００１１１１"),
        roster_row(2, 身份证号=valid_id(2).lower().replace("x", "ｘ")),
    ]
    path = write_csv(
        tmp_path / "名单.csv",
        ROSTER_HEADER,
        rows,
        encoding="gbk",
        title_rows=["江西服装学院2024届毕业生名单", "导出时间：2024-06-01"],
    )
    result = imports.import_file(store, SYSTEM, "roster", path)
    assert (result.inserted, result.refused) == (2, 0)
    got = table(store, "select student_id, name, phone, college_name from graduates order by student_id")
    assert got == [
        ("0024000001", "学生1", "13800001111", "商学院"),
        ("0024000002", "学生2", "13800000002", "服装设计学院"),
    ]


def test_utf8_bom_csv_imports(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", ROSTER_HEADER, [roster_row(7)], encoding="utf-8-sig")
    assert imports.import_file(store, SYSTEM, "roster", path).inserted == 1


def test_xlsx_with_blank_and_title_rows_reports_the_row_excel_shows(store: Store, tmp_path: Path) -> None:
    rows = [roster_row(1), roster_row(2, 身份证号="360102200103150013"), roster_row(3)]
    path = write_xlsx(tmp_path / "roster.xlsx", ROSTER_HEADER, rows, title_rows=["2024届名单"], blank_rows_above=2)
    # rows 1-2 blank, 3 title, 4 header, 5-7 data: the bad ID is on Excel row 6
    errors = refused(store, "roster", path)
    assert [(e.row, e.column, e.value) for e in errors] == [(6, "身份证号", "360102200103150013")]
    assert "校验位" in errors[0].reason
    assert "roster.xlsx 第 6 行，“身份证号”列（值：360102200103150013）" in str(errors[0])


def test_excel_serial_dates_are_parsed(store: Store, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "roster.xlsx", ROSTER_HEADER, [roster_row(1, 毕业时间=45473)])
    imports.import_file(store, SYSTEM, "roster", path)
    assert table(store, "select graduation_date::varchar from graduates") == [("2024-06-30",)]


def test_an_id_stored_as_a_number_is_refused_because_digits_are_lost(store: Store, tmp_path: Path) -> None:
    as_number = int(valid_id(5, birth="20020202"))
    path = write_xlsx(tmp_path / "roster.xlsx", ROSTER_HEADER, [roster_row(1, 身份证号=as_number)])
    errors = refused(store, "roster", path)
    assert len(errors) == 1 and "Excel 转成了数字" in errors[0].reason and errors[0].row == 2


def test_an_id_in_scientific_notation_is_refused(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "roster.csv", ROSTER_HEADER, [roster_row(1, 身份证号="3.60102E+17")])
    errors = refused(store, "roster", path)
    assert errors[0].column == "身份证号" and "无法恢复" in errors[0].reason


def test_duplicate_student_ids_refuse_the_file_and_name_both_rows(store: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "roster.csv", ROSTER_HEADER, [roster_row(1), roster_row(2), roster_row(1, 姓名="重复")])
    errors = refused(store, "roster", path)
    assert [(e.row, e.reason) for e in errors] == [(4, "学号与第 2 行重复")]


def test_missing_required_column_is_named(store: Store, tmp_path: Path) -> None:
    header = [h for h in ROSTER_HEADER if h != "学院"]
    path = write_csv(tmp_path / "roster.csv", header, [roster_row(1)])
    errors = refused(store, "roster", path)
    assert str(errors[0]) == (
        "roster.csv：文件 roster.csv 缺少必需的列“学院”（可用的表头：学院、院系、院系名称、学院名称、"
        "所在院系、所在学院、二级学院、培养单位）"
    )


def test_empty_file_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert "是空的" in refused(store, "roster", path)[0].reason


def test_a_text_file_named_xlsx_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("学号,姓名\n1,张三\n", encoding="utf-8")
    assert "不是 Excel 表格" in refused(store, "roster", path)[0].reason


def test_a_file_without_a_header_row_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("今天天气很好\n明天也不错\n", encoding="utf-8")
    assert "没有找到毕业生名单的表头行" in refused(store, "roster", path)[0].reason


def test_one_bad_row_refuses_the_whole_file(store: Store, tmp_path: Path) -> None:
    rows = [roster_row(i) for i in range(50)]
    rows[30]["手机号码"] = "1234"
    rows[40]["学院"] = ""
    errors = refused(store, "roster", write_csv(tmp_path / "roster.csv", ROSTER_HEADER, rows))
    assert [(e.row, e.column) for e in errors] == [(32, "手机号码"), (42, "学院")]
    assert errors[1].reason == "学院不能为空"


def test_skip_invalid_imports_the_rest_and_writes_the_refused_rows(store: Store, tmp_path: Path) -> None:
    rows = [roster_row(i) for i in range(5)]
    rows[2]["性别"] = "未知"
    result = imports.import_file(
        store, SYSTEM, "roster", write_csv(tmp_path / "roster.csv", ROSTER_HEADER, rows), skip_invalid=True
    )
    assert (result.inserted, result.refused) == (4, 1)
    assert result.refused_file is not None
    with result.refused_file.open(encoding="utf-8-sig") as fh:
        refused_rows = list(csv.reader(fh))
    assert refused_rows[0][:3] == ["行号", "拒绝原因", "学号"]
    assert refused_rows[1][0] == "4" and refused_rows[1][1].startswith("性别：性别应为 男 或 女")
    assert refused_rows[1][2] == "0024000002"


def test_reimporting_the_same_roster_changes_nothing(store: Store, tmp_path: Path) -> None:
    path = load_roster(store, tmp_path)
    before = data_snapshot(store)
    result = imports.import_file(store, SYSTEM, "roster", path)
    assert (result.inserted, result.updated, result.unchanged) == (0, 0, 5)
    assert data_snapshot(store) == before


def test_a_newer_roster_updates_what_changed(store: Store, tmp_path: Path) -> None:
    load_roster(store, tmp_path)
    rows = [roster_row(i) for i in range(5)] + [roster_row(9)]
    rows[1]["班主任"] = "李老师"
    result = imports.import_file(store, SYSTEM, "roster", write_csv(tmp_path / "roster2.csv", ROSTER_HEADER, rows))
    assert (result.inserted, result.updated, result.unchanged) == (1, 1, 4)
    assert table(store, "select advisor from graduates where student_id = '0024000001'") == [("李老师",)]


def test_import_batches_and_audit_record_each_import(store: Store, tmp_path: Path) -> None:
    load_roster(store, tmp_path)
    batches = table(
        store, "select kind, file_name, rows_read, rows_inserted, cohort, length(file_sha256) from import_batches"
    )
    assert batches == [("roster", "roster.csv", 5, 5, 2024, 64)]
    assert table(store, "select action, target from audit_log where action like 'import:%'") == [
        ("import:roster", "roster.csv")
    ]


# --- destinations ------------------------------------------------------------------------


def test_destinations_by_code_or_name_and_a_change_becomes_a_revision(store: Store, tmp_path: Path) -> None:
    load_roster(store, tmp_path, 3)
    header = ["学号", "姓名", "毕业去向代码", "毕业去向", "单位名称", "单位所在地"]
    first = [
        {"学号": "0024000000", "姓名": "学生0", "毕业去向代码": "10", "单位名称": "江西某公司"},
        {"学号": "0024000001", "姓名": "学生1", "毕业去向": "升学", "单位名称": "江西财经大学"},
    ]
    path = write_csv(tmp_path / "dest.csv", header, first)
    assert imports.import_file(store, SYSTEM, "destinations", path).inserted == 2
    assert imports.import_file(store, SYSTEM, "destinations", path).unchanged == 2
    first[0]["毕业去向代码"] = "80"
    result = imports.import_file(store, SYSTEM, "destinations", write_csv(tmp_path / "dest2.csv", header, first))
    assert (result.updated, result.unchanged) == (1, 1)
    history = table(
        store, "select destination_code from destinations where student_id = '0024000000' order by destination_id"
    )
    assert history == [("10",), ("80",)]


def test_destination_without_code_or_name_is_refused(store: Store, tmp_path: Path) -> None:
    load_roster(store, tmp_path, 1)
    path = write_csv(
        tmp_path / "d.csv",
        ["学号", "姓名", "毕业去向代码", "单位名称"],
        [{"学号": "0024000000", "姓名": "学生0", "单位名称": "某单位"}],
    )
    assert refused(store, "destinations", path)[0].reason == "毕业去向代码和毕业去向不能都为空"


# --- registrations -----------------------------------------------------------------------


def test_registrations_must_match_the_roster_by_student_id_and_name(store: Store, tmp_path: Path) -> None:
    load_roster(store, tmp_path, 2)
    rows = [registration_row(0), registration_row(1, 姓名="别人"), registration_row(7)]
    errors = refused(store, "registrations", write_csv(tmp_path / "reg.csv", REGISTRATION_HEADER, rows))
    assert [(e.row, e.column) for e in errors] == [(3, "姓名"), (4, "学号")]
    assert "名单中该学号为 学生1" in errors[0].reason and "名单中没有这个学号" in errors[1].reason


def test_unknown_transfer_type_and_future_submission_are_refused(store: Store, tmp_path: Path) -> None:
    load_roster(store, tmp_path, 2)
    rows = [registration_row(0, 档案转递类型="寄回家"), registration_row(1, 提交时间="2024-06-11 08:00")]
    errors = refused(store, "registrations", write_csv(tmp_path / "reg.csv", REGISTRATION_HEADER, rows))
    assert [(e.row, e.column) for e in errors] == [(2, "档案转递类型"), (3, "提交时间")]
    assert "晚于今天（2024-06-10）" in errors[1].reason


def test_format_mistakes_are_imported_as_flags_for_the_reviewer(store: Store, tmp_path: Path) -> None:
    load_roster(store, tmp_path, 1)
    row = registration_row(0, 档案转递联系人="本人", 详细地址="八一大道", 档案转递单位邮编="3300")
    row["档案转递联系人/联系部门"] = "本人"
    imports.import_file(store, SYSTEM, "registrations", write_csv(tmp_path / "reg.csv", REGISTRATION_HEADER, [row]))
    (flags,) = table(store, "select flags from registrations")[0]
    assert set(flags) == {"contact_is_self_or_family", "address_incomplete", "postcode_malformed"}


def test_separate_province_city_district_columns(store: Store, tmp_path: Path) -> None:
    load_roster(store, tmp_path, 1)
    header = [h for h in REGISTRATION_HEADER if h != "档案转递单位地址"] + ["省", "市", "区"]
    row = registration_row(0, 省="江西", 市="南昌市", 区="东湖区")
    imports.import_file(store, SYSTEM, "registrations", write_csv(tmp_path / "reg.csv", header, [row]))
    assert table(store, "select province, city, district, address_detail from registrations") == [
        ("江西省", "南昌市", "东湖区", "八一大道1号")
    ]


def test_reimporting_registrations_changes_nothing(store: Store, tmp_path: Path) -> None:
    load_roster(store, tmp_path)
    rows = [registration_row(i, 审核状态=s) for i, s in enumerate(["待院审核", "待校审核", "已通过", "已退回", ""])]
    rows[3]["退回原因"] = "地址不详细"
    path = write_xlsx(tmp_path / "reg.xlsx", REGISTRATION_HEADER, rows)
    first = imports.import_file(store, SYSTEM, "registrations", path)
    assert first.inserted == 5
    before = data_snapshot(store)
    again = imports.import_file(store, SYSTEM, "registrations", path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 5)
    assert data_snapshot(store) == before


def test_review_status_and_confirmation_in_the_export_are_recorded(store: Store, tmp_path: Path) -> None:
    load_roster(store, tmp_path)
    rows = [
        registration_row(0, 审核状态="待院审核"),
        registration_row(1, 审核状态="待校审核"),
        registration_row(2, 审核状态="已通过", 确认状态="已确认"),
        registration_row(3, 审核状态="已退回", 退回原因="缺少调档函"),
        registration_row(4, 审核状态="待校审核", 确认状态="已确认"),
    ]
    result = imports.import_file(
        store, SYSTEM, "registrations", write_csv(tmp_path / "reg.csv", REGISTRATION_HEADER, rows)
    )
    stages = dict(table(store, "select student_id, stage from graduate_stages"))
    assert stages == {
        "0024000000": "pending_college",
        "0024000001": "pending_school",
        "0024000002": "confirmed",
        "0024000003": "returned",
        "0024000004": "pending_school",
    }
    assert table(store, "select return_reason from current_registrations where student_id = '0024000003'") == [
        ("缺少调档函",)
    ]
    assert any("尚未通过学校审核" in w for w in result.warnings)


def test_a_newer_export_adds_a_revision_and_keeps_the_history(store: Store, tmp_path: Path) -> None:
    load_roster(store, tmp_path, 2)
    old = [registration_row(0, 审核状态="已退回", 退回原因="地址不详细", 详细地址="八一大道"), registration_row(1)]
    imports.import_file(store, SYSTEM, "registrations", write_csv(tmp_path / "old.csv", REGISTRATION_HEADER, old))
    new = [
        registration_row(0, 审核状态="待院审核", 详细地址="八一大道88号", 提交时间="2024-06-01 09:00"),
        registration_row(1),
    ]
    result = imports.import_file(
        store, SYSTEM, "registrations", write_csv(tmp_path / "new.csv", REGISTRATION_HEADER, new)
    )
    assert (result.inserted, result.updated, result.unchanged) == (0, 1, 1)
    history = table(
        store,
        """
        select revision_no, address_detail, status, return_reason from registration_status
        where student_id = '0024000000' order by revision_no""",
    )
    assert history == [(1, "八一大道", "returned", "地址不详细"), (2, "八一大道88号", "pending_college", None)]
    # importing the old export again must not roll the graduate back
    stale = imports.import_file(store, SYSTEM, "registrations", tmp_path / "old.csv")
    assert stale.unchanged == 2 and stale.warnings
    assert table(store, "select revision_no from current_registrations where student_id = '0024000000'") == [(2,)]


def test_a_status_that_would_go_backwards_is_not_applied(store: Store, tmp_path: Path) -> None:
    load_roster(store, tmp_path, 1)
    path = write_csv(tmp_path / "a.csv", REGISTRATION_HEADER, [registration_row(0, 审核状态="已通过")])
    imports.import_file(store, SYSTEM, "registrations", path)
    back = write_csv(tmp_path / "b.csv", REGISTRATION_HEADER, [registration_row(0, 审核状态="待院审核")])
    result = imports.import_file(store, SYSTEM, "registrations", back)
    assert any("不能从“已通过”变为“待院审核”" in w for w in result.warnings)
    assert table(store, "select status from current_registrations") == [("approved",)]


def test_proof_count_above_three_is_refused(store: Store, tmp_path: Path) -> None:
    load_roster(store, tmp_path, 1)
    path = write_csv(tmp_path / "r.csv", REGISTRATION_HEADER, [registration_row(0, 证明材料数="5")])
    assert "最多上传三张图片" in refused(store, "registrations", path)[0].reason


# --- the import after a preview (#17) ----------------------------------------------------


def test_import_after_its_preview_reuses_the_reading_and_writes_what_a_fresh_import_would(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_roster(store, tmp_path)
    path = write_csv(
        tmp_path / "登记.csv",
        REGISTRATION_HEADER,
        [registration_row(i) for i in range(4)] + [registration_row(4, 档案转递联系电话="138****5678")],
    )
    reads: list[str] = []
    read_source = imports.sources.read_source
    monkeypatch.setattr(imports.sources, "read_source", lambda *a, **k: reads.append(str(a[0])) or read_source(*a, **k))

    preview = imports.import_file(store, SYSTEM, "registrations", path, dry_run=True, skip_invalid=True)
    done = imports.import_file(store, SYSTEM, "registrations", path, skip_invalid=True)
    assert len(reads) == 1, "the import after the preview of the same file reads it no more"
    assert (
        (done.inserted, done.refused, [str(e) for e in done.errors])
        == (preview.inserted, preview.refused, [str(e) for e in preview.errors])
        == (4, 1, [str(preview.errors[0])])
    )
    assert "登记.csv 第 6 行" in str(done.errors[0]) and done.refused_file is not None

    imports.import_file(store, SYSTEM, "registrations", path, skip_invalid=True)
    assert len(reads) == 2, "a preview serves one import only"


def test_a_file_changed_after_its_preview_is_read_again(store: Store, tmp_path: Path) -> None:
    load_roster(store, tmp_path)
    path = write_csv(tmp_path / "登记.csv", REGISTRATION_HEADER, [registration_row(i) for i in range(3)])
    assert imports.import_file(store, SYSTEM, "registrations", path, dry_run=True).inserted == 3
    write_csv(
        path, REGISTRATION_HEADER, [registration_row(i) for i in range(2)] + [registration_row(2, 学号="0024099999")]
    )
    errors = refused(store, "registrations", path)
    assert [(e.row, e.reason) for e in errors] == [(4, "名单中没有这个学号，请先导入毕业生名单")]
    other = write_csv(tmp_path / "另一个.csv", REGISTRATION_HEADER, [registration_row(i) for i in range(3)])
    imports.import_file(store, SYSTEM, "registrations", other, dry_run=True)
    assert imports.import_file(store, SYSTEM, "registrations", path, skip_invalid=True).file == "登记.csv"


def test_many_rows_making_the_same_refused_move_are_said_once_with_their_count(store: Store, tmp_path: Path) -> None:
    load_roster(store, tmp_path, 25)
    approved = [registration_row(i, 审核状态="已通过") for i in range(25)]
    imports.import_file(store, SYSTEM, "registrations", write_csv(tmp_path / "a.csv", REGISTRATION_HEADER, approved))
    back = [registration_row(i, 审核状态="待院审核" if i < 22 else "待校审核") for i in range(25)]
    result = imports.import_file(
        store, SYSTEM, "registrations", write_csv(tmp_path / "b.csv", REGISTRATION_HEADER, back)
    )
    moves = [w for w in result.warnings if "不能从" in w]
    assert moves == [
        "第 "
        + "、".join(str(r) for r in range(2, 22))
        + " 行等，共 22 行：审核状态不能从“已通过”变为“待院审核”，库中状态保持不变",
        "第 24、25、26 行：审核状态不能从“已通过”变为“待校审核”，库中状态保持不变",
    ]


def test_a_csv_reads_the_same_whatever_its_encoding_and_line_endings(tmp_path: Path) -> None:
    from pipelines import sheets

    rows = [
        registration_row(i, 详细地址=f"八一大道{i}号，“东”栋", 情况说明="换行\n之后" if i == 1 else "")
        for i in range(40)
    ]
    text = tmp_path / "x.csv"
    write_csv(text, REGISTRATION_HEADER, rows, title_rows=["2024届档案登记"])
    content = text.read_text(encoding="utf-8")
    frames = []
    for name, data in [
        ("lf.csv", content.encode()),
        ("bom.csv", b"\xef\xbb\xbf" + content.encode()),
        ("crlf.csv", content.replace("\n", "\r\n").encode()),
        ("gbk.csv", content.encode("gb18030")),
        ("wide.csv", (content + "0024000099,学生99" + ",x" * 20 + "\n").encode()),
    ]:
        (tmp_path / name).write_bytes(data)
        frames.append(sheets.read_workbook(tmp_path / name, sheets.Limits())[0].frame)
    assert frames[0].height == 42 and frames[0]["c0"][0] == "2024届档案登记"
    for frame in frames[1:4]:
        assert frame.equals(frames[0])
    assert frames[4].width == 22 and frames[4].head(42).select(frames[0].columns).equals(frames[0])
