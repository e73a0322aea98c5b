"""PDF files of pages that fpdf2 laid out, with one embedded TrueType font cut for each file.

Why not fpdf2's own `output()` (#17): it cuts the font subset with fontTools for every file, at
least 15-30 ms even for a font of a few hundred glyphs (60 ms for the CFF outlines of Noto Sans
SC), which caps a ZIP of single-report PDFs at a few files a second per core. Here a batch makes
one TrueType font (`batch_font`: the Noto Sans SC glyphs of every character the batch can
print, converted from CFF once), and `FontCutter.cut` makes each file's font from it by keeping
the glyphs that file prints and emptying the rest: glyph ids stay as they are, so nothing is
renumbered, and a cut costs well under a millisecond. The merged PDF of a batch is one such
file with one font; each ZIP member is another, with only its own glyphs.

A file holds only what these pages need: the A4 pages, one Type0/CIDFontType2 font with its
ToUnicode map (so text is searchable and copyable), a QR image on the pages that have one.

`Layout` is the fpdf2 document such batches are laid out with (the verification reports, the
dispatch papers): the batch font with the same codes in every process, each page taken as a
`Page` instead of fpdf2's own output.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pylopdf_fonts_zh_cn
from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable
from fpdf import FPDF
from fpdf.fonts import TTFFont

# Tables a font program embedded as /FontFile2 needs (PDF 32000-1, 9.9), plus OS/2, post and a
# small cmap that some viewers still look for.
_KEPT = ("OS/2", "head", "hhea", "hmtx", "maxp")


@dataclass(frozen=True)
class Glyph:
    """What a code of the font (as fpdf2 assigned it) stands for."""

    gid: int
    width: int  # in 1/1000 em
    text: str  # what it copies as (ToUnicode)


@dataclass(frozen=True)
class Page:
    """One laid-out page: its content stream (Flate-compressed), the codes it prints and its QR
    code as 1-bit grey pixels (Flate-compressed; 0 is dark)."""

    content: bytes
    codes: frozenset[int]
    qr: bytes = b""  # none on this page
    qr_size: int = 0  # pixels a side


def batch_font(text: str, source: Path, path: Path) -> None:
    """Write to `path` a TrueType font with the glyphs of `text` from the CFF font `source`."""
    options = subset.Options()
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.drop_tables += ["BASE", "DSIG", "GDEF", "GPOS", "GSUB", "VORG", "vhea", "vmtx"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    font = TTFont(str(source))
    subsetter.subset(font)
    _to_truetype(font)
    font.save(str(path))


def _to_truetype(font: TTFont) -> None:
    """Quadratic outlines (within 1/1000 em of the cubic ones) in a glyf table, as fontTools'
    otf2ttf recipe does."""
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    del font["CFF "]
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for field in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, field, 0)
    maxp.maxZones = 1
    font["head"].glyphDataFormat = 0
    post = font["post"]
    post.formatType, post.extraNames, post.mapping = 2.0, [], {}
    font.sfntVersion = "\x00\x01\x00\x00"


class FontCutter:
    """A batch's TrueType font, read once, from which each file's font program is cut."""

    def __init__(self, path: Path) -> None:
        data = path.read_bytes()
        count = struct.unpack_from(">H", data, 4)[0]
        tables = {}
        for i in range(count):
            tag, _, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
            tables[tag.decode("latin-1")] = data[offset : offset + length]
        self.tables = {tag: tables[tag] for tag in _KEPT}
        self.post = b"\x00\x03\x00\x00" + tables["post"][4:32]  # format 3: no glyph names
        head = tables["head"]
        long_offsets = struct.unpack_from(">h", head, 50)[0] == 1
        glyph_count = struct.unpack_from(">H", tables["maxp"], 4)[0]
        loca = (
            struct.unpack_from(f">{glyph_count + 1}I", tables["loca"])
            if long_offsets
            else [2 * o for o in struct.unpack_from(f">{glyph_count + 1}H", tables["loca"])]
        )
        glyf = tables["glyf"]
        self.glyphs = [glyf[loca[i] : loca[i + 1]] for i in range(glyph_count)]
        units = struct.unpack_from(">H", head, 18)[0]
        x_min, y_min, x_max, y_max = struct.unpack_from(">4h", head, 36)
        ascent, descent = struct.unpack_from(">hh", tables["hhea"], 4)
        os2 = tables["OS/2"]
        cap_height = struct.unpack_from(">h", os2, 88)[0] if struct.unpack_from(">H", os2)[0] >= 2 else ascent
        scale = 1000 / units
        self.metrics = (
            f"/Ascent {round(ascent * scale)} /Descent {round(descent * scale)} "
            f"/CapHeight {round(cap_height * scale)} /FontBBox [{round(x_min * scale)} "
            f"{round(y_min * scale)} {round(x_max * scale)} {round(y_max * scale)}]"
        )

    def cut(self, characters: dict[int, str]) -> bytes:
        """A font program with the outlines of these glyphs (gid → the character it prints) and
        every other glyph empty."""
        glyf = bytearray()
        loca = []
        for gid, outline in enumerate(self.glyphs):
            loca.append(len(glyf))
            if gid == 0 or gid in characters:
                glyf += outline + b"\x00" * (-len(outline) % 4)
        loca.append(len(glyf))
        head = bytearray(self.tables["head"])
        struct.pack_into(">h", head, 50, 1)  # indexToLocFormat: long offsets
        return _sfnt(
            {
                **self.tables,
                "head": bytes(head),
                "glyf": bytes(glyf),
                "post": self.post,
                "loca": struct.pack(f">{len(loca)}I", *loca),
                "cmap": _cmap(characters),
            }
        )


def _cmap(characters: dict[int, str]) -> bytes:
    """A format 4 cmap (Windows, Unicode BMP) of the cut glyphs, a segment a character. The PDF
    maps codes to glyphs itself (CIDToGIDMap); this is for viewers that look for a cmap."""
    pairs = sorted({ord(text[0]): gid for gid, text in characters.items() if text and ord(text[0]) < 0xFFFF}.items())
    pairs = [*pairs[:8000], (0xFFFF, 0)]  # a format 4 table holds at most 8,190 segments
    count = len(pairs)
    search = 2 ** (count.bit_length() - 1)
    ends = [c for c, _ in pairs]
    deltas = [(gid - c) % 0x10000 if c != 0xFFFF else 1 for c, gid in pairs]
    body = struct.pack(
        f">HHHH{count}HH{count}H{count}H{count}H",
        2 * count,
        2 * search,
        search.bit_length() - 1,
        2 * count - 2 * search,
        *ends,
        0,
        *ends,
        *deltas,
        *([0] * count),
    )
    return struct.pack(">HHHHIHHH", 0, 1, 3, 1, 12, 4, 6 + len(body), 0) + body


def _checksum(data: bytes) -> int:
    data += b"\x00" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(data) // 4}I", data)) & 0xFFFFFFFF


def _sfnt(tables: dict[str, bytes]) -> bytes:
    """A TrueType file of these tables, with the checksums the format asks for."""
    tags = sorted(tables)
    search = 2 ** (len(tags).bit_length() - 1)
    directory = bytearray(
        struct.pack(">IHHHH", 0x00010000, len(tags), 16 * search, search.bit_length() - 1, 16 * (len(tags) - search))
    )
    body = bytearray()
    offset = 12 + 16 * len(tags)
    at = {}
    for tag in tags:
        table = bytearray(tables[tag])
        if tag == "head":
            struct.pack_into(">I", table, 8, 0)  # checkSumAdjustment counts as 0 in every checksum
        at[tag] = offset + len(body)
        directory += struct.pack(">4sIII", tag.encode("latin-1"), _checksum(bytes(table)), at[tag], len(table))
        body += table + b"\x00" * (-len(table) % 4)
    font = bytearray(directory + body)
    struct.pack_into(">I", font, at["head"] + 8, (0xB1B0AFBA - _checksum(bytes(font))) & 0xFFFFFFFF)
    return bytes(font)


def write(
    pages: list[Page],
    cutter: FontCutter,
    glyphs: dict[int, Glyph],
    font_name: str,
    title: str,
    size: tuple[float, float],
) -> bytes:
    """A PDF of `pages`, whose text is in the font resource `font_name` with codes `glyphs`."""
    codes = sorted(set().union(*(page.codes for page in pages)) & glyphs.keys())
    program = cutter.cut({glyphs[c].gid: glyphs[c].text for c in codes})
    tag = "".join(chr(65 + b % 26) for b in hashlib.sha1(program).digest()[:6])
    to_gid = bytearray(2 * (max(codes, default=0) + 1))
    for code in codes:
        struct.pack_into(">H", to_gid, 2 * code, glyphs[code].gid)
    widths = " ".join(f"{code} [{glyphs[code].width}]" for code in codes)
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Count {len(pages)} /Kids [{' '.join(f'{10 + 3 * i} 0 R' for i in range(len(pages)))}] >>".encode(),
        f"<< /Title <FEFF{title.encode('utf-16-be').hex().upper()}> /Creator (dangan) /Producer (dangan) >>".encode(),
        f"<< /Type /Font /Subtype /Type0 /BaseFont /{tag}+NotoSansSC /Encoding /Identity-H "
        f"/DescendantFonts [5 0 R] /ToUnicode 8 0 R >>".encode(),
        f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{tag}+NotoSansSC "
        f"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 6 0 R "
        f"/DW 1000 /W [{widths}] /CIDToGIDMap 9 0 R >>".encode(),
        f"<< /Type /FontDescriptor /FontName /{tag}+NotoSansSC /Flags 4 {cutter.metrics} /ItalicAngle 0 "
        f"/StemV 80 /FontFile2 7 0 R >>".encode(),
        _stream(zlib.compress(program), f"/Length1 {len(program)} /Filter /FlateDecode"),
        _stream(zlib.compress(_to_unicode({c: glyphs[c].text for c in codes})), "/Filter /FlateDecode"),
        _stream(zlib.compress(bytes(to_gid)), "/Filter /FlateDecode"),
    ]
    width, height = size
    for i, page in enumerate(pages):
        first = 10 + 3 * i
        image = f" /XObject << /QR {first + 2} 0 R >>" if page.qr else ""
        objects += [
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width:.2f} {height:.2f}] /Contents {first + 1} 0 R "
            f"/Resources << /Font << /{font_name} 4 0 R >>{image} >> >>".encode(),
            _stream(page.content, "/Filter /FlateDecode"),
            _stream(
                page.qr,
                f"/Type /XObject /Subtype /Image /Width {page.qr_size} /Height {page.qr_size} "
                "/ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /FlateDecode",
            )
            if page.qr
            else b"null",  # keeps every page three objects
        ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R /Info 3 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _stream(data: bytes, entries: str) -> bytes:
    return f"<< /Length {len(data)} {entries} >>\nstream\n".encode() + data + b"\nendstream"


def _to_unicode(texts: dict[int, str]) -> bytes:
    lines = [f"<{code:04X}> <{text.encode('utf-16-be').hex().upper()}>" for code, text in texts.items() if text]
    blocks = "".join(
        f"{len(part)} beginbfchar\n" + "\n".join(part) + "\nendbfchar\n"
        for part in (lines[i : i + 100] for i in range(0, len(lines), 100))
    )
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        f"{blocks}endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
    ).encode()


# --- laying a batch out with fpdf2 ----------------------------------------------------------------

FONT = "NotoSansSC"
_STRING = re.compile(rb"\((?:[^\\()]|\\.)*\)", re.DOTALL)  # a PDF string, parentheses escaped inside
_ESCAPE = re.compile(rb"\\(.)", re.DOTALL)
_UNESCAPED = {b"\\": b"\\", b"(": b"(", b")": b")", b"r": b"\r", b"n": b"\n"}


class LayoutError(ValueError):
    """A page printed a character the batch font was not cut for (a program error)."""


@dataclass(frozen=True)
class Batch:
    """What every process needs to lay out a batch: its font file and the characters the font
    was cut for, in the order their codes are given out."""

    font_path: str
    characters: str


@contextmanager
def batch(text: set[str]) -> Iterator[Batch]:
    """A batch font (Noto Sans SC) for these characters, printable ASCII added, in a temporary file."""
    characters = "".join(sorted(text | {chr(c) for c in range(0x20, 0x7F)}))
    with tempfile.TemporaryDirectory(prefix="dangan-font-") as folder:
        path = Path(folder) / "batch.ttf"
        batch_font(characters, pylopdf_fonts_zh_cn.sans_path(), path)
        yield Batch(str(path), characters)


class Layout(FPDF):
    """An A4 fpdf2 document in a batch's font whose pages are taken one by one (`page`) and
    written together (`file`) by `write`, never by fpdf2's `output()`."""

    def __init__(self, batch: Batch) -> None:
        super().__init__(format="A4", unit="mm")
        self.add_font(FONT, fname=batch.font_path)
        self.set_auto_page_break(auto=False)
        font = self.fonts[FONT.lower()]
        assert isinstance(font, TTFFont)
        # Codes in the order of `characters`, the same in every process: pages laid out in
        # different processes share one font in the merged file.
        self.codes = {ch: code for ch in batch.characters if (code := font.subset.pick(ord(ch))) is not None}
        self._font = font
        self.glyphs = {
            code: Glyph(glyph.glyph_id, glyph.glyph_width, _text_of(glyph.unicode))
            for glyph, code in font.subset.items()
            if glyph is not None and code != 0
        }
        self.glyphs[0] = Glyph(0, 0, "")  # .notdef

    def page_content(self) -> bytes:
        """The content stream of the page being laid out, as fpdf2 wrote it so far."""
        content = self.pages[self.page].contents
        assert isinstance(content, bytearray)  # until fpdf2's output(), which this never calls
        return bytes(content)

    def taken(self, content: bytes, qr: bytes = b"", qr_pixels: int = 0) -> Page:
        """A page of this content stream, checked to print only the batch font's characters."""
        codes = codes_in(content)
        if not codes <= self.glyphs.keys():
            raise LayoutError("排版 PDF 失败：用到了批次字体以外的字符（程序错误，请报告）")
        return Page(zlib.compress(content), frozenset(codes), qr, qr_pixels)

    def file(self, pages: list[Page], cutter: FontCutter, title: str) -> bytes:
        return write(pages, cutter, self.glyphs, f"F{self._font.i}", title, (self.w_pt, self.h_pt))


def codes_in(content: bytes) -> set[int]:
    """The codes a page's content stream shows: every string in it is text, two bytes a code
    (fpdf2 writes them with `(`, `)`, `\\` and CR escaped)."""
    codes: set[int] = set()
    for string in _STRING.findall(content):
        raw = _ESCAPE.sub(lambda m: _UNESCAPED.get(m.group(1), m.group(1)), string[1:-1])
        codes.update(int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2))
    return codes


def _text_of(unicode: int | tuple[int, ...] | None) -> str:
    return chr(unicode) if isinstance(unicode, int) else "".join(map(chr, unicode or ()))
