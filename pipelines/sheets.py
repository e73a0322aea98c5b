"""The cells of a spreadsheet file, read so that no file can hurt the process that asked.

An xlsx is a zip of XML: 5 KB can claim a sheet of 17 billion cells (one blank cell at
XFD1048576), and a 1 MB zip can unpack to gigabytes. The reader (calamine, through fastexcel)
allocates the whole rectangle of a sheet at once, and a failed allocation aborts its process.
So a workbook is read in two steps:

1. Here, before anything is unpacked: the file's size, the zip's declared part sizes and
   compression ratios, against `Limits`.
2. In a child process whose address space is capped (`Limits.memory_mb`) and whose time is
   limited: each sheet's declared dimension, then the cells, then the sheet's real shape.
   The child writes every sheet as an Arrow file of text cells; whatever happens to it (an
   abort, a MemoryError, a timeout), the parent gets a Chinese message saying what was too
   big, and the server that asked keeps running.

Beside the text, the child reads what the text loses: which cells of the ID columns (学号) hold
numbers (their leading zeros may be gone), and which cells are error values (#N/A) or formulas
without a stored result. A csv is read here (its size is the limit; parsing it cannot blow up),
in UTF-8, UTF-8 with BOM or GB18030, with old Mac line endings (CR only) too.

Every cell comes out as text or null; frame row i is the file's row `first_row + i`.
"""

from __future__ import annotations

import csv
import io
import os
import pickle
import re
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import polars as pl

from pipelines import columns
from pipelines.store import config

HEAD_ROWS = 30  # a header row is looked for among a sheet's first rows


class SheetError(Exception):
    """The file as a whole cannot be read; the message is Chinese and names the file."""


@dataclass(frozen=True)
class Limits:
    """How big a file may be. Generous enough for a 1M-row roster; a setting (README, 配置)."""

    file_mb: int = 200
    unpacked_mb: int = 4096  # all parts of an xlsx, unpacked
    ratio: int = 250  # unpacked / packed size of any large part (real sheets: 10-30)
    rows: int = 1_200_000
    columns: int = 300
    cells: int = 40_000_000
    memory_mb: int = 4096  # the reading process's address space
    seconds: int = 600

    @classmethod
    def from_env(cls) -> Limits:
        found = config.import_limits()
        return cls(**{k: v for k, v in found.items() if v is not None})


@dataclass
class Sheet:
    name: str
    index: int  # 0-based position in the workbook
    hidden: bool
    frame: pl.DataFrame  # text cells, columns c0..cN
    first_row: int = 1  # the file's row number of frame row 0
    # (file row, frame column) -> why the cell cannot be read (#N/A, a formula without a result)
    problems: dict[tuple[int, int], str] = field(default_factory=dict)
    # frame column -> file rows whose cell is a number, for the ID columns asked about
    numeric: dict[int, set[int]] = field(default_factory=dict)

    def head(self) -> list[tuple[Any, ...]]:
        return list(self.frame.head(HEAD_ROWS).iter_rows())


def read_workbook(path: Path, limits: Limits, watch: frozenset[str] = frozenset()) -> list[Sheet]:
    """All sheets of an xlsx/xls, or the one table of a csv. `watch`: header keys
    (`columns.header_key`) of the columns whose numeric cells matter (学号)."""
    kind = _file_kind(path, limits)
    return [_read_csv(path, limits)] if kind == "csv" else _in_child(path, limits, watch, kind)


def read_heads(path: Path, limits: Limits) -> list[Sheet]:
    """Only the first rows of each sheet (enough to tell what kind of file it is): an xlsx's
    are read from its XML without loading the sheets, so this is fast whatever the file's size."""
    kind = _file_kind(path, limits)
    if kind == "csv":
        sheet = _read_csv(path, limits)
        return [Sheet(sheet.name, 0, False, sheet.frame.head(HEAD_ROWS + 1))]
    if kind == "xls":
        return [
            Sheet(s.name, s.index, s.hidden, s.frame.head(HEAD_ROWS + 1))
            for s in _in_child(path, limits, frozenset(), kind)
        ]
    answer = _ask(path, "", limits, [], "heads")
    found = []
    for name, index, hidden, rows in answer:
        width = max((len(r) for r in rows), default=1)
        frame = pl.DataFrame(
            [r + [None] * (width - len(r)) for r in rows] or [[None]],
            orient="row",
            schema={f"c{i}": pl.String for i in range(width)},
        )
        found.append(Sheet(name, index, hidden, frame))
    return found


