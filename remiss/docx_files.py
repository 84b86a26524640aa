"""Word files in and out: checking an upload before anything parses it, and reading its headings.

Everything here is pure: bytes in, data or a WorkflowError out. Nothing touches the database.
"""
import io
import re
import zipfile
import zlib

from flask_babel import lazy_gettext as _l

from .errors import WorkflowError
from .outline import INTRODUCTION, WHOLE_DOCUMENT, ParsedDraft, ParsedSection, finish_sections, outline_of
from .word_reading import read_word

__all__ = ["INTRODUCTION", "WHOLE_DOCUMENT", "ParsedDraft", "ParsedSection", "parse_docx", "parse_text"]

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_TYPE = "application/pdf"
MAIN_PART = "word/document.xml"
MACRO_MARKERS = ("vbaProject.bin", "macroEnabled")
# A zip's first bytes: a file that starts so but has no readable directory is a damaged (truncated) zip.
ZIP_SIGNATURE = b"PK\x03\x04"

# Limits that hold before any XML is parsed: a small upload must not inflate into gigabytes.
MAX_ENTRIES = 2000
MAX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed, for any entry larger than RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024


def check_docx(data: bytes, filename: str, max_size: int) -> None:
    """Refuse anything that is not a plain, sane .docx, with a message saying why."""
    _check_size(data, max_size)
    name = filename.lower()
    if name.endswith(".docm") or name.endswith(".dotm"):
        raise WorkflowError(_l("Filen innehåller makron (.docm). Spara den som ett vanligt Word-dokument (.docx) "
                               "och försök igen."), "file")
    if not zipfile.is_zipfile(io.BytesIO(data)) and not data.startswith(ZIP_SIGNATURE):
        raise WorkflowError(_l("Filen är inte ett Word-dokument (.docx). Spara den som .docx i Word och försök "
                               "igen."), "file")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            _check_inflation(entries)
            names = {entry.filename for entry in entries}
            content_types = archive.read("[Content_Types].xml").decode("utf-8", "replace") \
                if "[Content_Types].xml" in names else ""
            if any(marker in n for n in names for marker in MACRO_MARKERS) or "macroEnabled" in content_types:
                raise WorkflowError(_l("Filen innehåller makron (.docm). Spara den som ett vanligt Word-dokument "
                                       "(.docx) och försök igen."), "file")
            if MAIN_PART not in names or not content_types:
                raise WorkflowError(_l("Filen är inte ett Word-dokument (.docx). Spara den som .docx i Word och "
                                       "försök igen."), "file")
            if archive.testzip() is not None:
                raise zipfile.BadZipFile("bad CRC")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError,
            ValueError) as error:
        raise WorkflowError(_l("Filen är skadad och kan inte läsas. Öppna den i Word, spara den igen och försök "
                               "på nytt."), "file") from error


def _check_size(data: bytes, max_size: int) -> None:
    if not data:
        raise WorkflowError(_l("Filen är tom."), "file")
    if len(data) > max_size:
        raise WorkflowError(_l("Filen är större än %(mb)s MB.", mb=max_size // (1024 * 1024)), "file")


def _check_inflation(entries: list[zipfile.ZipInfo]) -> None:
    too_big = WorkflowError(_l("Filen packas upp till orimligt mycket data och tas inte emot."), "file")
    if len(entries) > MAX_ENTRIES or sum(e.file_size for e in entries) > MAX_UNCOMPRESSED:
        raise too_big
    for entry in entries:
        if entry.file_size > RATIO_FLOOR and entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
            raise too_big


def check_pdf_or_docx(data: bytes, filename: str, max_size: int) -> str:
    """For attachments: a PDF or a .docx; returns the content type."""
    _check_size(data, max_size)
    if data.startswith(b"%PDF-"):
        return PDF_TYPE
    check_docx(data, filename, max_size)
    return DOCX_TYPE


# ------------------------------------------------------------------ headings

def parse_docx(data: bytes, corrections: dict[int, int] | None = None) -> ParsedDraft:
    """Sections as Word's navigation pane shows them (remiss.outline), with the officer's corrections
    (paragraph index → level, 0 for none); the text as it reads with tracked changes accepted."""
    try:
        document = read_word(data)
    except ValueError as error:
        raise WorkflowError(_l("Filen är skadad och kan inte läsas. Öppna den i Word, spara den igen och "
                               "försök på nytt."), "file") from error
    return outline_of(document, corrections)


def parse_text(text: str) -> ParsedDraft:
    """Sections from pasted text where lines starting '# ', '## ', '### ' are headings of level 1–3."""
    blocks, paragraph = [], []
    for line in text.replace("\r\n", "\n").split("\n") + [""]:
        heading = re.match(r"^(#{1,6})\s+(\S.*)$", line.strip())
        if heading or not line.strip():
            if paragraph:
                blocks.append((None, " ".join(paragraph)))
                paragraph = []
            if heading:
                blocks.append((len(heading.group(1)), heading.group(2).strip()))
        else:
            paragraph.append(line.strip())
    return build_sections(blocks)


def build_sections(blocks, fallback_title: str = "") -> ParsedDraft:
    """Group (level or None, text) blocks into numbered sections. Level 0 is the document title;
    a second title-styled paragraph counts as a top-level heading."""
    title, title_seen, sections, preamble = fallback_title, False, [], []
    for level, text in blocks:
        if not text:
            continue
        if level == 0 and not title_seen and not sections:
            title, title_seen = text, True
        elif level is not None:
            sections.append(ParsedSection(level=max(level, 1), heading=text, found_by="style"))
        else:
            (sections[-1].paragraphs if sections else preamble).append(text)
    return ParsedDraft(title, finish_sections(sections, preamble))
