"""The printed papers of an archive dispatch batch (档案转递), each an A4 PDF:

- `slips_pdf`: a 普通高等学校毕业生档案转递单 a page, the 回执 the receiving unit mails back below
  a cut line;
- `labels_pdf`: address labels, 2 × 7 a sheet (99.1 × 38.1 mm, the common L7163 / A4 14-up
  stock: 4.65 mm side and 15.15 mm top margins);
- `batch_list_pdf`: the 交寄清单 handed to the post office with the bags.

Rows are plain dicts, one an archive, with the keys batch_no, channel (`dispatch.CHANNELS`),
student_id, name, gender, college_name, class_name, transfer_number, origin_name,
employer_name, transfer_type_label, unit_name, province, city, district, address_detail,
postcode, contact, phone (the receiving unit's), id_number, bag_items (a list) and waybill;
any may be missing or None. Every value is printed as text, literally. Missing values print as "—"; line breaks and invisible characters are dropped from a
value, and a character Noto Sans SC has no glyph for (emoji, rare CJK) prints as "□". A value
too long for its box is set smaller, then wrapped by character, and at the smallest size cut
with "…": nothing runs out of its box.

Personal data the receiver does not need is left out: the ID number is masked
(`identity.mask_id_number`), the graduate's own phone is never printed; the receiving unit's
contact phone is printed in full (the post needs it). On the post office's list a name shows
its first character only, each other character a "*" (`mask_name`: 张三丰 → 张**, 李四 → 李*).

Speed (5,000 slips ≤ 30 s): pages are laid out by fpdf2 in one batch font and written by
`pdf_file` (as the verification reports are), and everything on a slip that is the same on
every page (headings, labels, the grid, the boxes) is laid out once and put in front of each
page's own text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fpdf.enums import MethodReturnValue, WrapMode, XPos, YPos

from pipelines import pdf_file
from pipelines.pdf_file import FONT
from pipelines.rules import dispatch, identity

MISSING = "—"
_SPACES = re.compile(" {2,}")
NO_GLYPH = "□"
GREY = (100, 100, 100)
LEFT, WIDTH = 15.0, 180.0
MM_PER_PT = 25.4 / 72

# Label stock: A4, 2 columns × 7 rows of 99.1 × 38.1 mm.
LABEL_W, LABEL_H = 99.1, 38.1
LABEL_LEFT, LABEL_TOP, LABEL_PITCH = 4.65, 15.15, 101.6
LABEL_COLUMNS, LABEL_ROWS = 2, 7
LABEL_PAD = 4.0

# The post office's list: columns (title, width mm), rows a page.
LIST_COLUMNS = (
    ("序号", 12.0),
    ("转递编号", 40.0),
    ("姓名", 18.0),
    ("接收单位", 52.0),
    ("邮编", 16.0),
    ("寄送方式", 14.0),
    ("运单号", 28.0),
)
LIST_ROW, LIST_HEAD = 7.0, 8.0
LIST_FIRST_TOP, LIST_TOP, LIST_BOTTOM = 44.0, 20.0, 278.0
LIST_SIGNATURE = 16.0  # mm the signature line needs below the table


def sorted_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The papers' order: channel (机要, then EMS, then anything else), class, 学号."""
    order = {channel: i for i, channel in enumerate(dispatch.CHANNELS)}
    return sorted(
        rows,
        key=lambda r: (
            order.get(r.get("channel") or "", len(order)),
            str(r.get("class_name") or ""),
            str(r.get("student_id") or ""),
        ),
    )


def mask_name(name: str | None) -> str:
    """A name on the post office's list: the first character, a "*" for each other one."""
    name = (name or "").strip()
    return name[:1] + "*" * (len(name) - 1) if name else ""


def channel_label(channel: str | None) -> str:
    return dispatch.CHANNELS.get(channel or "", channel or "")


def address(row: dict[str, Any]) -> str:
    """Province, city, district and the detailed address, as one line (a part repeated, such as
    a city that is its province, once)."""
    parts: list[str] = []
    for key in ("province", "city", "district", "address_detail"):
        value = str(row.get(key) or "").strip()
        if value and value not in parts:
            parts.append(value)
    return "".join(parts)