def _file_kind(path: Path, limits: Limits) -> str:
    """xlsx, xls or csv, after the checks that need nothing unpacked."""
    name = path.name
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise SheetError(f"找不到文件 {path}") from None
    if size == 0:
        raise SheetError(f"文件 {name} 是空的")
    if size > limits.file_mb * 1024 * 1024:
        raise SheetError(f"文件 {name} 有 {size / 1024 / 1024:,.1f} MB，超过导入上限 {limits.file_mb} MB")
    with path.open("rb") as fh:
        magic = fh.read(8)
    if magic.startswith(b"PK\x03\x04"):
        _check_zip(path, limits)
        return "xlsx"
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if path.suffix.lower() in (".xlsx", ".xls", ".xlsm"):
        raise SheetError(
            f"文件 {name} 的扩展名是 {path.suffix}，但内容不是 Excel 表格；请用 Excel 另存为 .xlsx 后重新导入"
        )
    return "csv"


# --- checks before anything is unpacked ---------------------------------------------------------


def _check_zip(path: Path, limits: Limits) -> None:
    name = path.name
    try:
        with zipfile.ZipFile(path) as book:
            parts = book.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SheetError(f"文件 {name} 不是有效的 xlsx 文件（压缩结构损坏：{exc}）") from None
    if len(parts) > 10_000:
        raise SheetError(f"文件 {name} 含有 {len(parts):,} 个部件，不像是正常的 Excel 表格，拒绝读取")
    unpacked = sum(p.file_size for p in parts)
    if unpacked > limits.unpacked_mb * 1024 * 1024:
        raise SheetError(
            f"文件 {name} 解压后有 {unpacked / 1024 / 1024:,.0f} MB，超过上限 {limits.unpacked_mb:,} MB"
            "（可能是“压缩炸弹”，或表格过大；请拆分后导入）"
        )
    for part in parts:
        if part.file_size > 8 * 1024 * 1024 and part.file_size > limits.ratio * max(part.compress_size, 1):
            raise SheetError(
                f"文件 {name} 的部件 {part.filename} 压缩比为 {part.file_size / max(part.compress_size, 1):,.0f} 倍"
                f"（解压后 {part.file_size / 1024 / 1024:,.0f} MB），超过上限 {limits.ratio} 倍：这不是正常的表格内容，拒绝读取"
            )


# --- the reading process -----------------------------------------------------------------------


