"""Hostile Office files for the tests, generated in a fraction of a second.

DOCX and XLSX are written by hand (not by python-docx or openpyxl) so the tests decide every
part: how much XML, how many shared strings, what the ZIP directory declares.
"""

import struct
import zipfile
from pathlib import Path

_PACKAGE_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="{target}"/></Relationships>'
)
_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    "{overrides}</Types>"
)
_OFFICE = "application/vnd.openxmlformats-officedocument"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
S_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PARAGRAPH = "<w:p><w:r><w:t>Casefile paragraph</w:t></w:r></w:p>"


def _override(part: str, content_type: str) -> str:
    return f'<Override PartName="/{part}" ContentType="{content_type}"/>'


def docx(
    path: Path,
    *,
    xml_bytes: int = 0,
    paragraphs: tuple[str, ...] = (),
    main_part: str = "word/document.xml",
    level: int = 9,
) -> Path:
    """A DOCX whose main part holds the paragraphs, then repeated ones up to xml_bytes."""
    body = "".join(f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>" for text in paragraphs)
    if xml_bytes:
        body += PARAGRAPH * (xml_bytes // len(PARAGRAPH))
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{W_NS}">'
        f"<w:body>{body}</w:body></w:document>"
    )
    main_type = f"{_OFFICE}.wordprocessingml.document.main+xml"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        archive.writestr(
            "[Content_Types].xml", _TYPES.format(overrides=_override(main_part, main_type))
        )
        archive.writestr("_rels/.rels", _PACKAGE_RELS.format(target=main_part))
        archive.writestr(main_part, document)
    return path


def xlsx(
    path: Path,
    rows: list[list[str]],
    *,
    extra_strings: int = 0,
    distinct: bool = False,
    level: int = 9,
) -> Path:
    """An XLSX of one sheet whose cells are all shared strings, with extra_strings more that
    no cell uses after them (repeated, so the part compresses very well, unless distinct)."""
    strings: list[str] = []
    index: dict[str, int] = {}
    xml_rows = []
    for number, row in enumerate(rows, start=1):
        cells = []
        for column, value in enumerate(row):
            if value not in index:
                index[value] = len(strings)
                strings.append(value)
            cells.append(f'<c r="{chr(65 + column)}{number}" t="s"><v>{index[value]}</v></c>')
        xml_rows.append(f'<row r="{number}">{"".join(cells)}</row>')
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{S_NS}"><sheetData>'
        f"{''.join(xml_rows)}</sheetData></worksheet>"
    )
    if distinct:
        extra = "".join(f"<si><t>s{i * 7919 % 10_000_019}</t></si>" for i in range(extra_strings))
    else:
        extra = "<si><t>x</t></si>" * extra_strings
    count = len(strings) + extra_strings
    shared = (
        f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{S_NS}" count="{count}" '
        f'uniqueCount="{count}">{"".join(f"<si><t>{s}</t></si>" for s in strings)}{extra}</sst>'
    )
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{S_NS}" xmlns:r="{_R_NS}">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    workbook_rels = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_R_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_R_NS}/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    )
    overrides = (
        _override("xl/workbook.xml", f"{_OFFICE}.spreadsheetml.sheet.main+xml")
        + _override("xl/worksheets/sheet1.xml", f"{_OFFICE}.spreadsheetml.worksheet+xml")
        + _override("xl/sharedStrings.xml", f"{_OFFICE}.spreadsheetml.sharedStrings+xml")
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        archive.writestr("[Content_Types].xml", _TYPES.format(overrides=overrides))
        archive.writestr("_rels/.rels", _PACKAGE_RELS.format(target="xl/workbook.xml"))
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        archive.writestr("xl/sharedStrings.xml", shared)
    return path


def declare_size(path: Path, member: str, size: int) -> None:
    """Make the ZIP's local header and central directory declare `size` as the member's
    uncompressed size, whatever it really holds."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    # Local file header: uncompressed size at offset 22.
    assert data[info.header_offset : info.header_offset + 4] == b"PK\x03\x04"
    struct.pack_into("<L", data, info.header_offset + 22, size)
    # Central directory entry for the member: uncompressed size at offset 24.
    at = data.rfind(b"PK\x01\x02", 0, data.rfind(b"PK\x05\x06"))
    while at >= 0:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + name_length]) == name:
            struct.pack_into("<L", data, at + 24, size)
            break
        at = data.rfind(b"PK\x01\x02", 0, at)
    else:
        raise AssertionError(f"{member} not in the central directory")
    path.write_bytes(bytes(data))
