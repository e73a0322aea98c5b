"""The dispatch batch's printed papers (#19) read back with poppler (pdftotext, pdfinfo,
pdftoppm): slips with masked personal data and the bag's list, 14 labels a sheet that keep
their text inside, the post office's list with counts, masked names and page numbers, and
hostile values printed as text."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bench.dispatch_pdf_timing import CAMPAIGN
from pipelines import dispatch_pdf
from pipelines.rules import dispatch
from tests import pdfs

ID_NUMBER = "36010219990101123X"
OWN_PHONE = "13812345678"


def _row(i: int, **changes: Any) -> dict[str, Any]:
    row = {
        "batch_no": 7,
        "channel": dispatch.JIYAO,
        "student_id": f"2020{i:06d}",
        "name": "张晓明",
        "gender": "男",
        "college_name": "信息工程学院",
        "class_name": "计算机1班",
        "transfer_number": f"360100{i:012d}",
        "origin_name": "江西省南昌市",
        "employer_name": "南昌华勤电子科技有限公司",
        "transfer_type_label": "转至就业单位所在地人才服务中心",
        "unit_name": "中共南昌市委组织部",
        "province": "江西省",
        "city": "南昌市",
        "district": "红谷滩区",
        "address_detail": "卧龙路 999 号市民服务中心",
        "postcode": "330038",
        "contact": "王老师",
        "phone": "0791-83886666",
        "id_number": ID_NUMBER,
        "mobile": OWN_PHONE,  # the graduate's own: never printed
        "bag_items": ["毕业生登记表", "学籍表", dispatch.REPORT_ITEM, "成绩单", "党团材料"],
        "waybill": None,
    }
    return {**row, **changes}


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    assert data.startswith(b"%PDF")
    return pdfs.write(tmp_path, name, data)


def _flat(text: str) -> str:
    return "".join(text.split())


def test_a_slip_shows_the_archive_and_masks_what_the_receiver_does_not_need(tmp_path: Path) -> None:
    rows = [_row(1), _row(2, name="李四", unit_name="南昌市人才服务中心", channel=dispatch.EMS)]
    path = _write(tmp_path, "slips.pdf", dispatch_pdf.slips_pdf(rows, CAMPAIGN))
    assert pdfs.pages(path) == 2
    text = pdfs.text(path, 1)
    flat = _flat(text)
    for expected in (
        "普通高等学校毕业生档案转递单",
        "360100000000000001",
        "张晓明",
        "中共南昌市委组织部",
        "江西省南昌市红谷滩区卧龙路999号市民服务中心",
        "330038",
        "王老师",
        "0791-83886666",  # the receiving unit's phone, in full: the post needs it
        "机要",
        "3601**********123X",
        "经办人签字：",
        "（学校档案转递专用章）",
        "档案转递回执",
        "已收到该同志档案，共",
    ):
        assert expected in flat, expected
    whole = _flat(pdfs.text(path))
    assert ID_NUMBER not in whole and OWN_PHONE not in whole
    # the bag's list: the report first, then the rest as the campaign lists them, 份数 and total
    assert pdfs.in_order(flat, ["1档案信息核验报告1", "2毕业生登记表1", "3学籍表1", "4成绩单1", "5党团材料1", "合计5"])
    # the receipt repeats the number and the name below the cut line
    receipt = text[text.index("档案转递回执") :]
    assert "360100000000000001" in receipt and "张晓明" in receipt
    page2 = _flat(pdfs.text(path, 2))
    assert "李四" in page2 and "南昌市人才服务中心" in page2 and "EMS" in page2


def test_the_papers_go_by_channel_then_class_then_student_id(tmp_path: Path) -> None:
    rows = [
        _row(4, channel=dispatch.EMS, class_name="计算机1班"),
        _row(3, class_name="计算机2班"),
        _row(2, class_name="计算机1班"),
        _row(1, class_name="计算机2班"),
    ]
    numbers = [f"360100{i:012d}" for i in (2, 1, 3, 4)]
    assert [r["transfer_number"] for r in dispatch_pdf.sorted_rows(rows)] == numbers
    slips = _write(tmp_path, "slips.pdf", dispatch_pdf.slips_pdf(rows, CAMPAIGN))
    assert [numbers[p - 1] in pdfs.text(slips, p) for p in range(1, 5)] == [True] * 4
    labels = _write(tmp_path, "labels.pdf", dispatch_pdf.labels_pdf(rows, CAMPAIGN["sender"]))
    assert pdfs.in_order(pdfs.text(labels), numbers)
    listed = _write(tmp_path, "list.pdf", dispatch_pdf.batch_list_pdf(rows, {"batch_no": 7}, CAMPAIGN))
    assert pdfs.in_order(pdfs.text(listed), numbers)


def test_labels_are_fourteen_a_sheet(tmp_path: Path) -> None:
    rows = [_row(i, contact="人事科" if i == 3 else "王老师") for i in range(15)]
    path = _write(tmp_path, "labels.pdf", dispatch_pdf.labels_pdf(rows, CAMPAIGN["sender"]))
    assert pdfs.pages(path) == 2
    first, second = pdfs.text(path, 1), pdfs.text(path, 2)
    assert len(re.findall(r"360100\d{12}", first)) == 14
    assert len(re.findall(r"360100\d{12}", second)) == 1
    flat = _flat(first)
    assert flat.count("330038") == 14 and flat.count("寄件：江西财经职业学院就业指导中心") == 14
    assert "人事科收0791-83886666" in flat and "王老师收" in flat
    assert "江西省南昌市红谷滩区卧龙路999号市民服务中心" in flat and "中共南昌市委组织部" in flat
    assert ID_NUMBER not in flat and OWN_PHONE not in flat


def _words(path: Path) -> list[tuple[float, float, float, float, str]]:
    """(xMin, yMin, xMax, yMax, word) in points of page 1, from pdftotext -bbox."""
    html = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-bbox", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
    return [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in re.findall(pattern, html)]


def test_a_very_long_unit_name_and_address_stay_inside_their_label(tmp_path: Path) -> None:
    unit = "南昌市红谷滩区" + "人才交流服务中心档案管理部" * 23  # 306 characters
    detail = "凤凰中大道" + "某某大厦A座" * 40
    rows = [_row(0, unit_name=unit, address_detail=detail, contact="人力资源部" * 10), _row(1)]
    path = _write(tmp_path, "labels.pdf", dispatch_pdf.labels_pdf(rows, CAMPAIGN["sender"]))
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")], check=True)
    assert list(tmp_path.glob("p*.png"))
    flat = _flat(pdfs.text(path, 1))
    assert "南昌市红谷滩区人才交流服务中心" in flat and "…" in flat  # wrapped, then cut
    assert "360100000000000001" in flat  # the next label is still there
    pt = 72 / 25.4
    right = (dispatch_pdf.LABEL_LEFT + dispatch_pdf.LABEL_W) * pt
    bottom = (dispatch_pdf.LABEL_TOP + dispatch_pdf.LABEL_H) * pt
    first = [w for w in _words(path) if w[0] < right - 5]  # the left column: the long label
    top_label = [w for w in first if w[1] < bottom]
    assert top_label and all(w[2] <= right + 0.5 and w[3] <= bottom + 0.5 for w in top_label), top_label


def test_the_post_office_list_counts_masks_and_numbers_its_pages(tmp_path: Path) -> None:
    rows = [
        _row(i, channel=dispatch.EMS if i % 4 == 0 else dispatch.JIYAO, name="欧阳娜娜" if i == 5 else "张晓明")
        for i in range(40)
    ]
    rows[1]["waybill"] = "EA123456785CN"
    assert dispatch_pdf.list_pages(40) == 2
    path = _write(tmp_path, "list.pdf", dispatch_pdf.batch_list_pdf(rows, {"batch_no": 7}, CAMPAIGN))
    assert pdfs.pages(path) == 2
    first = pdfs.text(path, 1)
    flat = _flat(first)
    assert "档案交寄清单（第7批）" in flat and "机要30件，EMS10件，共40件" in flat
    assert "第1页/共2页" in flat and "第2页/共2页" in _flat(pdfs.text(path, 2))
    assert "张**" in flat and "欧***" in flat and "张晓明" not in flat and "欧阳娜娜" not in flat
    assert "EA123456785CN" in flat
    for header in ("序号", "转递编号", "姓名", "接收单位", "邮编", "寄送方式", "运单号"):
        assert header in pdfs.text(path, 2)  # the header row repeats on each page
    assert "交寄人：" in _flat(pdfs.text(path, 2)) and "收寄人：" in _flat(pdfs.text(path, 2))
    assert "交寄人：" not in flat


def test_list_pages_matches_what_is_printed(tmp_path: Path) -> None:
    for count in (1, 31, 32, 33, 67, 68):
        path = _write(
            tmp_path,
            f"{count}.pdf",
            dispatch_pdf.batch_list_pdf([_row(i) for i in range(count)], {"batch_no": 1}, CAMPAIGN),
        )
        pages = pdfs.pages(path)
        assert pages == dispatch_pdf.list_pages(count), count
        assert f"第{pages}页/共{pages}页" in _flat(pdfs.text(path, pages))
        assert "交寄人：" in _flat(pdfs.text(path, pages))


def test_mask_name_keeps_the_first_character() -> None:
    assert dispatch_pdf.mask_name("张三丰") == "张**"
    assert dispatch_pdf.mask_name("李四") == "李*"
    assert dispatch_pdf.mask_name("欧阳娜娜") == "欧***"
    assert dispatch_pdf.mask_name(" 王 ") == "王"
    assert dispatch_pdf.mask_name(None) == dispatch_pdf.mask_name("") == ""


MARKUP = "<b>**粗体**</b> [链接](javascript:alert(1)) <script>x</script> ${{7*7}} 括号(未闭合 \\ 反斜杠"


def test_hostile_values_print_as_text_and_never_crash(tmp_path: Path) -> None:
    rows = [
        _row(0, name=MARKUP, unit_name=MARKUP, contact="<i>王</i>"),
        _row(1, name="王\u200b小\u202e明😀", unit_name="𠀀𪚥单位\n第二行\t", address_detail="🏠 1 号"),
        {key: None for key in _row(2)},
        {key: "" for key in _row(3)} | {"bag_items": [], "channel": "pigeon"},
        {"transfer_number": "360100000000000004"},  # keys missing altogether
    ]
    sender = {"school_name": None, "office": "", "address": None}
    campaign = {"school_name": "", "cohort": None, "notice_number": None, "sender": sender}
    for name, data in (
        ("slips.pdf", dispatch_pdf.slips_pdf(rows, campaign)),
        ("labels.pdf", dispatch_pdf.labels_pdf(rows, sender)),
        ("list.pdf", dispatch_pdf.batch_list_pdf(rows, {"batch_no": None}, campaign)),
    ):
        path = _write(tmp_path, name, data)
        text = pdfs.text(path)
        assert "None" not in text, name
        assert "—" in text, name
        flat = _flat(text)
        if name != "list.pdf":  # the list shows a name masked
            assert _flat(MARKUP) in flat, name
        assert "<i>王</i>" in flat or name == "list.pdf", name
        assert "😀" not in text and "🏠" not in text, name
    slips = tmp_path / "slips.pdf"
    assert pdfs.pages(slips) == len(rows)
    second = _flat(pdfs.text(slips, 2))
    assert "王小明□" in second and "单位第二行" in second and "□1号" in second


def test_nothing_to_print_is_refused() -> None:
    with pytest.raises(ValueError, match="没有"):
        dispatch_pdf.slips_pdf([], CAMPAIGN)
    with pytest.raises(ValueError, match="没有"):
        dispatch_pdf.labels_pdf([], CAMPAIGN["sender"])