class _Helper:
    """The reading helper: a fresh interpreter (never a fork of this possibly threaded
    process) that has imported the reader once and forks a child per workbook (a few ms).
    It ends when this process does (its stdin closes)."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="dangan-reader-")
        self.address = os.path.join(self.folder, "socket")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        # stderr goes nowhere: a reader that aborts prints a Rust backtrace, which no user should
        # see; the parent explains what happened instead.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipelines.sheets", self.address],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self._ready = False
        self._ready_lock = threading.Lock()

    def wait_ready(self) -> None:
        """Wait until the helper listens (it imports the reader first: about half a second,
        which `warm` lets a command spend on opening the store instead)."""
        with self._ready_lock:
            if self._ready:
                return
            assert self.process.stdout is not None
            if self.process.stdout.readline().strip() != b"ready":
                raise SheetError("无法启动表格读取进程")
            self._ready = True

    def alive(self) -> bool:
        return self.process.poll() is None


_HELPER: _Helper | None = None
_HELPER_LOCK = threading.Lock()


def _started() -> _Helper:
    global _HELPER
    with _HELPER_LOCK:
        if _HELPER is None or not _HELPER.alive():
            _HELPER = _Helper()
        return _HELPER


def _helper() -> _Helper:
    helper = _started()
    helper.wait_ready()
    return helper


def warm() -> None:
    """Start the reading helper now, without waiting for it (a command that will read a
    workbook soon)."""
    _started()


def _send(sock: socket.socket, message: Any) -> None:
    data = pickle.dumps(message)
    sock.sendall(struct.pack("!Q", len(data)) + data)


def _receive(sock: socket.socket) -> Any:
    def exactly(n: int) -> bytes:
        chunks = []
        while n:
            chunk = sock.recv(min(n, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    (size,) = struct.unpack("!Q", exactly(8))
    return pickle.loads(exactly(size))


def _ask(path: Path, folder: str, limits: Limits, watch: list[str], kind: str) -> Any:
    """One request to the reading helper; its answer, or SheetError saying why there is none."""
    answer: Any = None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(_helper().address)
        sock.settimeout(limits.seconds + 5)
        _send(sock, (str(path.resolve()), folder, limits, watch, kind))
        try:
            answer = _receive(sock)
        except TimeoutError:
            raise SheetError(
                f"读取文件 {path.name} 超过 {limits.seconds} 秒，已停止；表格可能过大，请拆分后导入"
            ) from None
        except (EOFError, ConnectionError):
            answer = None
    if answer is None:
        raise SheetError(_measured(path, limits) or _died(path.name, limits))
    if answer[0] == "refused":
        raise SheetError(answer[1])
    return answer[1]


def _in_child(path: Path, limits: Limits, watch: frozenset[str], kind: str) -> list[Sheet]:
    with tempfile.TemporaryDirectory(prefix="dangan-sheets-") as folder:
        sheets: list[Sheet] = []
        for meta in _ask(path, folder, limits, sorted(watch), kind):
            frame = pl.read_ipc(Path(folder) / f"{meta['index']}.arrow")
            frame = frame.rename({c: f"c{i}" for i, c in enumerate(frame.columns)})
            sheets.append(
                Sheet(meta["name"], meta["index"], meta["hidden"], frame.clone(), 1, meta["problems"], meta["numeric"])
            )
        return sheets


def _measured(path: Path, limits: Limits) -> str | None:
    """Why a reading child died, measured by another child (the XML, streamed, under the same caps)."""
    if not zipfile.is_zipfile(path):
        return None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(_helper().address)
        sock.settimeout(limits.seconds + 5)
        _send(sock, (str(path.resolve()), "", limits, [], "measure"))
        try:
            answer = _receive(sock)
        except (TimeoutError, EOFError, ConnectionError):
            return None
    return answer[1] if answer[0] == "refused" else None


def _died(name: str, limits: Limits) -> str:
    return (
        f"文件 {name} 在读取时超出了内存上限 {limits.memory_mb:,} MB 或时间上限 {limits.seconds} 秒，已停止："
        "表格的范围过大（例如远处有一个空白单元格，使工作表有上亿个单元格）或内容被异常压缩。"
        "请在 Excel 中删除多余的行列、另存为新文件后导入"
    )


def _serve(address: str) -> None:
    """The helper's loop: a forked child per connection, which reads one workbook under the
    limits and answers on the connection, then exits."""
    import fastexcel  # noqa: F401  (imported once here, shared by every fork)
    import pyarrow  # noqa: F401
    import pyarrow.ipc  # noqa: F401

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(16)
    sys.stdout.buffer.write(b"ready\n")
    sys.stdout.flush()
    while True:
        ready, _, _ = select.select([listener, sys.stdin], [], [])
        if sys.stdin in ready and not os.read(sys.stdin.fileno(), 1):
            return  # the process that started us has ended
        if listener not in ready:
            continue
        conn, _ = listener.accept()
        if os.fork() == 0:
            listener.close()
            try:
                _child(conn)
            finally:
                os._exit(0)
        conn.close()


def _child(conn: socket.socket) -> None:
    path, folder, limits, watch, kind = _receive(conn)
    cap = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.seconds, limits.seconds + 1))
    signal.alarm(limits.seconds)
    name = Path(path).name
    try:
        if kind == "measure":
            found = _measure(Path(path), limits)
            answer: Any = ("refused", found) if found else ("ok", [])
        elif kind == "heads":
            answer = ("ok", _heads(Path(path)))
        else:
            answer = ("ok", _read_book(Path(path), Path(folder), limits, frozenset(watch), kind))
    except SheetError as exc:
        answer = ("refused", str(exc))
    except MemoryError:
        answer = ("refused", _died(name, limits))
    except Exception as exc:  # calamine reports broken workbooks in many ways
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        answer = ("refused", f"文件 {name} 无法作为 Excel 表格读取（{reason}）")
    _send(conn, answer)
    conn.close()


def _read_book(path: Path, folder: Path, limits: Limits, watch: frozenset[str], kind: str) -> list[dict[str, Any]]:
    import fastexcel
    import pyarrow as pa
    import pyarrow.ipc as ipc

    parts, hidden = _sheet_parts(path) if kind == "xlsx" else ({}, set())
    reader = fastexcel.read_excel(str(path))
    found: list[dict[str, Any]] = []
    for index, sheet_name in enumerate(reader.sheet_names):
        part = parts.get(sheet_name)
        scan: _Scan | None = None
        if part is not None:
            with zipfile.ZipFile(path) as book:
                head = _head_cells(book, part)
            if head.dimension:
                _check_dimension(path.name, sheet_name, head.dimension, limits)
            else:  # no declared size: measure the XML before calamine allocates the sheet
                _check_shape(path.name, sheet_name, *_extent(path, part), limits)
            scan = _Scan(path, part, {letter for letter, keys in head.headers.items() if keys & watch})
            scan.start()
        batch = reader.load_sheet(index, header_row=None, skip_rows=0, dtypes="string", eager=True)
        _check_shape(path.name, sheet_name, batch.num_rows, batch.num_columns, limits)
        with pa.OSFile(str(folder / f"{index}.arrow"), "wb") as sink, ipc.new_file(sink, batch.schema) as writer:
            writer.write_batch(batch)
        problems: dict[tuple[int, int], str] = {}
        numeric: dict[int, set[int]] = {}
        if scan is not None:
            scan.join()
            if scan.failure:
                raise scan.failure
            offset = _column_offset(head, batch)
            problems = {(row, col - offset): why for (row, col), why in scan.problems.items() if col >= offset}
            numeric = {col - offset: rows for col, rows in scan.numeric.items() if col >= offset}
        found.append(
            {
                "name": sheet_name,
                "index": index,
                "hidden": sheet_name in hidden,
                "problems": problems,
                "numeric": numeric,
            }
        )
    return found


def _measure(path: Path, limits: Limits) -> str | None:
    """After a reading child died: which sheet is too big, measured from its XML."""
    try:
        parts, _ = _sheet_parts(path)
        for sheet_name, part in parts.items():
            _check_shape(path.name, sheet_name, *_extent(path, part), limits)
    except SheetError as exc:
        return str(exc)
    except Exception:  # a broken zip: the generic message stands
        return None
    return None


def _extent(path: Path, part: str) -> tuple[int, int]:
    """(rows, columns) a sheet's cells really span, from one streamed pass over its XML."""
    rows = cols = 0
    wide = False
    with zipfile.ZipFile(path) as book, book.open(part) as fh:
        carry = b""
        while chunk := fh.read(8 << 20):
            buf = carry + chunk
            cut = max(buf.rfind(b">") + 1, 0)
            data, carry = buf[:cut], buf[cut:]
            rows = max(
                [
                    rows,
                    *map(int, re.findall(rb'<row r="(\d+)"', data)),
                    *map(int, re.findall(rb'<c r="[A-Z]{1,3}(\d{6,})"', data)),
                ]
            )
            letters = re.findall(rb'<c r="([A-Z]{2,3})\d', data)
            if letters:
                wide = True
                cols = max(cols, *(_cell_ref(f"{x.decode()}1")[0] + 1 for x in set(letters)))  # type: ignore[index]
            elif not wide:
                cols = max(cols, *(ord(x) - 64 for x in set(re.findall(rb'<c r="([A-Z])\d', data))), 0)
    return rows, cols


