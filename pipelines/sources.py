"""From a file's cells to named columns, with every header accounted for.

The cells come from `sheets` (read safely, every cell as text). This module finds the header
row (below title rows, one level or two: 档案转递单位 merged over 名称/省/市/…), picks the sheet
that has it, maps each header to a field with the one alias table (`columns`) and accounts for
the rest: every header is either a field or named as not imported, a field named by two
columns is refused, a needed column that is missing is refused naming the field, the names
accepted for it and the file's unrecognised headers. Cells that cannot be read (#N/A, a
formula without a result) and invisible characters are reported, never passed on silently.

The row number of each record is the one the user sees in Excel or a text editor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from pipelines import columns, sheets
from pipelines.columns import Layout
from pipelines.rules import text
from pipelines.sheets import HEAD_ROWS, Limits, SheetError

ROW = "_row"  # the column holding each record's row number in the file


class SourceError(Exception):
    """The file as a whole cannot be used; the message names the file and says why."""


@dataclass(frozen=True)
class Column:
    """One column of the file: where it is and what its header says."""

    index: int  # frame column
    header: str  # as written ("档案转递单位 / 名称" for a two-level header)
    letter: str  # Excel column letter, or the column number of a csv

    def __str__(self) -> str:
        return f"“{self.header}”（{self.letter} 列）" if self.header else f"{self.letter} 列（无表头）"


@dataclass
class Source:
    file_name: str
    frame: pl.DataFrame  # canonical field names, all String, plus ROW
    headers: dict[str, str]  # field -> header as written in the file
    sheet: str = ""
    ignored: list[str] = field(default_factory=list)  # headers not imported, as the summary lists them
    notes: list[str] = field(default_factory=list)  # what was read or assumed (sheet chosen, characters removed)
    # (row, field, value, reason): cells of mapped columns that could not be read
    problems: list[tuple[int, str, str, str]] = field(default_factory=list)
    numeric: dict[str, set[int]] = field(default_factory=dict)  # field -> rows whose cell was a number

    @property
    def mapping(self) -> list[tuple[str, str]]:
        """(header in the file, field key), in file order."""
        return list(self.headers.items())


def letter_of(index: int, is_csv: bool) -> str:
    if is_csv:
        return f"第 {index + 1}"
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- finding the header --------------------------------------------------------------------------


@dataclass
class _Header:
    row: int  # frame row of the (first) header row
    depth: int  # 1, or 2 for a two-level header
    columns: list[Column]
    fields: dict[str, list[Column]]  # field -> the columns naming it
    unknown: list[Column]  # columns with a header that is not an alias
    half_read: list[str]  # two-level groups with a sub-header that is not an alias


def _cell(value: Any) -> str:
    return text.clean(value) if value is not None else ""


def _lookup(index: dict[str, str], header: str) -> str | None:
    key = columns.header_key(header)
    return index.get(key) or index.get(columns.without_hint(key))


def _score(row: Sequence[Any], layout: Layout, index: dict[str, str]) -> tuple[int, int]:
    """(known fields, required fields) a row names."""
    found = {f for f in (_lookup(index, _cell(c)) for c in row) if f}
    return len(found), len(found & set(layout.required))


def _is_header(row: Sequence[Any], layout: Layout, index: dict[str, str]) -> bool:
    known, required = _score(row, layout, index)
    return known >= 2 and required >= 1


def find_header(head: list[tuple[Any, ...]], layout: Layout, is_csv: bool) -> _Header | None:
    index = layout.alias_index()
    for i, row in enumerate(head[:HEAD_ROWS]):
        if _is_header(row, layout, index):
            below = head[i + 1] if i + 1 < len(head) else ()
            two = _two_level(row, below, layout, index)
            return _read_header(i, row, below if two else None, layout, index, is_csv)
    return None


def _two_level(top: Sequence[Any], below: Sequence[Any], layout: Layout, index: dict[str, str]) -> bool:
    """Whether the row under a header is its second level: the 学号 column is empty there (a
    data row always has one), and its cells sit under merged (empty) header cells or under a
    group such as 档案转递单位, or complete a name (生源地 + 代码)."""
    if not below:
        return False
    cells = [_cell(c) for c in top]
    under = [_cell(c) for c in below] + [""] * max(0, len(cells) - len(below))
    id_columns = [j for j, c in enumerate(cells) if _lookup(index, c) == "student_id"]
    if not id_columns or any(under[j] for j in id_columns):
        return False
    groups = {columns.header_key(g) for g in layout.groups}
    parent = ""
    for j, child in enumerate(under):
        parent = cells[j] if j < len(cells) and cells[j] else parent
        if not child:
            continue
        own = cells[j] if j < len(cells) else ""
        if not own or columns.header_key(own) in groups or _lookup(index, parent + child):
            return True
    return False


def _read_header(
    i: int, top: Sequence[Any], below: Sequence[Any] | None, layout: Layout, index: dict[str, str], is_csv: bool
) -> _Header:
    cells = [_cell(c) for c in top]
    width = max(len(cells), len(below or ()))
    cells += [""] * (width - len(cells))
    under = [_cell(c) for c in (below or ())] + [""] * (width - len(below or ()))
    groups = {columns.header_key(g) for g in layout.groups}
    found: dict[str, list[Column]] = {}
    unknown: list[Column] = []
    cols: list[Column] = []
    by_parent: dict[str, list[tuple[Column, str | None]]] = {}
    parent = ""
    for j in range(width):
        own, child = cells[j], under[j]
        if own:
            parent = own
        elif below is None or not child:
            parent = ""  # a merged cell spans only what has sub-headers under it
        if below is not None and child:
            header = f"{parent} / {child}" if parent and parent != child else child
            key = _lookup(index, parent + child) or _lookup(index, child) if parent else _lookup(index, child)
            by_parent.setdefault(parent, []).append((Column(j, header, letter_of(j, is_csv)), key))
        else:
            header = own
            key = _lookup(index, own) if own else None
        column = Column(j, header, letter_of(j, is_csv))
        cols.append(column)
        if key:
            found.setdefault(key, []).append(column)
        elif header and columns.header_key(header) not in {columns.header_key(s) for s in layout.skipped}:
            unknown.append(column)
    half_read = []
    for parent_name, children in by_parent.items():
        mapped = [c for c, key in children if key]
        if (mapped or columns.header_key(parent_name) in groups) and len(mapped) < len(children):
            lost = "、".join(f"“{c.header}”" for c, key in children if not key)
            half_read.append(f"两级表头“{parent_name}”下的 {lost} 无法识别")
    return _Header(i, 2 if below is not None else 1, cols, found, unknown, half_read)


# --- the source ----------------------------------------------------------------------------------


def read_source(path: str | Path, layout: Layout, limits: Limits | None = None) -> Source:
    """Read `path` as a file of `layout`: its header row found, every column accounted for.
    Raises SourceError naming the file when it cannot be used at all."""
    path = Path(path)
    watch = frozenset(columns.header_key(a) for a in columns.STUDENT_ID.aliases)
    try:
        book = sheets.read_workbook(path, limits or Limits.from_env(), watch)
    except SheetError as exc:
        raise SourceError(str(exc)) from None
    is_csv = len(book) == 1 and book[0].name == "CSV"
    found = [(sheet, h) for sheet in book if (h := find_header(sheet.head(), layout, is_csv)) is not None]
    if not found:
        raise SourceError(_no_header(path.name, book, layout, is_csv))
    if len(found) > 1:
        names = "、".join(f"“{s.name}”" + ("（隐藏）" if s.hidden else "") for s, _ in found)
        raise SourceError(
            f"文件 {path.name} 有 {len(found)} 个工作表都有{layout.label}的表头：{names}。"
            "请合并到一个工作表，或分别另存为单独的文件后逐个导入"
        )
    sheet, header = found[0]
    notes = []
    if not is_csv and len(book) > 1:
        others = "、".join(f"“{s.name}”" for s in book if s is not sheet)
        notes.append(
            f"数据取自第 {sheet.index + 1} 个工作表“{sheet.name}”；其余工作表（{others}）没有{layout.label}的表头，未读取"
        )
    problems = _column_problems(path.name, layout, header)
    if problems:
        raise SourceError("；".join(problems))
    return _source(path.name, sheet, header, layout, notes)


def _no_header(name: str, book: list[sheets.Sheet], layout: Layout, is_csv: bool) -> str:
    needed = "、".join(layout.by_key[r].label for r in layout.required)
    message = f"文件 {name} 中没有找到{layout.label}的表头行（应包含 {needed} 等列，在前 {HEAD_ROWS} 行内）"
    if not is_csv:
        message += "；已查看的工作表：" + "、".join(f"“{s.name}”" for s in book)
    for other in columns.LAYOUTS.values():
        if other is layout:
            continue
        for sheet in book:
            if find_header(sheet.head(), other, is_csv) is not None:
                return message + f"。这个文件像是{other.label}（工作表“{sheet.name}”有它的表头），请选择正确的文件类型"
    return message


def _column_problems(name: str, layout: Layout, header: _Header) -> list[str]:
    """Why the columns cannot be imported: duplicates, a needed column missing, half-read
    two-level headers. The unrecognised headers are listed with a missing column."""
    problems = [f"文件 {name}：{p}，未导入任何数据" for p in header.half_read]
    for key, cols in header.fields.items():
        if len(cols) > 1:
            both = "和".join(str(c) for c in cols)
            problems.append(
                f"文件 {name} 的{both}都对应“{layout.by_key[key].label}”，无法确定用哪一列；请删除或改名其中一列"
            )
    missing = [key for key in layout.required if key not in header.fields]
    missing += [group[0] for group in layout.one_of if not any(k in header.fields for k in group)]
    for key in missing:
        group = next((g for g in layout.one_of if key in g), (key,))
        accepted = "；或 ".join(layout.accepted(k) for k in group)
        problems.append(f"文件 {name} 缺少必需的列“{layout.by_key[key].label}”（可用的表头：{accepted}）")
    if missing and header.unknown:
        problems.append("文件中未能识别的表头：" + "、".join(str(c) for c in header.unknown))
    return problems


def _source(name: str, sheet: sheets.Sheet, header: _Header, layout: Layout, notes: list[str]) -> Source:
    start = header.row + header.depth  # first data row in the frame
    first_file_row = sheet.first_row + start
    frame = sheet.frame
    picked = {key: cols[0] for key, cols in header.fields.items()}
    body = frame.slice(start).with_row_index(ROW, offset=first_file_row).with_columns(pl.col(ROW).cast(pl.Int64))
    out = body.select(ROW, *[pl.col(f"c{c.index}").alias(key) for key, c in picked.items()])
    # Columns with no header at all, and columns wider than the header, that hold data
    used = {c.index for c in header.columns if c.header}
    blank = [j for j in range(frame.width) if j not in used]
    counts = (
        body.select(pl.col(f"c{j}").drop_nulls().str.strip_chars().ne("").sum().alias(str(j)) for j in blank)
        if blank
        else None
    )
    ignored = [str(c) for c in header.columns if c.header and c.index not in {p.index for p in picked.values()}]
    if counts is not None:
        for j in blank:
            n = int(counts[str(j)][0] or 0)
            if n:
                ignored.append(f"{letter_of(j, sheet.name == 'CSV')} 列（无表头，有 {n:,} 个非空单元格）")
    out, removed = _strip_invisible(out, {key: c.header for key, c in picked.items()})
    if removed:
        notes.append("已去除不可见字符：" + "；".join(removed))
    # Drop rows with nothing in any imported column (blank lines, a total row of spaces).
    keys = list(picked)
    empty = pl.all_horizontal([pl.col(k).is_null() | (pl.col(k).str.strip_chars() == "") for k in keys])
    out = out.filter(~empty)
    index_of = {c.index: key for key, c in picked.items()}
    # Unreadable cells of imported columns, on data rows (a row whose every cell is a formula
    # without a result looks blank, and is reported all the same).
    problems = [
        (row, index_of[col], "", why)
        for (row, col), why in sorted(sheet.problems.items())
        if col in index_of and row >= first_file_row
    ]
    numeric = {
        index_of[col]: {r for r in rows if r >= first_file_row}
        for col, rows in sheet.numeric.items()
        if col in index_of
    }
    headers = {key: c.header for key, c in picked.items()}
    return Source(name, out, headers, sheet.name, ignored, notes, problems, numeric)


def _strip_invisible(frame: pl.DataFrame, headers: dict[str, str]) -> tuple[pl.DataFrame, list[str]]:
    """Remove invisible and control characters from every text column; say where, how often
    and which."""
    cols = [c for c in frame.columns if c != ROW]
    hits = frame.select(pl.col(c).str.contains(text.INVISIBLE).sum().alias(c) for c in cols).row(0, named=True)
    dirty = [c for c in cols if hits[c]]
    if not dirty:
        return frame, []
    said = []
    for c in dirty:
        chars = frame.select(pl.col(c).str.extract_all(text.INVISIBLE).explode().drop_nulls().unique()).to_series()
        names = "、".join(sorted({text.invisible_name(ch) for ch in chars.to_list() if ch}))
        said.append(f"{headers.get(c, c)} 列 {hits[c]:,} 个单元格（{names}）")
    cleaned = frame.with_columns(pl.col(c).str.replace_all(text.INVISIBLE, "") for c in dirty)
    return cleaned, said
