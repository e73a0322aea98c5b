"""Reading the spreadsheets offices really have: xlsx or csv, in UTF-8, UTF-8 with BOM or
GBK/GB18030, with Chinese headers under several names and title rows above the header.

Every cell comes out as text, untouched apart from the header mapping: leading zeros stay,
and the row number of each record is the one the user sees in Excel or a text editor.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import fastexcel
import polars as pl

from pipelines import text

HEADER_SEARCH_ROWS = 30
ROW = "_row"  # the column holding each record's row number in the file


class SourceError(Exception):
    """The file as a whole cannot be read; the message names the file and says why."""


@dataclass(frozen=True)
class Source:
    file_name: str
    frame: pl.DataFrame  # canonical column names, all String, plus ROW
    headers: dict[str, str]  # canonical name -> header as written in the file


def _header_key(cell: object) -> str:
    key = text.compact(cell).lower()
    return re.sub(r"[*＊:：]|[（(]必填[)）]|[（(]选填[)）]", "", key)


def _detect_format(path: Path) -> str:
    head = path.read_bytes()[:8]
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if path.suffix.lower() in (".xlsx", ".xls", ".xlsm"):
        raise SourceError(f"文件 {path.name} 的扩展名是 {path.suffix}，但内容不是 Excel 表格；请用 Excel 另存为 .xlsx 后重新导入")
    return "csv"


def _decode(raw: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SourceError(f"文件 {name} 既不是 UTF-8 也不是 GBK 编码的文本，无法读取；请另存为 CSV UTF-8 或 .xlsx")


def _find_header(rows: Sequence[Sequence[object]], alias_to_name: dict[str, str],
                 required: tuple[str, ...]) -> tuple[int, dict[str, int]] | None:
    """The first row that names at least two known columns, one of them required."""
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found: dict[str, int] = {}
        for j, cell in enumerate(row):
            name = alias_to_name.get(_header_key(cell))
            if name and name not in found:
                found[name] = j
        if len(found) >= 2 and any(r in found for r in required):
            return i, found
    return None


def _raw_rows(path: Path, alias_to_name: dict[str, str], required: tuple[str, ...]
              ) -> tuple[pl.DataFrame, int]:
    """All cells as text from the header row on, and the header's 1-based row number."""
    kind = _detect_format(path)
    if kind in ("xlsx", "xls"):
        try:
            reader = fastexcel.read_excel(str(path))
            sheet = reader.load_sheet(0, header_row=None, skip_rows=0, dtypes="string")
            frame = sheet.to_polars()
        except Exception as exc:  # calamine reports broken workbooks in many ways
            reason = str(exc).splitlines()[0]
            raise SourceError(f"文件 {path.name} 无法作为 Excel 表格读取（{reason}）") from None
        found = _find_header(list(frame.head(HEADER_SEARCH_ROWS).iter_rows()), alias_to_name, required)
        start = found[0] if found else 0
        return frame.slice(start), start + 1
    content = _decode(path.read_bytes(), path.name)
    if not content.strip():
        raise SourceError(f"文件 {path.name} 是空的")
    # Title rows may be narrower than the table: find the header with the csv module, then let
    # polars read from the header line on (skip_rows counts lines, blank ones included).
    first = [tuple(r) for r in csv.reader(io.StringIO("\n".join(content.splitlines()[:HEADER_SEARCH_ROWS])))]
    found = _find_header(first, alias_to_name, required)
    start = found[0] if found else 0
    frame = pl.read_csv(
        io.BytesIO(content.encode("utf-8")),
        has_header=False,
        infer_schema=False,
        truncate_ragged_lines=True,
        skip_rows=start,
    )
    return frame, start + 1


def read_source(path: str | Path, columns: dict[str, tuple[str, ...]], required: tuple[str, ...],
                what: str) -> Source:
    """Read `path`, find its header row and map its columns to canonical names.

    `columns` maps each canonical name to the header spellings it accepts (the first is the
    name shown to users). Raises SourceError naming the file when it cannot be used at all.
    """
    path = Path(path)
    if not path.exists():
        raise SourceError(f"找不到文件 {path}")
    if path.stat().st_size == 0:
        raise SourceError(f"文件 {path.name} 是空的")
    alias_to_name = {_header_key(a): name for name, aliases in columns.items() for a in aliases}
    raw, header_row = _raw_rows(path, alias_to_name, required)
    if raw.height == 0:
        raise SourceError(f"文件 {path.name} 是空的")
    found = _find_header(list(raw.head(1).iter_rows()), alias_to_name, required)
    if found is None:
        names = "、".join(columns[r][0] for r in required)
        raise SourceError(f"文件 {path.name} 中没有找到{what}的表头行（应包含 {names} 等列）")
    mapping = found[1]
    missing = [columns[r][0] for r in required if r not in mapping]
    if missing:
        raise SourceError(f"文件 {path.name} 缺少必需的列：{'、'.join(missing)}")
    header_cells = raw.row(0)
    body = raw.slice(1).with_row_index(ROW, offset=header_row + 1)
    frame = body.select(
        pl.col(ROW).cast(pl.Int64),
        *[pl.col(raw.columns[j]).alias(name) for name, j in mapping.items()],
    )
    blank = pl.all_horizontal([pl.col(n).is_null() | (pl.col(n).str.strip_chars() == "") for n in mapping])
    frame = frame.filter(~blank)
    headers = {name: str(header_cells[j]).strip() for name, j in mapping.items()}
    return Source(path.name, frame, headers)
