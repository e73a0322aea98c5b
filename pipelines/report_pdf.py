"""The verification report as a print-ready A4 PDF (fpdf2, Noto Sans SC from a pip package).

The text is real text in an embedded, subset font, so it can be selected and searched. A QR
code (segno) carries the public look-up address with the 核验编号. One report per page; a
batch is one PDF in class and advisor order, or a ZIP of single PDFs.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pylopdf_fonts_zh_cn
import segno
from fontTools import subset
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos

from pipelines import config, identity, verification

ENV_VERIFY_URL = "DANGAN_VERIFY_URL"
DEFAULT_VERIFY_URL = "http://localhost:8501/verify"
FONT = "NotoSansSC"
LABEL_WIDTH = 42.0
LINE = 8.0


def verify_url(report_number: str) -> str:
    """The public look-up address a report's QR code carries."""
    base = config.env(ENV_VERIFY_URL, DEFAULT_VERIFY_URL) or DEFAULT_VERIFY_URL
    return f"{base}{'&' if '?' in base else '?'}{urlencode({'number': report_number})}"


class _Document(FPDF):
    def __init__(self, font_path: str | None = None) -> None:
        super().__init__(format="A4", unit="mm")
        self.add_font(FONT, fname=font_path or str(pylopdf_fonts_zh_cn.sans_path()))
        self.set_auto_page_break(auto=False)
        self.set_margins(18, 16, 18)
        self.set_title("毕业去向登记核验报告")
        self.set_creator("dangan")

    def heading(self, text: str, size: float) -> None:
        self.set_font(FONT, size=size)
        self.cell(0, size * 0.6, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def section(self, text: str) -> None:
        self.ln(3)
        self.set_font(FONT, size=12)
        self.set_fill_color(230, 236, 245)
        self.cell(0, LINE, f"  {text}", fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def field(self, label: str, value: str) -> None:
        self.set_font(FONT, size=10.5)
        self.set_text_color(90, 90, 90)
        self.cell(LABEL_WIDTH, LINE, label)
        self.set_text_color(0, 0, 0)
        self.multi_cell(0, LINE, value or "—", wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _page(pdf: _Document, doc: dict[str, Any]) -> None:
    pdf.add_page()
    kind = verification.KIND_LABELS.get(doc["kind"], doc["kind"])
    pdf.heading(f"{doc['school_name']}", 13)
    pdf.ln(2)
    pdf.heading("毕业去向登记核验报告", 20)
    pdf.ln(2)
    pdf.heading(f"{kind} · {doc['cohort']} 届毕业生" + (f" · {doc['notice_number']}" if doc["notice_number"] else ""), 11)

    top = pdf.get_y() + 4
    qr = io.BytesIO()
    segno.make(verify_url(doc["report_number"]), error="m").save(qr, kind="png", scale=6, border=2)
    pdf.image(qr, x=pdf.w - pdf.r_margin - 38, y=top, w=38, h=38)
    pdf.set_xy(pdf.l_margin, top)
    pdf.set_font(FONT, size=10.5)
    for label, value in (
        ("核验编号", doc["report_number"]),
        ("有效期至", f"{doc['valid_until']:%Y-%m-%d} 23:59:59" if doc["valid_until"] else "未设置（未确认）"),
        ("生成时间", f"{doc['issued_at']:%Y-%m-%d %H:%M:%S}"),
    ):
        pdf.cell(LABEL_WIDTH, LINE, label)
        pdf.cell(0, LINE, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=8.5)
    pdf.set_text_color(90, 90, 90)
    pdf.multi_cell(pdf.w - pdf.l_margin - pdf.r_margin - 42, 5,
                   "扫描右侧二维码，或在核验查询页输入姓名和核验编号，可查询本报告是否有效。",
                   wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.set_y(max(pdf.get_y(), top + 40))

    pdf.section("毕业生")
    pdf.field("姓名", doc["name"])
    pdf.field("学号", doc["student_id"])
    pdf.field("身份证号", identity.mask_id_number(doc["id_number"] or ""))
    pdf.field("学院 / 专业 / 班级", " / ".join(v for v in (doc["college_name"], doc["major"], doc["class_name"]) if v))

    pdf.section("毕业去向")
    destination = f"{doc['destination_name'] or ''}（{doc['destination_code']}）" if doc["destination_code"] else "未填报"
    pdf.field("毕业去向", destination)
    pdf.field("单位 / 学校", doc["employer_name"] or "")

    pdf.section("档案转递")
    pdf.field("转递编号", doc["transfer_number"] or "—")
    pdf.field("档案转递类型", doc["transfer_type_label"] or "")
    pdf.field("档案转递单位名称", doc["unit_name"] or "")
    pdf.field("档案转递单位地址", doc["unit_address"] or "")
    pdf.field("邮编", doc["postcode"] or "")
    pdf.field("联系人/联系部门", doc["contact"] or "")
    pdf.field("联系电话", doc["unit_phone"] or "")

    if doc["hukou_type_label"] or doc["kind"] == "hukou":
        pdf.section("户口迁移")
        pdf.field("户口迁移类型", doc["hukou_type_label"] or "")
        pdf.field("户口迁移地址", doc["hukou_address"] or "")

    pdf.set_y(pdf.h - pdf.b_margin - 22)
    pdf.set_font(FONT, size=8.5)
    pdf.set_text_color(90, 90, 90)
    pdf.multi_cell(0, 5, "本报告依据毕业生确认的毕业去向登记信息生成。毕业去向、档案或户口信息变更后，本报告自动失效，"
                         "须重新确认后再次核验。查询核验服务截止到毕业时间加六个月。身份证号已脱敏。",
                   wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)


def render(documents: Iterable[dict[str, Any]], progress: Callable[[int], None] | None = None,
           font_path: str | None = None) -> bytes:
    """One PDF with a page per report (rows of sql/queries/report_documents.sql, in order)."""
    pdf = _Document(font_path)
    for i, doc in enumerate(documents, start=1):
        _page(pdf, doc)
        if progress:
            progress(i)
    if pdf.page == 0:
        raise ValueError("没有可打印的核验报告")
    return bytes(pdf.output())


def render_zip(documents: list[dict[str, Any]], progress: Callable[[int], None] | None = None) -> bytes:
    """A ZIP of single-report PDFs, named 班级_学号_姓名_类型_核验编号.pdf.

    Each PDF embeds its own subset of the font. Cutting that subset from the whole Noto Sans SC
    costs 0.2 s a file, so the batch first cuts one small font with every character it can
    print (the documents' values and this module's own text) and each PDF subsets that."""
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="dangan-font-") as folder:
        font_path = str(Path(folder) / "batch.otf")
        _batch_font(documents, font_path)
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for i, doc in enumerate(documents, start=1):
                kind = verification.KIND_LABELS.get(doc["kind"], doc["kind"])
                name = "_".join(str(v) for v in (doc["class_name"] or "未分班", doc["student_id"], doc["name"], kind,
                                                  doc["report_number"]))
                archive.writestr(f"{_safe(name)}.pdf", render([doc], font_path=font_path))
                if progress:
                    progress(i)
    return buffer.getvalue()


def _batch_font(documents: list[dict[str, Any]], path: str) -> None:
    text = {ch for doc in documents for value in doc.values() if value is not None for ch in str(value)}
    text |= set(Path(__file__).read_text(encoding="utf-8"))  # every label and sentence printed
    text |= set("".join(verification.KIND_LABELS.values())) | {chr(c) for c in range(0x20, 0x7F)}
    options = subset.Options()
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(text)))
    font = TTFont(str(pylopdf_fonts_zh_cn.sans_path()))
    subsetter.subset(font)
    font.save(path)


def _safe(name: str) -> str:
    return "".join("_" if c in '/\\:*?"<>|' else c for c in name)