def _heads(path: Path) -> list[tuple[str, int, bool, list[list[str | None]]]]:
    """(name, index, hidden, first rows) of every sheet, from the XML alone."""
    parts, hidden = _sheet_parts(path)
    found = []
    with zipfile.ZipFile(path) as book:
        for index, (name, part) in enumerate(parts.items()):
            head = _head_cells(book, part)
            rows: list[list[str | None]] = [[] for _ in range(HEAD_ROWS + 1)]
            for row, col, value in head.cells:
                if row <= HEAD_ROWS + 1 and col < 1000:
                    cells = rows[row - 1]
                    cells.extend([None] * (col + 1 - len(cells)))
                    cells[col] = value
            found.append((name, index, name in hidden, rows))
    return found


def _check_dimension(file_name: str, sheet: str, dimension: str, limits: Limits) -> None:
    corners = [_cell_ref(c) for c in dimension.split(":")]
    if any(c is None for c in corners):
        return
    (c1, r1), (c2, r2) = corners[0], corners[-1]  # type: ignore[misc]
    _check_shape(file_name, sheet, r2 - min(r1, 1) + 1, c2 - c1 + 1, limits, dimension)


def _check_shape(file_name: str, sheet: str, rows: int, cols: int, limits: Limits, dimension: str = "") -> None:
    where = f"文件 {file_name} 的工作表“{sheet}”" + (f"（范围 {dimension}）" if dimension else "")
    if rows > limits.rows:
        raise SheetError(f"{where}有 {rows:,} 行，超过上限 {limits.rows:,} 行；请删除多余的行或拆分文件后导入")
    if cols > limits.columns:
        raise SheetError(f"{where}有 {cols:,} 列，超过上限 {limits.columns:,} 列；请删除多余的列后导入")
    if rows * cols > limits.cells:
        raise SheetError(
            f"{where}有 {rows:,} 行 × {cols:,} 列 = {rows * cols:,} 个单元格，超过上限 {limits.cells:,} 个；"
            "请删除多余的行列或拆分文件后导入"
        )


