"""Hostile uploads, made in memory: small files that unpack or expand to gigabytes.

- shared_string_bomb: a ~400 KB XLSX whose shared strings unpack to ~400 MB (one huge string);
- empty_rows_bomb: a small XLSX of a million empty rows (and a dimension claiming them);
- colspan_bomb: a ~2 MB HTML table saved as .xls whose cells span thousands of columns.
"""

from __future__ import annotations

import io
import zipfile

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    '</Types>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
_SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')


def _xlsx(sheet_parts, shared_parts) -> bytes:
    """An XLSX written part by part (the big parts as iterables of str, never whole in memory)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        for name, parts in (("xl/sharedStrings.xml", shared_parts), ("xl/worksheets/sheet1.xml", sheet_parts)):
            with archive.open(name, "w", force_zip64=True) as stream:
                for part in parts:
                    stream.write(part.encode())
    return buffer.getvalue()


def shared_string_bomb(megabytes: int = 400) -> bytes:
    """One shared string of `megabytes` MB, used by cell A1 (packs about 1,000:1)."""
    piece = "A" * (1024 * 1024)

    def shared():
        yield ('<?xml version="1.0" encoding="UTF-8"?>'
               '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
               '<si><t>')
        for _ in range(megabytes):
            yield piece
        yield "</t></si></sst>"

    sheet = [_SHEET_HEAD, '<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>']
    return _xlsx(sheet, shared())


def empty_rows_bomb(rows: int = 1_000_000, *, numbered: bool = False) -> bytes:
    """`rows` empty rows (unnumbered: openpyxl counts them; numbered: only the last one, so that
    the reader fills the gap), the dimension claiming them and a last cell in column XFD."""

    def sheet():
        yield _SHEET_HEAD + f'<dimension ref="A1:XFD{rows}"/><sheetData>'
        if not numbered:
            for _ in range(rows // 10_000):
                yield "<row/>" * 10_000
        yield f'<row r="{rows + 1}"><c r="XFD{rows + 1}"><v>1</v></c></row></sheetData></worksheet>'

    shared = ['<?xml version="1.0" encoding="UTF-8"?>'
              '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" uniqueCount="0"/>']
    return _xlsx(sheet(), shared)


def colspan_bomb(cells: int = 40_000) -> bytes:
    """An HTML table saved as .xls: `cells` cells, each spanning 10,000 columns and 1,000 rows."""
    row = '<tr><td colspan="10000" rowspan="1000">x</td></tr>'
    head = "<html><body><table>"
    return (head + row * cells + "</table></body></html>").encode()