def bag_items(row: dict[str, Any]) -> list[str]:
    """What is in the bag, the verification report first."""
    items = [str(i) for i in row.get("bag_items") or () if i is not None and str(i).strip()]
    return sorted(items, key=lambda item: item != dispatch.REPORT_ITEM)


class _Papers(pdf_file.Layout):
    def __init__(self, batch: pdf_file.Batch) -> None:
        super().__init__(batch)
        self.c_margin = 1.0
        self._wrapped: dict[tuple[str, float, float], list[str]] = {}

    def clean(self, value: Any) -> str:
        """A value as it prints: one line, nothing invisible, □ for what the font cannot draw."""
        text = "" if value is None else str(value)
        out = []
        for ch in text:
            if ch in "\r\n\t":
                out.append(" ")
            elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
                continue
            else:
                out.append(ch if ch in self.codes else NO_GLYPH)
        return _SPACES.sub(" ", "".join(out)).strip(" ") or MISSING

    def put(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        value: Any,
        size: float,
        *,
        smallest: float | None = None,
        align: str = "L",
        color: tuple[int, int, int] = (0, 0, 0),
    ) -> None:
        """`value` in the box (x, y, w, h), vertically centred: on one line at `size`, or smaller
        down to `smallest`, or wrapped in as many lines as the box holds, the last cut with …"""
        text = self.clean(value)
        smallest = min(size, smallest or size * 0.7)
        room = w - 2 * self.c_margin
        self.set_text_color(*color)
        self.set_font(FONT, size=size)
        wide = self.get_string_width(text)
        fitting = size if wide <= room else size * room / wide
        if fitting >= smallest and fitting * MM_PER_PT * 1.05 <= h:
            self.set_font_size(fitting)
            self.set_xy(x, y)
            self.cell(w, h, text, align=align, new_x=XPos.RIGHT, new_y=YPos.TOP)
            return
        step = max(0.5, (size - smallest) / 4)
        candidate = size
        while True:
            height = candidate * MM_PER_PT * 1.2
            lines = self._lines(text, w, candidate)
            if len(lines) * height <= h or candidate <= smallest:
                break
            candidate = max(smallest, candidate - step)
        self.set_font_size(candidate)
        held = max(1, int(h // height))
        if len(lines) > held:
            last = lines[held - 1]
            while last and self.get_string_width(last + "…") > room:
                last = last[:-1]
            lines = [*lines[: held - 1], last + "…"]
        top = y + max(0.0, (h - len(lines) * height) / 2)
        for i, line in enumerate(lines):
            self.set_xy(x, top + i * height)
            self.cell(w, height, line, align=align, new_x=XPos.RIGHT, new_y=YPos.TOP)

    def _lines(self, text: str, w: float, size: float) -> list[str]:
        key = (text, w, size)
        if key not in self._wrapped:
            self.set_font_size(size)
            lines = self.multi_cell(
                w, size * MM_PER_PT * 1.2, text, wrapmode=WrapMode.CHAR, dry_run=True, output=MethodReturnValue.LINES
            )
            assert isinstance(lines, list)
            if len(self._wrapped) > 2000:
                self._wrapped.clear()
            self._wrapped[key] = [str(line) for line in lines]
        return self._wrapped[key]

    def rule(self, x1: float, y1: float, x2: float, y2: float, width: float = 0.2) -> None:
        self.set_line_width(width)
        self.line(x1, y1, x2, y2)

    def static(self, draw: Any) -> bytes:
        """What `draw()` lays out on a page of its own, as content to put in front of pages."""
        self.add_page()
        draw()
        content = self.page_content()
        return b"q\n" + content + b"\nQ\n"

    def page_with(self, prelude: bytes) -> pdf_file.Page:
        return self.taken(prelude + self.page_content())


def _characters(rows: Sequence[dict[str, Any]], *extra: Any) -> set[str]:
    text: set[str] = set(Path(__file__).read_text(encoding="utf-8"))  # every label and sentence printed
    text |= set("".join(dispatch.CHANNELS.values())) | set(NO_GLYPH + MISSING + "…*")

    def add(value: Any) -> None:
        if isinstance(value, dict):
            for v in value.values():
                add(v)
        elif isinstance(value, list | tuple):
            for v in value:
                add(v)
        elif value is not None:
            text.update(str(value))

    add(list(rows))
    add(list(extra))
    return text


def _render(rows: Sequence[dict[str, Any]], extra: tuple[Any, ...], title: str, lay_out: Any) -> bytes:
    with pdf_file.batch(_characters(rows, *extra)) as batch:
        pdf = _Papers(batch)
        pages = lay_out(pdf)
        return pdf.file(pages, pdf_file.FontCutter(Path(batch.font_path)), title)


# --- the transfer slips -------------------------------------------------------------------------

SLIP_TITLE = "普通高等学校毕业生档案转递单"
COL = (26.0, 64.0, 26.0, 64.0)  # label, value, label, value
GRID_TOP = 35.0
# (label, key, label, key) a row, or (label, key) across; the row's height
SLIP_GRID: tuple[tuple[tuple[str, ...], float], ...] = (
    (("姓名", "name", "性别", "gender"), 8.0),
    (("学号", "student_id", "身份证号", "id_masked"), 8.0),
    (("学院 / 班级", "college_class"), 8.0),
    (("生源地", "origin_name", "转递类型", "transfer_type_label"), 8.0),
    (("就业单位", "employer_name"), 8.0),
    (("档案接收单位", "unit_name"), 11.0),
    (("地址", "address"), 11.0),
    (("邮编", "postcode", "联系人", "contact"), 8.0),
    (("联系电话", "phone", "转递方式", "channel_label"), 8.0),
)
ITEMS_TOP, ITEMS_BOTTOM = 124.0, 166.0  # the material rows (the head above, the total below)
ITEM_COLS = (16.0, 134.0, 30.0)
BOXES_TOP, BOXES_H = 178.0, 22.0
CUT_Y = 208.0
RECEIPT_GRID = 229.0


def _slip_values(row: dict[str, Any]) -> dict[str, Any]:
    """What a slip prints under its keys: the row's own values, masked or put together."""
    college_class = " / ".join(str(row.get(k)) for k in ("college_name", "class_name") if row.get(k))
    return {
        **row,
        "id_masked": identity.mask_id_number(str(row.get("id_number") or "")),
        "college_class": college_class,
        "address": address(row),
        "channel_label": channel_label(row.get("channel")),
    }


def _grid_rows() -> list[tuple[float, float, tuple[str, ...]]]:
    """(top, height, cells) of each row of the slip's grid."""
    out, y = [], GRID_TOP
    for cells, height in SLIP_GRID:
        out.append((y, height, cells))
        y += height
    return out


def _slip_static(pdf: _Papers, campaign: dict[str, Any]) -> None:
    sender = campaign.get("sender") or {}
    school = campaign.get("school_name") or sender.get("school_name")
    pdf.put(LEFT, 11, WIDTH, 9, SLIP_TITLE, 18, align="C")
    heading = f"{pdf.clean(school)} · {pdf.clean(campaign.get('cohort'))} 届毕业生"
    if campaign.get("notice_number"):
        heading += f" · {pdf.clean(campaign['notice_number'])}"
    pdf.put(LEFT, 20, WIDTH, 5, heading, 9, color=GREY, align="C")
    pdf.put(LEFT, 27, 22, 7, "转递编号：", 10.5)
    pdf.put(
        LEFT + 92,
        27,
        WIDTH - 92,
        7,
        "上联随档案寄送接收单位，下联（回执）由接收单位盖章后寄回",
        7.5,
        color=GREY,
        align="R",
    )

    pdf.set_draw_color(0, 0, 0)
    grid = _grid_rows()
    bottom = grid[-1][0] + grid[-1][1]
    pdf.set_line_width(0.4)
    pdf.rect(LEFT, GRID_TOP, WIDTH, bottom - GRID_TOP)
    for top, height, cells in grid:
        if top > GRID_TOP:
            pdf.rule(LEFT, top, LEFT + WIDTH, top)
        x = LEFT
        for i, label in enumerate(cells[::2]):
            pdf.set_fill_color(240, 243, 248)
            pdf.rect(x, top, COL[0], height, style="DF")
            pdf.put(x, top, COL[0], height, label, 9.5, align="C")
            x += COL[0] + (COL[1] if len(cells) == 4 and i == 0 else 0)
            if len(cells) == 4 and i == 0:
                pdf.rule(x, top, x, top + height)

    pdf.put(LEFT, bottom + 3, WIDTH, 6, "档案材料清单", 10.5)
    head = ITEMS_TOP - 7
    pdf.set_line_width(0.4)
    pdf.rect(LEFT, head, WIDTH, ITEMS_BOTTOM + 7 - head)
    pdf.rect(LEFT, head, WIDTH, 7, style="DF")
    x = LEFT
    for title, w in zip(("序号", "材料名称", "份数"), ITEM_COLS, strict=True):
        pdf.put(x, head, w, 7, title, 9.5, align="C")
        if x > LEFT:
            pdf.rule(x, head, x, ITEMS_BOTTOM + 7)
        x += w
    pdf.rule(LEFT, ITEMS_BOTTOM, LEFT + WIDTH, ITEMS_BOTTOM)
    pdf.put(LEFT + ITEM_COLS[0], ITEMS_BOTTOM, ITEM_COLS[1], 7, "合计", 9.5, align="C")

    half = (WIDTH - 4) / 2
    pdf.set_line_width(0.3)
    pdf.rect(LEFT, BOXES_TOP, half, BOXES_H)
    pdf.put(LEFT + 1, BOXES_TOP + 1, half - 2, 6, "经办人签字：", 10)
    pdf.put(LEFT + 1, BOXES_TOP + BOXES_H - 7, half - 2, 6, "日期：　　　　年　　月　　日", 10)
    pdf.rect(LEFT + half + 4, BOXES_TOP, half, BOXES_H)
    pdf.put(LEFT + half + 5, BOXES_TOP + 1, half - 2, 6, "转出学校（盖章）：", 10)
    pdf.put(LEFT + half + 4, BOXES_TOP + BOXES_H - 7, half, 6, "（学校档案转递专用章）", 9, color=GREY, align="C")
    office = f"{pdf.clean(sender.get('school_name') or school)}{pdf.clean(sender.get('office') or '')}"
    pdf.put(LEFT, BOXES_TOP + BOXES_H + 1, WIDTH, 5, f"转出单位：{office}", 8, color=GREY)

    pdf.set_draw_color(*GREY)
    pdf.set_dash_pattern(dash=2, gap=1.5)
    pdf.rule(8, CUT_Y, 88, CUT_Y)
    pdf.rule(122, CUT_Y, 202, CUT_Y)
    pdf.set_dash_pattern()
    pdf.set_draw_color(0, 0, 0)
    pdf.put(88, CUT_Y - 2.5, 34, 5, "✂ 沿此线剪开", 8, color=GREY, align="C")

    pdf.put(LEFT, CUT_Y + 4, WIDTH, 9, "普通高等学校毕业生档案转递回执", 15, align="C")
    back = " ".join(
        v
        for v in (
            office,
            str(sender.get("address") or ""),
            f"邮编 {sender['postcode']}" if sender.get("postcode") else "",
            f"电话 {sender['phone']}" if sender.get("phone") else "",
        )
        if v
    )
    pdf.put(LEFT, CUT_Y + 13, WIDTH, 5, f"请接收单位收到档案后填写本回执并寄回：{back}", 8, color=GREY, align="C")
    pdf.set_line_width(0.4)
    pdf.rect(LEFT, RECEIPT_GRID, WIDTH, 16)
    pdf.rule(LEFT, RECEIPT_GRID + 8, LEFT + WIDTH, RECEIPT_GRID + 8)
    for i, (first, second) in enumerate((("转递编号", "姓名"), ("学号", "转出学校"))):
        top = RECEIPT_GRID + 8 * i
        for x, label in ((LEFT, first), (LEFT + COL[0] + COL[1], second)):
            pdf.rect(x, top, COL[0], 8, style="DF")
            pdf.put(x, top, COL[0], 8, label, 9.5, align="C")
    pdf.put(LEFT + 2, RECEIPT_GRID + 19, WIDTH - 4, 8, "已收到该同志档案，共 ________ 份，材料齐全。", 11)
    pdf.put(LEFT + 2, RECEIPT_GRID + 33, 90, 7, "接收单位（盖章）：", 10.5)
    pdf.put(LEFT + 100, RECEIPT_GRID + 33, 80, 7, "经办人：", 10.5)
    pdf.put(LEFT + 100, RECEIPT_GRID + 45, 80, 7, "日期：　　　　年　　月　　日", 10.5)


def _slip(pdf: _Papers, prelude: bytes, row: dict[str, Any], school: Any) -> pdf_file.Page:
    values = _slip_values(row)
    pdf.add_page()
    pdf.put(LEFT + 22, 27, 70, 7, values.get("transfer_number"), 12)
    for top, height, cells in _grid_rows():
        if len(cells) == 4:
            pdf.put(LEFT + COL[0], top, COL[1], height, values.get(cells[1]), 10, smallest=6)
            pdf.put(LEFT + sum(COL[:3]), top, COL[3], height, values.get(cells[3]), 10, smallest=6)
        else:
            pdf.put(LEFT + COL[0], top, WIDTH - COL[0], height, values.get(cells[1]), 10, smallest=6)

    items = bag_items(row)
    shown = items
    room = ITEMS_BOTTOM - ITEMS_TOP
    most = int(room // 4.2)
    if len(items) > most:
        rest = items[most - 1 :]
        shown = [*items[: most - 1], f"其余 {len(rest)} 项：" + "、".join(rest)]
    height = min(6.0, room / max(1, len(shown)))
    pdf.set_draw_color(160, 160, 160)
    for i, item in enumerate(shown):
        top = ITEMS_TOP + i * height
        if i:
            pdf.rule(LEFT, top, LEFT + WIDTH, top, 0.1)
        size = min(10.0, height / MM_PER_PT / 1.15)
        pdf.put(LEFT, top, ITEM_COLS[0], height, str(i + 1), size, align="C")
        pdf.put(LEFT + ITEM_COLS[0], top, ITEM_COLS[1], height, item, size, smallest=5)
        count = len(items) - len(shown) + 1 if i == len(shown) - 1 and len(shown) < len(items) else 1
        pdf.put(LEFT + sum(ITEM_COLS[:2]), top, ITEM_COLS[2], height, str(count), size, align="C")
    pdf.set_draw_color(0, 0, 0)
    pdf.put(LEFT + sum(ITEM_COLS[:2]), ITEMS_BOTTOM, ITEM_COLS[2], 7, str(len(items)), 10, align="C")

    for i, (first, second) in enumerate(
        ((values.get("transfer_number"), values.get("name")), (values.get("student_id"), school))
    ):
        top = RECEIPT_GRID + 8 * i
        pdf.put(LEFT + COL[0], top, COL[1], 8, first, 10, smallest=6)
        pdf.put(LEFT + sum(COL[:3]), top, COL[3], 8, second, 10, smallest=6)
    pdf.put(LEFT + 100, RECEIPT_GRID + 25, 80, 5, f"（学校寄出材料 {len(items)} 份）", 8, color=GREY)
    return pdf.page_with(prelude)


def slips_pdf(rows: Iterable[dict[str, Any]], campaign: dict[str, Any]) -> bytes:
    """A 档案转递单 with its 回执 a page, an archive a page, in the papers' order (`sorted_rows`)."""
    ordered = sorted_rows(rows)
    if not ordered:
        raise ValueError("没有要打印的档案转递单")
    school = campaign.get("school_name") or (campaign.get("sender") or {}).get("school_name")

    def lay_out(pdf: _Papers) -> list[pdf_file.Page]:
        prelude = pdf.static(lambda: _slip_static(pdf, campaign))
        return [_slip(pdf, prelude, row, school) for row in ordered]

    return _render(ordered, (campaign,), "档案转递单", lay_out)


# --- the address labels --------------------------------------------------------------------------


def _label(pdf: _Papers, x: float, y: float, row: dict[str, Any], sender_line: str) -> None:
    x, y = x + LABEL_PAD, y + LABEL_PAD - 1
    w = LABEL_W - 2 * LABEL_PAD
    pdf.put(x, y, 36, 8, row.get("postcode"), 17, smallest=10)
    number = f"{channel_label(row.get('channel')) or MISSING}  {pdf.clean(row.get('transfer_number'))}"
    pdf.put(x + 36, y + 0.5, w - 36, 4, number, 7, smallest=5, align="R", color=GREY)
    pdf.put(x, y + 8.5, w, 8, address(row), 9, smallest=6.5)
    pdf.put(x, y + 16.5, w, 8, row.get("unit_name"), 10.5, smallest=7)
    receiver = f"{pdf.clean(row.get('contact'))} 收"
    if row.get("phone"):
        receiver += f"　{pdf.clean(row.get('phone'))}"
    pdf.put(x, y + 24.5, w, 5, receiver, 9.5, smallest=6.5)
    pdf.put(x, y + 29.8, w, 3.5, sender_line, 6.5, smallest=5, color=GREY)


def labels_pdf(rows: Iterable[dict[str, Any]], sender: dict[str, Any]) -> bytes:
    """Address labels, 14 a sheet (2 columns × 7 rows, across then down), in the papers' order."""
    ordered = sorted_rows(rows)
    if not ordered:
        raise ValueError("没有要打印的地址标签")
    per_page = LABEL_COLUMNS * LABEL_ROWS

    def lay_out(pdf: _Papers) -> list[pdf_file.Page]:
        line = "寄件：" + "".join(pdf.clean(sender.get(k)) for k in ("school_name", "office") if sender.get(k))
        pages = []
        for start in range(0, len(ordered), per_page):
            pdf.add_page()
            for i, row in enumerate(ordered[start : start + per_page]):
                row_at, column = divmod(i, LABEL_COLUMNS)
                _label(pdf, LABEL_LEFT + column * LABEL_PITCH, LABEL_TOP + row_at * LABEL_H, row, line)
            pages.append(pdf.page_with(b""))
        return pages

    return _render(ordered, (sender,), "档案转递地址标签", lay_out)


# --- the post office's list -----------------------------------------------------------------------


def list_pages(count: int) -> int:
    """Pages of a list of `count` archives: the first holds fewer rows (the header), and the
    signature line goes on a page of its own if the last has no room for it."""
    first = int((LIST_BOTTOM - LIST_FIRST_TOP - LIST_HEAD) // LIST_ROW)
    other = int((LIST_BOTTOM - LIST_TOP - LIST_HEAD) // LIST_ROW)
    pages, left, top = 1, count, LIST_FIRST_TOP
    while left > (first if pages == 1 else other):
        left -= first if pages == 1 else other
        pages, top = pages + 1, LIST_TOP
    if top + LIST_HEAD + left * LIST_ROW + LIST_SIGNATURE > LIST_BOTTOM:
        pages += 1
    return pages


def channel_counts(rows: Iterable[dict[str, Any]]) -> str:
    """ "机要 120 件，EMS 35 件，共 155 件": each channel with archives in the batch."""
    counts: dict[str, int] = {}
    for row in rows:
        label = channel_label(row.get("channel")) or MISSING
        counts[label] = counts.get(label, 0) + 1
    known = list(dispatch.CHANNELS.values())
    parts = [f"{label} {n:,} 件" for label, n in sorted(counts.items(), key=lambda kv: _rank(known, kv[0]))]
    return "，".join([*parts, f"共 {sum(counts.values()):,} 件"])


def _rank(known: list[str], label: str) -> tuple[int, str]:
    return (known.index(label) if label in known else len(known), label)


def _when(value: Any) -> str:
    if isinstance(value, datetime | date):
        return f"{value:%Y-%m-%d}"
    return str(value) if value else "　　　　年　　月　　日"


def _list_head(pdf: _Papers, top: float) -> float:
    pdf.set_draw_color(0, 0, 0)
    pdf.set_fill_color(240, 243, 248)
    pdf.set_line_width(0.3)
    x = LEFT
    for title, w in LIST_COLUMNS:
        pdf.rect(x, top, w, LIST_HEAD, style="DF")
        pdf.put(x, top, w, LIST_HEAD, title, 9, align="C")
        x += w
    return top + LIST_HEAD


def _list_row(pdf: _Papers, top: float, number: int, row: dict[str, Any]) -> None:
    values = (
        str(number),
        row.get("transfer_number"),
        mask_name(row.get("name")),
        row.get("unit_name"),
        row.get("postcode"),
        channel_label(row.get("channel")),
        row.get("waybill"),
    )
    x = LEFT
    pdf.set_line_width(0.15)
    for (title, w), value in zip(LIST_COLUMNS, values, strict=True):
        pdf.rect(x, top, w, LIST_ROW)
        if title == "运单号" and not value:
            pdf.rule(x + 2, top + LIST_ROW - 1.6, x + w - 2, top + LIST_ROW - 1.6, 0.1)  # to be written in
        else:
            pdf.put(x, top, w, LIST_ROW, value, 8.5, smallest=5.5, align="L" if title == "接收单位" else "C")
        x += w


def batch_list_pdf(rows: Iterable[dict[str, Any]], batch: dict[str, Any], campaign: dict[str, Any]) -> bytes:
    """The 交寄清单 of a batch (`batch`: batch_no, created_at), in the papers' order."""
    ordered = sorted_rows(rows)
    total = list_pages(len(ordered))
    sender = campaign.get("sender") or {}
    school = campaign.get("school_name") or sender.get("school_name")

    def lay_out(pdf: _Papers) -> list[pdf_file.Page]:
        title = f"{pdf.clean(school)} 档案交寄清单（第 {pdf.clean(batch.get('batch_no'))} 批）"
        pages: list[pdf_file.Page] = []

        def start(number: int) -> float:
            pdf.add_page()
            if number == 1:
                pdf.put(LEFT, 12, WIDTH, 9, title, 15, align="C")
                office = "".join(pdf.clean(sender.get(k)) for k in ("school_name", "office") if sender.get(k))
                pdf.put(LEFT, 23, WIDTH, 6, f"交寄单位：{office}　　交寄日期：{_when(batch.get('created_at'))}", 9.5)
                pdf.put(
                    LEFT,
                    30,
                    WIDTH,
                    6,
                    f"{pdf.clean(campaign.get('cohort'))} 届毕业生档案　{channel_counts(ordered)}",
                    9.5,
                )
                pdf.put(LEFT, 36, WIDTH, 6, "寄送方式：机要通信或 EMS；姓名已脱敏（仅显示首字）。", 8, color=GREY)
                return _list_head(pdf, LIST_FIRST_TOP)
            pdf.put(LEFT, 10, WIDTH, 6, f"{title}（续）", 9, color=GREY)
            return _list_head(pdf, LIST_TOP)

        def finish(number: int) -> None:
            pdf.put(LEFT, 284, WIDTH, 5, f"第 {number} 页 / 共 {total} 页", 8.5, color=GREY, align="C")
            pages.append(pdf.page_with(b""))

        number, y = 1, start(1)
        for i, row in enumerate(ordered, start=1):
            if y + LIST_ROW > LIST_BOTTOM:
                finish(number)
                number += 1
                y = start(number)
            _list_row(pdf, y, i, row)
            y += LIST_ROW
        if y + LIST_SIGNATURE > LIST_BOTTOM:
            finish(number)
            number += 1
            pdf.add_page()
            y = LIST_TOP
        pdf.put(
            LEFT,
            y + 6,
            WIDTH,
            7,
            "交寄人：______________　　收寄人：______________　　日期：　　　　年　　月　　日",
            10.5,
        )
        finish(number)
        return pages

    return _render(ordered, (campaign, batch), "档案交寄清单", lay_out)