# --- what the XML says that the text does not ----------------------------------------------------

_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _sheet_parts(path: Path) -> tuple[dict[str, str], set[str]]:
    """Sheet name -> its XML part in the zip, and the names of hidden sheets."""
    with zipfile.ZipFile(path) as book:
        workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    parts, hidden = {}, set()
    for sheet in workbook.iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(_REL), "")
        parts[sheet.get("name", "")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        if sheet.get("state", "visible") != "visible":
            hidden.add(sheet.get("name", ""))
    return parts, hidden


_COL = re.compile(r"^([A-Z]{1,3})(\d+)$")


def _cell_ref(ref: str) -> tuple[int, int] | None:
    """`B12` -> (column index 0-based, row 1-based)."""
    m = _COL.match(ref.strip().replace("$", ""))
    if not m:
        return None
    col = 0
    for ch in m[1]:
        col = col * 26 + ord(ch) - 64
    return col - 1, int(m[2])


@dataclass
class _Head:
    dimension: str | None
    cells: list[tuple[int, int, str]]  # (row, column index, text) of the first rows
    headers: dict[str, set[str]]  # column letters -> header keys of its cells in the first rows


_PAST_HEAD = re.compile(rb'<row r="(?:3[2-9]|[4-9]\d|\d{3,})"')
_CELL = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)
_TEXT = re.compile(rb"<t[^>]*>([^<]*)</t>", re.S)
_VALUE = re.compile(rb"<v[^>]*>([^<]*)</v>")


def _head_cells(book: zipfile.ZipFile, part: str) -> _Head:
    """The declared dimension and the cells of a sheet's first rows, read from its XML (the
    shared strings they use included): enough to know which column letters hold 学号."""
    data = b""
    with book.open(part) as fh:  # enough XML for the first rows (a wide sheet needs more), at most 8 MB
        while len(data) < 8 << 20 and (chunk := fh.read(64 << 10)):
            data += chunk
            if _PAST_HEAD.search(data, max(0, len(data) - len(chunk) - 64)):
                break
    dim = re.search(rb'<dimension ref="([^"]+)"', data[:4096])
    limit_row = HEAD_ROWS + 1
    cells: list[tuple[int, str, bytes, bytes]] = []
    for m in _CELL.finditer(data):
        row = int(m[2])
        if row > limit_row:
            break
        cells.append((row, m[1].decode(), m[3], m[4] or b""))
    wanted = {
        int(v) for _, _, attrs, body in cells if b't="s"' in attrs for v in _VALUE.findall(body)[:1] if v.isdigit()
    }
    strings = _shared_strings(book, max(wanted) if wanted else -1)
    out: list[tuple[int, int, str]] = []
    headers: dict[str, set[str]] = {}
    for row, letters, attrs, body in cells:
        if b't="s"' in attrs:
            values = _VALUE.findall(body)
            text = strings.get(int(values[0])) if values and values[0].isdigit() else None
        elif b't="inlineStr"' in attrs:
            text = b"".join(_TEXT.findall(body)).decode("utf-8", "replace")
        else:
            values = _VALUE.findall(body)
            text = values[0].decode("utf-8", "replace") if values else None
        if text:
            ref = _cell_ref(f"{letters}{row}")
            if ref:
                out.append((row, ref[0], _unescape(text)))
                headers.setdefault(letters, set()).add(columns.header_key(_unescape(text)))
    return _Head(dim[1].decode() if dim else None, out, headers)


def _unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&amp;", "&")
    )


_SHARED_STRING = re.compile(rb"<si>(.*?)</si>", re.S)


def _shared_strings(book: zipfile.ZipFile, up_to: int) -> dict[int, str]:
    """Shared strings 0..up_to, streamed (a sheet's header strings come first)."""
    found: dict[int, str] = {}
    if up_to < 0 or "xl/sharedStrings.xml" not in book.namelist():
        return found
    with book.open("xl/sharedStrings.xml") as fh:
        carry = b""
        index = 0
        while index <= up_to:
            chunk = fh.read(1 << 20)
            if not chunk:
                break
            buf = carry + chunk
            end = buf.rfind(b"</si>")
            if end < 0:
                carry = buf
                continue
            for item in _SHARED_STRING.finditer(buf, 0, end + 5):
                if index > up_to:  # the rest of the table is calamine's to read
                    return found
                found[index] = b"".join(_TEXT.findall(item[1])).decode("utf-8", "replace")
                index += 1
            carry = buf[end + 5 :]
    return found


class _Scan(threading.Thread):
    """Reads a sheet's XML once, beside calamine (which releases the GIL): the numeric cells of
    the watched column letters, error values, and formulas without a stored result."""

    def __init__(self, path: Path, part: str, letters: set[str]):
        super().__init__(daemon=True)
        self.path, self.part = path, part
        self.patterns = {
            letters_: re.compile(
                rb'<c r="' + letters_.encode() + rb'(\d+)"(?![^>]*\bt="(?:s|str|inlineStr|e|b|d)")[^>]*><v>'
            )
            for letters_ in letters
        }
        self.numeric: dict[int, set[int]] = {}
        self.problems: dict[tuple[int, int], str] = {}
        self.failure: Exception | None = None

    def run(self) -> None:
        try:
            with zipfile.ZipFile(self.path) as book, book.open(self.part) as fh:
                carry = b""
                while True:
                    chunk = fh.read(8 << 20)
                    buf = carry + chunk
                    cut = len(buf) if not chunk else buf.rfind(b"</row>") + 6
                    if cut < 6 and chunk:
                        carry = buf
                        continue
                    self._look(buf[:cut])
                    carry = buf[cut:]
                    if not chunk:
                        break
        except Exception as exc:  # the main thread reports it
            self.failure = exc

    def _look(self, data: bytes) -> None:
        for letters, pattern in self.patterns.items():
            col = _cell_ref(f"{letters}1")
            assert col is not None
            rows = {int(r) for r in pattern.findall(data)}
            if rows:
                self.numeric.setdefault(col[0], set()).update(rows)
        if b't="e"' in data:
            for m in re.finditer(rb'<c r="([A-Z]{1,3}\d+)"[^>]*\bt="e"[^>]*>(.*?)</c>', data, re.S):
                value = _VALUE.findall(m[2])
                self._problem(m[1], f"单元格是错误值 {value[0].decode() if value else '#N/A'}（公式出错），无法读取")
        if b"<f" in data:
            for m in re.finditer(
                rb'<c r="([A-Z]{1,3}\d+)"[^>]*>(?:<f[^>]*/>|<f[^>]*>[^<]*</f>)(?:<v\s*/>|<v></v>)?</c>', data
            ):
                self._problem(
                    m[1],
                    "单元格是公式但没有计算结果（文件可能由程序生成、未在 Excel 中打开保存过）；"
                    "请在 Excel 中打开并保存，或把公式粘贴为数值后重新导入",
                )

    def _problem(self, ref: bytes, why: str) -> None:
        found = _cell_ref(ref.decode())
        if found:
            self.problems[(found[1], found[0])] = why


def _column_offset(head: _Head, batch: Any) -> int:
    """calamine's frame starts at the sheet's first used column; the XML counts from A."""
    first = min((col for _, col, _ in head.cells), default=0)
    data = batch.slice(0, HEAD_ROWS).to_pydict()
    for index, values in enumerate(data.values()):
        if any(v not in (None, "") for v in values):
            return max(first - index, 0)
    return first


# --- csv -------------------------------------------------------------------------------------------


def _decode(raw: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SheetError(f"文件 {name} 既不是 UTF-8 也不是 GBK 编码的文本，无法读取；请另存为 CSV UTF-8 或 .xlsx")


def _head_lines(data: bytes, count: int) -> bytes:
    """The first `count` lines of `data` (without copying the rest)."""
    end = -1
    for _ in range(count):
        end = data.find(b"\n", end + 1)
        if end < 0:
            return data
    return data[:end]


def _utf8_csv(raw: bytes) -> pl.DataFrame | None:
    """The common case, read straight from the bytes: UTF-8 (with or without BOM), lines ending
    in LF, no row wider than the first ones. None for anything else (the careful path decides)."""
    body = raw.removeprefix(b"\xef\xbb\xbf")
    if b"\r" in body or not body or body.isspace():
        return None
    try:
        head = _head_lines(body, HEAD_ROWS).decode("utf-8")
    except UnicodeDecodeError:
        return None
    width = max((len(r) for r in csv.reader(io.StringIO(head))), default=1)
    try:  # polars refuses bytes that are not UTF-8, and a row wider than `width`
        return pl.read_csv(
            io.BytesIO(body),
            has_header=False,
            infer_schema=False,
            schema={f"c{i}": pl.String for i in range(width)},
            missing_columns="insert",
            truncate_ragged_lines=False,
            raise_if_empty=False,
        )
    except pl.exceptions.ComputeError:
        return None


def _read_csv(path: Path, limits: Limits) -> Sheet:
    raw = path.read_bytes()
    frame = _utf8_csv(raw)
    if frame is not None:
        _check_shape(path.name, "CSV", frame.height, frame.width, limits)
        return Sheet("CSV", 0, False, frame, 1)
    content = _decode(raw, path.name)
    if not content.strip():
        raise SheetError(f"文件 {path.name} 是空的")
    if "\r" in content:  # Windows CRLF, and old Mac CR-only line endings
        content = content.replace("\r\n", "\n").replace("\r", "\n")
    data = content.encode("utf-8")
    # Title rows may be narrower than the table, and a row may be wider than the header: read
    # every row at the width of the widest, so that nothing is cut off (polars needs one width).
    width = max(
        (len(r) for r in csv.reader(io.StringIO("\n".join(content.split("\n", HEAD_ROWS)[:HEAD_ROWS])))), default=1
    )
    for _ in range(3):
        try:
            frame = pl.read_csv(
                io.BytesIO(data),
                has_header=False,
                infer_schema=False,
                schema={f"c{i}": pl.String for i in range(width)},
                missing_columns="insert",
                truncate_ragged_lines=False,
                raise_if_empty=False,
            )
            break
        except pl.exceptions.ComputeError:
            # a row wider than the first ones: measure every row (slow path, rare)
            width = max(len(r) for r in csv.reader(io.StringIO(content)))
    else:
        raise SheetError(f"文件 {path.name} 不是可识别的 CSV 表格")
    _check_shape(path.name, "CSV", frame.height, frame.width, limits)
    return Sheet("CSV", 0, False, frame, 1)


if __name__ == "__main__":
    _serve(sys.argv[1])
