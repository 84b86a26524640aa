"""A body's reply as a Word file: reading the one its board already wrote, writing the submitted one.

Both directions are pure: bytes and plain data in, data or bytes out. Nothing here touches the
database or the request.
"""
import difflib
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from flask_babel import lazy_gettext as _l
from lxml import etree

from .docx_files import check_docx
from .errors import WorkflowError
from .outline import _by_word
from .word_reading import W, Block, WordDocument, read_word

DEFAULT_MAX_SIZE = 20 * 1024 * 1024
MATCH_THRESHOLD = 0.8  # difflib ratio: catches a typo or a dropped word, not a different heading
ZONE = ZoneInfo("Europe/Stockholm")
LOCALE = "sv_SE"

# ------------------------------------------------------------------ reading

QUOTES = "\"'”“‘’«»„‚`´"
STRIP = QUOTES + " \t.,:;!?–—-*_()…"
# A paragraph that is only one of these words is a label, even without a heading style.
LABELS = {
    "förslag till beslut", "beslutsförslag", "bakgrund", "ärendet", "ärendebeskrivning", "sammanfattning",
    "synpunkter", "kommentarer", "kommentarer och synpunkter", "synpunkter och kommentarer", "yttrande",
    "övriga synpunkter", "övriga kommentarer", "bilagor", "bilaga", "beslutsunderlag", "expediering",
    "sändlista", "ställningstagande", "underskrift",
}
# The first pattern a heading matches names the part it opens.
PART_KINDS = (
    ("decision", re.compile(r"förslag till beslut|beslutsförslag|^(?:\w+ )?beslut$")),
    ("attachments", re.compile(r"^bilagor?\b")),
    ("stop", re.compile(r"^(?:beslutsunderlag|expediering|sändlista|(?:beslutet )?skickas till)\b")),
    # Parts that restate the referral or describe the reply itself hold no comments.
    ("ignored", re.compile(r"^(?:bakgrund|ärendet|ärendebeskrivning|beskrivning av ärendet|ställningstagande|"
                           r"beslutsuppgifter|underskrift|uppgifter om remissvaret)\b")),
    ("summary", re.compile(r"^sammanfattning\b")),
    ("general", re.compile(r"^(?:övriga|allmänna|generella) (?:synpunkter|kommentarer)")),
    ("comments", re.compile(r"synpunkt|kommentar|yttrande")),
)
PSEUDO_LEVEL = 10  # a label without a heading style ranks below every real heading
UNDER_RUBRIK = re.compile(
    r"^\s*(?:\d+(?:\.\d+)*\s*[.):]?\s*)?(?:synpunkt(?:er)?\s+)?under\s+rubrik(?:en)?\b\s*[:–-]?\s*(?P<rest>.*)$",
    re.IGNORECASE)
QUOTED_LINE = re.compile(rf"^\s*(?:\d+\s*[.)]\s*)?(?P<rest>[{QUOTES}][^{QUOTES}]+[{QUOTES}])\s*[:.]?\s*$")
# "Avsnitt 7.1", "Kapitel 9 Ansvar och organisation", "Sidan 5, avsnitt 7.1", "Punkt 7.1:", or a bare
# "7.1 Verksamhetsutveckling …". A page alone names no section, so it is read only before a section word.
SECTION_WORD = r"(?:avsnitt(?:et)?|kapitel|kap\.|punkt(?:en)?|rubrik(?:en)?)"
NUMBER_REF = re.compile(
    rf"^(?:(?:sid(?:an|a)?|s\.)\s*\d{{1,4}}\s*[,;:–-]?\s*(?=(?:under\s+)?{SECTION_WORD}))?"
    rf"(?P<word>(?P<under>under\s+)?{SECTION_WORD}\s*)?"
    r"(?P<number>\d{1,2}(?:\.\d{1,2}){0,5})\.?(?=$|[\s:,;)–—-])(?P<sep>[\s:,;)–—-]*)(?P<rest>.*)$",
    re.IGNORECASE)
HEADING_WORDS = 14  # a bold line longer than this is emphasis in running text, not a heading
# A table of comments: its first row names a column of sections and a column of comments.
SECTION_COLUMN = re.compile(r"\b(?:avsnitt|kapitel|rubrik|punkt)", re.IGNORECASE)
COMMENT_COLUMN = re.compile(r"\b(?:synpunkt|kommentar|yttrande|remissvar)", re.IGNORECASE)
COLUMN_WORDS = 4
CASE_LABEL = re.compile(
    r"^(?:ärendebeteckning|diarienummer|diarienr|dnr|vår beteckning|vårt diarienummer|vårt dnr)\b\.?"
    r"\s*[:|]?\s*(?P<rest>.*)$", re.IGNORECASE)
CASE_SHAPE = re.compile(r"(?:\b[A-ZÅÄÖ]{1,8}(?:-[A-ZÅÄÖ]{1,8})?[ -]?)?\b(?:19|20)\d{2}/\d{1,6}(?:[.:-]\d{1,6})*")
CASE_SERIES = re.compile(r"^(?P<series>[A-ZÅÄÖ]{1,8}(?:-[A-ZÅÄÖ]{1,8})?)[ -]?(?:19|20)\d{2}/")
BODY_NAME = re.compile(r"(?=[A-ZÅÄÖ])(?:[\wåäö]+-\s+(?:och|samt)\s+)?[\wåäö-]*"
                       r"(?:nämnden|styrelsen|fullmäktige|utskottet|rådet)|[A-ZÅÄÖ][\w &-]{1,60} AB")
PERSON = re.compile(r"[A-ZÅÄÖÉ][a-zåäöéüë]+(?:[- ][A-ZÅÄÖÉ][a-zåäöéüë]+){1,3}")
HEADER_PART = re.compile(r"word/header\d*\.xml")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)

# Why a comment landed where it did: by the section's number, its heading (as a heading or a bold line),
# a quoted heading, a row of a table of comments; written as general comments; or not placed at all.
# A comment from the app's own svarsmall is placed by the key in its field: TEMPLATE.
NUMBER, HEADING, QUOTE, TABLE, GENERAL, UNPLACED = "number", "heading", "quote", "table", "general", "unplaced"
TEMPLATE = "template"
REASONS = (NUMBER, HEADING, QUOTE, TABLE, GENERAL, UNPLACED, TEMPLATE)
REASON_LABELS = {HEADING: _l("rubrik"), QUOTE: _l("citat"), TABLE: _l("tabell"), GENERAL: _l("övriga synpunkter"),
                 UNPLACED: _l("kunde inte placeras"), TEMPLATE: _l("svarsmallens fält")}
PDF_REFUSED = _l("Filen är en PDF, inte ett Word-dokument, och kan inte läsas in. Lägg i stället till PDF:en som "
                 "bilaga till svaret.")


@dataclass(frozen=True)
class PlacedComment:
    """One comment of the reply in document order: where the reader put it and why."""

    text: str
    section_id: int | None  # None: the general comments
    reason: str  # one of REASONS
    detail: str = ""  # the section number for "number"; what stood in the way for "unplaced"

    @property
    def label(self) -> str:
        return reason_label(self.reason, self.detail)


def reason_label(reason: str, detail: str = "") -> str:
    """Why a comment landed where it did, in words: "avsnittsnummer 7.1", "rubrik", "kunde inte placeras: …"."""
    if reason == NUMBER:
        return str(_l("avsnittsnummer %(number)s", number=detail))
    label = str(REASON_LABELS.get(reason, REASON_LABELS[UNPLACED]))
    return f"{label}: {detail}" if detail and reason == UNPLACED else label


@dataclass
class ReplyImport:
    """What could be read from a reply written in Word; every field may be empty."""

    case_reference: str = ""
    proposed_decision: str = ""
    summary: str = ""
    comments: dict[int, str] = field(default_factory=dict)  # section id → text
    general_comments: str = ""
    deciding_body: str = ""
    signatory_name: str = ""
    signatory_title: str = ""
    attachments: list[str] = field(default_factory=list)
    # Each section the writer named (after "Under rubrik", by a number, a heading or in a table) that the
    # draft does not have, or has twice, as written; its text is in general_comments.
    unplaced_headings: list[str] = field(default_factory=list)
    # Every comment with its section and reason; `comments` and `general_comments` are these joined.
    placed: list[PlacedComment] = field(default_factory=list)
    letterhead: list[str] = field(default_factory=list)  # the lines before the title, and the page headers
    case_references: list[str] = field(default_factory=list)  # every case reference the document quotes
    # What only the svarsmall has fields for; the stance as its code, the date as written.
    stance: str = ""
    decision_date: str = ""
    decision_paragraph: str = ""
    contact: str = ""
    template_referral_id: int | None = None  # the referral a svarsmall was made for


def read_reply_docx(data: bytes, sections: Iterable, *, filename: str = "remissvar.docx",
                    max_size: int = DEFAULT_MAX_SIZE, strategy_reference: str = "") -> ReplyImport:
    """Read a body's reply written in Word and place its comments on the draft's sections.

    `sections` are the draft's sections, as objects with `id`, `number` and `heading` or as
    (id, number, heading) tuples. The upload is checked first: a PDF, and anything check_docx refuses
    (size, not a .docx, macros, zip bomb), raise a WorkflowError with a Swedish message. A comment is
    placed by the section's number ("Avsnitt 7.1", "Kapitel 9 …"), by its heading as a heading or bold
    line, by a heading in any quotes ("Under rubrik ”X”", small typos allowed), or by a table with a
    section column and a comment column. A heading two sections share is placed only with its number.
    Text that fits no section is kept word for word in general_comments and marked "unplaced" in
    `placed`, so no text of the comments is ever lost. `strategy_reference` (the strategy's own case
    reference) is never taken as the body's.
    """
    check_reply_upload(data, filename, max_size)
    lines = _lines(_open(data), _Sections(sections))
    result = ReplyImport()
    parts = _take_signature(_parts(lines), result)
    _place_comments([p for p in parts if p[0] in ("comments", "general", "other")], result)
    result.summary = _join(_texts(parts, "summary") + [result.summary])
    result.proposed_decision = _join(_texts(parts, "decision"))
    result.attachments = _texts(parts, "attachments")
    _read_origin(result, [line.text for kind, line, _ in parts if kind == "preamble"], _page_headers(data),
                 [line.text for line in lines], strategy_reference)
    return result


def check_reply_upload(data: bytes, filename: str, max_size: int = DEFAULT_MAX_SIZE) -> None:
    """A reply to read must be a sane .docx; a PDF is refused with the advice to attach it instead."""
    if data.startswith(b"%PDF-"):
        raise WorkflowError(PDF_REFUSED, "file")
    check_docx(data, filename, max_size)


def _read_origin(result: ReplyImport, preamble: list[str], headers: list[str], lines: list[str],
                 strategy_reference: str) -> None:
    """Who wrote the reply and in which case: the body's case reference, every one quoted, the deciding body."""
    everything = preamble + headers + lines
    result.case_reference = _case_reference(everything, strategy_reference)
    result.case_references = list(dict.fromkeys(m.group() for text in everything for m in CASE_SHAPE.finditer(text)))
    result.deciding_body = _deciding_body(result.proposed_decision, preamble)
    result.letterhead = preamble + headers


def _open(data: bytes) -> WordDocument:
    try:
        return read_word(data)
    except ValueError as error:
        raise WorkflowError(_l("Filen är skadad och kan inte läsas. Öppna den i Word, spara den igen och "
                               "försök på nytt."), "file") from error


def _texts(parts, kind: str) -> list[str]:
    return [line.text for k, line, role in parts if k == kind and role not in ("label", "marker")]


def _page_headers(data: bytes) -> list[str]:
    """Page headers, a line per paragraph: municipal templates often print the case reference there
    and nowhere else (read_word reads the body only)."""
    lines = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in sorted(n for n in archive.namelist() if HEADER_PART.fullmatch(n)):
            try:
                root = etree.fromstring(archive.read(name), _PARSER)
            except etree.XMLSyntaxError:
                continue  # a damaged header costs only the case reference it might hold
            for paragraph in root.iter(f"{W}p"):
                text = " ".join("".join(t.text or "" for t in paragraph.iter(f"{W}t")).split())
                if text:
                    lines.append(text)
    return lines


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().strip(STRIP)
    text = re.sub(r"^\d+(?:\.\d+)*\.?\s+", "", text)  # the draft's own numbering, "9.1 Kommunfullmäktige"
    return " ".join(text.strip(STRIP).split())


def _label_kind(text: str) -> str | None:
    return _heading_kind(text) if _norm(text) in LABELS else None


def _heading_kind(text: str) -> str | None:
    normal = _norm(text)
    return next((kind for kind, pattern in PART_KINDS if pattern.search(normal)), None)


# ------------------------------------------------------------------ which section a text names

@dataclass(frozen=True)
class _Section:
    id: int
    number: str
    heading: str
    name: str  # the heading as compared


class _Sections:
    """The draft's sections, found by number and by heading."""

    def __init__(self, sections: Iterable):
        self.all = [_section(s) for s in sections]
        self.numbers = {s.number: s for s in self.all if s.number}

    def numbered(self, number: str) -> _Section | None:
        return self.numbers.get(number.strip("."))

    def named(self, heading: str) -> tuple[float, list[_Section]]:
        """The sections whose heading `heading` resembles best, at least MATCH_THRESHOLD; more than one
        when the draft repeats a heading."""
        wanted = _norm(heading)
        if not wanted:
            return 0.0, []
        scores = [(difflib.SequenceMatcher(None, wanted, s.name).ratio(), s) for s in self.all]
        best = max((score for score, _ in scores), default=0.0)
        return (best, [s for score, s in scores if score == best]) if best >= MATCH_THRESHOLD else (best, [])


def _section(item) -> _Section:
    section_id, number, heading = item if isinstance(item, tuple) else (item.id, item.number, item.heading)
    return _Section(section_id, (number or "").strip(), heading, _norm(heading))


@dataclass(frozen=True)
class _Ref:
    """The section a text names, or (section None) why the section it means cannot be told."""

    section: _Section | None
    by: str = HEADING  # NUMBER or HEADING
    why: str = ""
    agreed: bool = True  # False: a number whose words are not its section's heading
    score: float = 1.0


def _by_name(heading: str, sections: _Sections) -> _Ref | None:
    score, found = sections.named(heading)
    if len(found) == 1:
        return _Ref(found[0], HEADING, score=score)
    if found:
        # Two sections called "Uppföljning": giving the comment to the first would be a guess.
        count = _l("två") if len(found) == 2 else str(len(found))
        return _Ref(None, why=str(_l("%(count)s avsnitt har rubriken ”%(heading)s”", count=count,
                                     heading=found[0].heading)), score=score)
    return None


def _by_number(number: str, words: str, sections: _Sections) -> _Ref:
    """The section numbered `number`, unless the words after it clearly name another one."""
    section = sections.numbered(number)
    if section is not None and (not words or _agrees(words, section)):
        return _Ref(section, NUMBER)
    named = _by_name(words, sections) if words else None
    if named is not None and named.section is not None:
        return named
    if section is not None:
        return _Ref(section, NUMBER, agreed=False)
    return named or _Ref(None, NUMBER, why=str(_l("utkastet har inget avsnitt %(number)s", number=number)))


def _agrees(words: str, section: _Section) -> bool:
    """Whether words after a number are its section's heading, perhaps cut short ("Verksamhetsutveckling …")."""
    wanted = _norm(words)
    return not wanted or difflib.SequenceMatcher(None, wanted, section.name).ratio() >= MATCH_THRESHOLD \
        or (len(wanted) >= 4 and section.name.startswith(wanted))


def _reference(text: str, sections: _Sections) -> _Ref | None:
    numbered = NUMBER_REF.match(text.strip())
    if numbered:
        return _by_number(numbered.group("number"), numbered.group("rest").strip(), sections)
    return _by_name(text, sections)


@dataclass(frozen=True)
class _Target:
    """Where a line that names a section sends the text after it; `opening` is the comment on that line."""

    section_id: int | None
    reason: str
    detail: str = ""
    opening: str = ""
    written: str = ""  # for an unplaced one: the section as the writer named it
    by_look: bool = False  # only a bold line or a heading with a section's name: not in a letterhead


def _target(ref: _Ref, how: str, opening: str, line: str, written: str = "") -> _Target:
    """An unplaced target keeps its whole line, so the section the writer meant is still there to read."""
    if ref.section is None:
        return _Target(None, UNPLACED, ref.why, line, written or line.strip(STRIP))
    reason = NUMBER if ref.by == NUMBER and how != TABLE else how
    return _Target(ref.section.id, reason, ref.section.number if reason == NUMBER else "", opening.strip())


def _line_target(text: str, emphasized: bool, sections: _Sections) -> _Target | None:
    """The section a paragraph opens a comment on, if it is a reference to one and not running text."""
    under = UNDER_RUBRIK.match(text)
    if under:
        return _explicit(under.group("rest"), text, sections)
    quoted = QUOTED_LINE.match(text)
    if quoted:
        heading, after = _candidates(quoted.group("rest"))[0]
        ref = _reference(heading, sections)
        # A quotation that is no heading ("”Kalmar ska vara bäst”") is just text.
        return _target(ref, QUOTE, after, text) if ref and (ref.section is None or ref.agreed) else None
    numbered = NUMBER_REF.match(text)
    if numbered:
        return _numbered_target(numbered, text, emphasized, sections)
    if emphasized and _heading_kind(text) is None:
        words, _, after = text.partition(":")
        ref = _by_name(words, sections)
        return replace(_target(ref, HEADING, after, text), by_look=True) if ref else None
    return None


def _numbered_target(numbered: re.Match, text: str, emphasized: bool, sections: _Sections) -> _Target | None:
    """"Avsnitt 7.1", "7.1 Verksamhetsutveckling …": a bare number counts only with its heading (or
    alone), so a numbered list ("2. Vi anser …") is not taken for references to sections 1, 2, 3."""
    rest = numbered.group("rest").strip()
    words, after = ("", rest) if ":" in numbered.group("sep") else _split_heading(rest)
    explicit = bool(numbered.group("under"))
    ref = _by_number(numbered.group("number"), words, sections)
    if ref.section is not None and ref.agreed:
        return _target(ref, HEADING, after, text)
    firm = explicit or emphasized or not rest
    duplicate = ref.section is None and ref.by == HEADING
    if not firm or not (numbered.group("word") or duplicate):
        return None
    # "Under avsnitt 7.1 står att …", a bold "Avsnitt 7.1 Om finansieringen": the whole line is the comment's.
    return _target(ref, HEADING, text, text)


def _split_heading(rest: str) -> tuple[str, str]:
    heading, colon, after = rest.partition(":")
    return (heading.strip(), after.strip()) if colon else (rest, "")


def _explicit(rest: str, line: str, sections: _Sections) -> _Target:
    """What follows "Under rubrik": a number, a heading in any quotes, or a heading running into the comment."""
    how = QUOTE if rest[:1] in QUOTES else HEADING
    best: tuple[_Ref, str] | None = None
    for words, after in _candidates(rest):
        numbered = NUMBER_REF.match(words.strip())
        if numbered:
            number_words = numbered.group("rest").strip()
            ref = _by_number(numbered.group("number"), number_words, sections)
            opening = after if ref.agreed else _join_line(number_words, after)
            return _target(ref, how, opening, line, rest.strip(STRIP))
        ref = _by_name(words, sections)
        if ref is not None and (best is None or ref.score > best[0].score):
            best = (ref, after)
    if best is None:
        written = rest.strip(STRIP)
        best = (_Ref(None, why=str(_l("inget avsnitt i utkastet har rubriken ”%(heading)s”", heading=written))), "")
    return _target(best[0], how, best[1], line, rest.strip(STRIP))


def _join_line(*texts: str) -> str:
    return " ".join(t for t in texts if t)


def _candidates(rest: str) -> list[tuple[str, str]]:
    """(heading, text after it) readings of what follows "Under rubrik"."""
    if rest[:1] in QUOTES:
        close = next((i for i in range(1, len(rest)) if rest[i] in QUOTES), len(rest))
        return [(rest[1:close], rest[close + 1:].lstrip(" \t:,;–—-"))]
    if ":" in rest:
        heading, _, after = rest.partition(":")
        return [(heading, after.strip())]
    # Unquoted and inline ("Under rubrik Ansvar och organisation anser nämnden …"): try each word count.
    words = rest.split()
    return [(rest, "")] + [(" ".join(words[:n]), " ".join(words[n:])) for n in range(1, min(len(words), 12))]


# ------------------------------------------------------------------ lines and parts

@dataclass
class _Line:
    level: int | None  # heading level from Word's style or outline level; None for text
    text: str
    target: _Target | None = None  # set when the line opens a comment on a section
    follows_table: bool = False  # the first line after a table of comments


def _lines(document: WordDocument, sections: _Sections) -> list[_Line]:
    """A line per paragraph and table row, in reading order; a table of comments gives a line per comment."""
    lines: list[_Line] = []
    table: list[Block] = []
    after_comments = False
    for block in [*document.blocks, None]:
        if block is not None and block.in_table:
            table.append(block)
            continue
        if table:
            rows = _table_lines(table, sections)
            after_comments = rows is not None
            lines.extend(rows if rows is not None else [
                _Line(None, row.text, _line_target(row.text, False, sections)) for row in table])
            table = []
        if block is not None and block.text.strip() and not block.toc:
            lines.append(_paragraph_line(block, sections))
            lines[-1].follows_table, after_comments = after_comments, False
    return lines


def _paragraph_line(block: Block, sections: _Sections) -> _Line:
    level = _by_word(block).level
    # Word's automatic number belongs to the text as the reader sees it ("7.1", "2."); a bullet is decoration.
    text = f"{block.number} {block.text}" if block.number and not block.bullet else block.text
    if level == 0:
        return _Line(level, text)
    short = len(block.text.split()) <= HEADING_WORDS and not block.text.endswith(".")
    emphasized = not block.bullet and (level is not None or (block.bold and short))
    return _Line(level, text, _line_target(text, emphasized, sections))


def _table_lines(rows: list[Block], sections: _Sections) -> list[_Line] | None:
    """A line per row of a table of comments ("Avsnitt | Synpunkt"), or None for any other table."""
    header = rows[0].text.split(" | ")
    columns = _comment_columns(header)
    if columns is None:
        return None
    lines = []
    for row in rows[1:]:
        where, comment = _row_parts(row.text.split(" | "), header, columns, sections)
        if where or comment:
            lines.append(_Line(None, comment or where, _row_target(where, comment, sections)))
    return lines


def _comment_columns(header: list[str]) -> tuple[int, int] | None:
    def column(pattern, skip=-1):
        return next((i for i, cell in enumerate(header) if i != skip and pattern.search(cell)
                     and len(cell.split()) <= COLUMN_WORDS), None)

    where = column(SECTION_COLUMN)
    comment = column(COMMENT_COLUMN, skip=where if where is not None else -1)
    return (where, comment) if where is not None and comment is not None else None


def _row_parts(cells: list[str], header: list[str], columns: tuple[int, int],
               sections: _Sections) -> tuple[str, str]:
    """(the section cell, the comment): other columns are kept in the comment under their names.
    Word's row text leaves empty cells out, so a row shorter than the header is read by content."""
    where, comment = columns
    if len(cells) != len(header):
        where = next((i for i, cell in enumerate(cells) if _reference(cell, sections) is not None), -1)
        return (cells[where] if where >= 0 else ""), _join([c for i, c in enumerate(cells) if i != where])
    texts = [cell if i == comment else f"{header[i]}: {cell}" for i, cell in enumerate(cells)
             if i != where and cell]
    return cells[where], _join(texts)


def _row_target(where: str, comment: str, sections: _Sections) -> _Target:
    line = _join_line(f"{where}:" if where and comment else where, comment)
    ref = _reference(where, sections) if where else _Ref(None, why=str(_l("raden anger inget avsnitt")))
    if ref is None:
        ref = _Ref(None, why=str(_l("inget avsnitt i utkastet har rubriken ”%(heading)s”", heading=where)))
    return _target(ref, TABLE, comment, line, where)


def _parts(lines: list[_Line]) -> list[tuple[str, _Line, str]]:
    """Tag each line (kind of part, line, role); role is "text", "label" (a heading that only opens a
    known part), "heading" (a heading whose words are content) or "marker" (a line naming a section).

    A marker opens the comments wherever it stands. An unknown heading at the level of the current part
    or above opens an "other" part, whose text counts as general comments; any heading nested inside
    the comments stays in them, so no comment text is lost to a sub-heading like "Bakgrund". The header
    block before the title is "preamble" until its first real sentence.
    """
    kind, kind_level, tagged, title_seen = "preamble", 0, [], False
    # Before a title is the letterhead, where "Kommunstyrelsen" in bold is the addressee, not section 9.2.1.
    titled = any(line.level == 0 for line in lines)
    for line in lines:
        level, text = line.level, line.text
        if line.target is not None and not (line.target.by_look and kind == "preamble" and titled):
            level = PSEUDO_LEVEL if level is None else max(level, 1)
            if not (kind in ("comments", "general") and level > kind_level):
                kind, kind_level = "comments", level
            tagged.append((kind, line, "marker"))
            continue
        label = _label_kind(text) if level is None else None
        if level is None and not label:
            if kind == "preamble" and len(text.split()) >= 8:
                kind, kind_level = "other", PSEUDO_LEVEL
            tagged.append((kind, line, "text"))
            continue
        level = PSEUDO_LEVEL if level is None else level
        if level == 0 and not title_seen:  # the document's title is not content
            kind, kind_level, title_seen = "other", 0, True
            continue
        level = max(level, 1)
        found = label or _heading_kind(text)
        nested = kind in ("comments", "general") and level > kind_level
        if found and nested and found in ("comments", "ignored", "decision"):
            tagged.append((kind, line, "label" if found == "comments" else "heading"))
        elif found:
            kind, kind_level = found, level
            tagged.append((kind, line, "label"))
        else:
            if kind == "preamble" or level <= kind_level:
                kind, kind_level = "other", level
            tagged.append((kind, line, "heading"))
    return tagged


def _take_signature(parts, result: ReplyImport):
    """Take the signature off the end of the text before the attachments: "Name, title", or a
    name line then a title line, after a finished sentence or a heading. The last two lines are
    all it looks at, and a list of names is left alone, so comment text is not lost to it."""
    end = next((i for i, (kind, _, _) in enumerate(parts) if kind in ("attachments", "stop")), len(parts))
    for start in (end - 2, end - 1):
        lines = [line.text for _, line, role in parts[max(start, 0):end] if role == "text" and _short(line.text)]
        if start < 0 or len(lines) != end - start or not _ends_a_passage(parts[start - 1] if start else None):
            continue
        name, _, title = lines[0].partition(",")
        if not PERSON.fullmatch(name.strip()) or (len(lines) == 2 and (title or PERSON.fullmatch(lines[1]))):
            continue
        result.signatory_name = name.strip()
        result.signatory_title = title.strip() or (lines[1] if len(lines) == 2 else "")
        return parts[:start] + parts[end:]
    return parts


def _ends_a_passage(part) -> bool:
    return part is None or part[2] != "text" or part[1].text.rstrip().endswith((".", "!", "?"))


def _short(text: str) -> bool:
    return len(text.split()) <= 6 and not text.rstrip().endswith((".", ":", "!", "?")) \
        and not UNDER_RUBRIK.match(text)


# ------------------------------------------------------------------ placing the comments

GENERAL_TARGET = _Target(None, GENERAL)


def _place_comments(items, result: ReplyImport) -> None:
    """Split the comments at each marker into placed comments; what precedes the first marker is the
    summary (or, in a reply without markers, the general comments)."""
    before: list[str] = []
    chunks: list[tuple[_Target, list[str]]] = []
    for kind, line, role in items:
        target = _next_target(kind, line, role, chunks[-1][0] if chunks else None)
        if target is not None:
            chunks.append((target, [target.opening] if target.opening else []))
        if role not in ("marker", "label"):
            (chunks[-1][1] if chunks else before).append(line.text)
    started = any(role == "marker" for _, _, role in items)
    result.summary = _join(before) if started else ""
    placed = [] if started or not before else [PlacedComment(_join(before), None, GENERAL)]
    placed += [PlacedComment(_join(texts), t.section_id, t.reason, t.detail) for t, texts in chunks if _join(texts)]
    result.placed = placed
    for comment in placed:
        if comment.section_id is not None:
            result.comments[comment.section_id] = _join([result.comments.get(comment.section_id, ""), comment.text])
    result.general_comments = _join([c.text for c in placed if c.section_id is None])
    result.unplaced_headings = [t.written for t, _ in chunks if t.reason == UNPLACED and t.written]


def _next_target(kind: str, line: _Line, role: str, current: _Target | None) -> _Target | None:
    """The target a line starts, if it starts one."""
    if role == "marker":
        return line.target
    if role == "label" and kind == "general" and (current is None or current.reason != GENERAL):
        return GENERAL_TARGET
    if role == "heading" and kind == "other" and current is not None:
        # An unknown heading after the comments ends the last one: what follows is about no section we know.
        return _Target(None, UNPLACED, str(_l("inget avsnitt i utkastet har rubriken ”%(heading)s”",
                                               heading=line.text)))
    if line.follows_table and current is not None and current.reason == TABLE:
        return _Target(None, UNPLACED, str(_l("texten står efter tabellen med synpunkter")))
    return None


# ------------------------------------------------------------------ who wrote it, in which case

def _case_reference(lines: list[str], strategy_reference: str) -> str:
    """After a label (Ärendebeteckning, Diarienummer, Dnr) on the same or the next line, else by shape."""
    theirs = "".join(strategy_reference.split()).upper()

    def own(ref: str) -> bool:
        return bool(ref) and "".join(ref.split()).upper() != theirs

    for i, line in enumerate(lines):
        label = CASE_LABEL.match(line.strip())
        if not label:
            continue
        value = label.group("rest").strip(" |:") or next((n for n in lines[i + 1:i + 3] if n.strip()), "")
        shaped = CASE_SHAPE.search(value)
        if shaped and own(shaped.group()):
            return shaped.group()
        if not shaped and own(value.strip()) and len(value) <= 50 and any(c.isdigit() for c in value):
            return value.strip()
    return next((m.group() for line in lines for m in CASE_SHAPE.finditer(line) if own(m.group())), "")


def _deciding_body(proposed_decision: str, preamble: list[str]) -> str:
    """The subject of the proposed decision ("Socialnämnden överlämnar …"), else a line naming a body."""
    match = BODY_NAME.match(proposed_decision)
    if match:
        return match.group()
    return next((line for line in preamble if BODY_NAME.fullmatch(line.strip())), "")


def _join(texts: list[str]) -> str:
    return "\n\n".join(t for t in texts if t)


@dataclass(frozen=True)
class OriginMismatch:
    """Signs that an uploaded reply is not this referral's: another body's, or one in another case."""

    other_body: str = ""
    other_case_reference: str = ""

    def __bool__(self) -> bool:
        return bool(self.other_body or self.other_case_reference)


def origin_mismatch(found: ReplyImport, *, body_name: str, other_bodies: Iterable[str],
                    strategy_reference: str) -> OriginMismatch:
    """Whether the document looks like another body's reply, or a reply in another case. Never raises.

    Another body counts when it is the deciding body or the subject of the proposed decision, or when a
    line of the letterhead (before the title, or a page header) begins with its name and neither the
    decision nor the letterhead names this body. A case reference counts when it is in the strategy's
    series (the letters before the year, "KS") but is not the strategy's own reference.
    """
    return OriginMismatch(_other_body(found, body_name, list(other_bodies)),
                          _other_case(found.case_references, strategy_reference))


def _other_body(found: ReplyImport, body_name: str, others: list[str]) -> str:
    decision = [found.deciding_body, found.proposed_decision.split("\n", 1)[0]]
    if any(_names(text, body_name) for text in decision):
        return ""
    named = next((name for name in others if any(_names(text, name) for text in decision)), "")
    if named or any(_names(text, body_name) for text in found.letterhead):
        return named
    return next((name for name in others if any(_names(text, name) for text in found.letterhead)), "")


def _names(text: str, body: str) -> bool:
    """Whether a line begins with the body's name ("Kultur- och fritidsnämnden", "… nämnden, Kalmar kommun")."""
    line, name = _plain(text), _plain(body)
    return bool(name) and line.startswith(name) and not line[len(name):len(name) + 1].isalnum()


def _plain(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).replace("–", "-").casefold().split())


def _other_case(references: list[str], strategy_reference: str) -> str:
    ours = "".join(strategy_reference.split()).upper()
    series = CASE_SERIES.match(strategy_reference.strip().upper())
    if not series:
        return ""  # without a series, the body's own references cannot be told from the strategy's
    for reference in references:
        theirs = CASE_SERIES.match(reference.upper())
        if theirs and theirs.group("series") == series.group("series") and not _same_case(reference, ours):
            return reference
    return ""


def _same_case(reference: str, ours: str) -> bool:
    """"KS 2020/0946" and "KS 2020/0946.12" (a document in the case) are the same case; "KS 2020/09460" is not."""
    plain = "".join(reference.split()).upper()
    shorter, longer = sorted((plain, ours), key=len)
    return longer.startswith(shorter) and (len(longer) == len(shorter) or longer[len(shorter)] in ".:-")


# ------------------------------------------------------------------ writing

# Characters XML 1.0 forbids (python-docx raises on them) and C1 controls Word shows as boxes.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
PROPERTY_LIMIT = 255  # python-docx refuses longer core properties


@dataclass(kw_only=True)
class ReplyContent:
    """A submitted reply, as plain data, for the .docx the body registers in its own diarium."""

    body_name: str
    strategy_title: str
    strategy_case_reference: str = ""
    reply_label: str = ""
    body_case_reference: str = ""
    stance_label: str = ""  # already translated
    summary: str = ""
    proposed_decision: str = ""
    deciding_body: str = ""
    decision_date: date | None = None
    decision_paragraph: str = ""
    signatory_name: str = ""
    signatory_title: str = ""
    contact: str = ""
    submitted_at: datetime
    version: int = 1
    late: bool = False
    registered_by_officer: bool = False
    received_on: date | None = None
    comments: list[tuple[str, str, str]] = field(default_factory=list)  # (number, heading, text), draft order
    general_comments: str = ""
    attachments: list[str] = field(default_factory=list)
    municipality: str = ""  # the document's company property ("Kalmar kommun")


def write_reply_docx(reply: ReplyContent) -> bytes:
    """The reply as a .docx with real Title/Heading 1/Heading 2 styles, so Word builds a table of contents.

    Any text is accepted: characters XML cannot hold are removed (tab and line breaks kept, each
    line its own paragraph), markup and direction marks stay literal text. Times are shown in
    Swedish local time; a naive submitted_at raises ValueError.
    """
    import docx

    if reply.submitted_at.tzinfo is None:
        raise ValueError("submitted_at must be an aware datetime")
    document = docx.Document()
    swedish_a4(document)
    _properties(document, reply)
    page_number_footer(document.sections[0])
    document.add_paragraph(xml_line(f"Remissvar från {reply.body_name}"), style="Title")
    document.add_heading("Uppgifter om remissvaret", level=1)
    facts(document, _registration_facts(reply))
    _part(document, "Ställningstagande", reply.stance_label)
    _part(document, "Sammanfattning", reply.summary)
    _part(document, "Förslag till beslut", reply.proposed_decision)
    _comments(document, reply)
    decision = [("Beslutande organ", reply.deciding_body), ("Beslutsdatum", _day(reply.decision_date)),
                ("Paragraf", paragraph_mark(reply.decision_paragraph))]
    if any(value for _, value in decision):
        document.add_heading("Beslutsuppgifter", level=1)
        facts(document, decision)
    _part(document, "Underskrift", "\n".join(s for s in (reply.signatory_name, reply.signatory_title) if s))
    if reply.attachments:
        document.add_heading("Bilagor", level=1)
        for name in reply.attachments:
            document.add_paragraph(xml_line(name), style="List Bullet")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _registration_facts(reply: ReplyContent) -> list[tuple[str, str]]:
    submitted = format_datetime(reply.submitted_at, "EEEE d MMMM y 'kl.' HH.mm", tzinfo=ZONE, locale=LOCALE)
    # The document is filed in the body's own diarium: "Diarienummer" is theirs.
    facts = [("Remissinstans", reply.body_name), ("Diarienummer", reply.body_case_reference),
             ("Ärende", reply.strategy_title), ("Remissens diarienummer", reply.strategy_case_reference),
             ("Märkning", reply.reply_label), ("Inskickat", f"{submitted} (version {reply.version})")]
    if reply.late:
        facts.append(("Anmärkning", "Inkom efter sista svarsdag."))
    if reply.registered_by_officer:
        received = f", mottaget {_day(reply.received_on)}" if reply.received_on else ""
        facts.append(("Registrering", f"Registrerat av handläggaren för remissinstansens räkning{received}."))
    return facts + [("Kontaktperson", reply.contact)]


def _comments(document, reply: ReplyContent) -> None:
    if not reply.comments and not docx_paragraphs(reply.general_comments):
        return
    document.add_heading("Synpunkter", level=1)
    for number, heading, text in reply.comments:
        named = f"{number} {heading}".strip()
        _part(document, f"Synpunkter under rubrik ”{named}”", text, level=2, always=True)
    _part(document, "Övriga synpunkter", reply.general_comments, level=2)


def _part(document, heading: str, text: str, level: int = 1, always: bool = False) -> None:
    """A heading and its text as paragraphs; left out when there is no text, unless `always`."""
    paragraphs = docx_paragraphs(text)
    if paragraphs or always:
        document.add_heading(xml_line(heading), level=level)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)


def facts(document, pairs: list[tuple[str, str]]) -> None:
    """'Label: value' paragraphs with the label in bold; empty values left out."""
    for label, value in pairs:
        value = xml_line(value)
        if value:
            paragraph = document.add_paragraph()
            paragraph.add_run(f"{label}: ").bold = True
            paragraph.add_run(value)


def swedish_a4(document) -> None:
    """python-docx's blank document is US Letter and American English; Swedish offices print A4,
    and Word should spell-check in Swedish (the styles' defaults and the theme's font language)."""
    from docx.oxml.ns import qn
    from docx.shared import Mm

    for section in document.sections:
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.left_margin = section.right_margin = Mm(25)
    for lang in document.styles.element.iter(qn("w:lang")):
        lang.set(qn("w:val"), "sv-SE")
    for lang in document.settings.element.iter(qn("w:themeFontLang")):
        lang.set(qn("w:val"), "sv-SE")


def _properties(document, reply: ReplyContent) -> None:
    document_properties(document, title=f"Remissvar från {reply.body_name}: {reply.strategy_title}",
                        subject=reply.strategy_case_reference, author=reply.body_name,
                        company=reply.municipality, at=reply.submitted_at, keywords=reply.reply_label,
                        identifier=reply.body_case_reference)


# What python-docx's blank document says of itself: its app.xml names "Microsoft Macintosh Word" and a
# template, its core.xml "python-docx" and 2013. A document made here names the app and its organisation.
APP_PROPERTIES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    '<Application>Remiss</Application><DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop>'
    '<Company>{company}</Company><LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>'
    '<HyperlinksChanged>false</HyperlinksChanged></Properties>')
# The blank document's parts that belong to its maker, not to a document made here: the thumbnail of
# the template, an empty bibliography, Word 2010's second copy of the styles (in American English).
LEFT_OUT_PARTS = ("/relationships/metadata/thumbnail", "/relationships/customXml", "/stylesWithEffects")
BODY_FONT = "Calibri"  # the theme's body font (python-docx's blank document has Cambria)


def document_properties(document, *, title: str, subject: str, author: str, company: str, at: datetime,
                        keywords: str = "", identifier: str = "") -> None:
    """Core and extended properties of a document made here, nothing left of python-docx's template:
    `author` wrote it and last changed it, `at` (aware) is when it was created and modified, revision 1,
    Swedish; `company` in app.xml. Also the theme's body font and the template's stray parts."""
    from datetime import timezone

    properties = document.core_properties
    properties.title = xml_line(title)[:PROPERTY_LIMIT]
    properties.subject = xml_line(subject)[:PROPERTY_LIMIT]
    properties.author = properties.last_modified_by = xml_line(author)[:PROPERTY_LIMIT]
    properties.keywords = xml_line(keywords)[:PROPERTY_LIMIT]
    properties.identifier = xml_line(identifier)[:PROPERTY_LIMIT]
    properties.comments = properties.category = ""
    properties.revision = 1
    properties.created = properties.modified = at.astimezone(timezone.utc)
    properties.language = "sv-SE"
    _own_package(document, xml_line(company)[:PROPERTY_LIMIT])


def _own_package(document, company: str) -> None:
    from docx.oxml.ns import qn

    package = document.part.package
    for owner in (package, document.part):
        for rid, rel in list(owner.rels.items()):
            if rel.reltype.endswith(LEFT_OUT_PARTS):
                del owner.rels[rid]
    escaped = company.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for part in package.iter_parts():
        if part.partname == "/docProps/app.xml":
            part._blob = APP_PROPERTIES.format(company=escaped).encode()
        elif part.partname.startswith("/word/theme/"):
            part._blob = re.sub(rb'(<a:minorFont>\s*<a:latin typeface=")[^"]*', rb"\g<1>" + BODY_FONT.encode(),
                                part.blob)
    # "Spelling and grammar checked" belongs to the template: Word should check this text itself.
    settings = document.settings.element
    for proof_state in settings.findall(qn("w:proofState")):
        settings.remove(proof_state)


def page_number_footer(section) -> None:
    """A centred PAGE field in the section's (default) footer."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    footer = section.footer
    footer.is_linked_to_previous = False
    element = footer._element
    for child in list(element):
        element.remove(child)
    element.append(parse_xml(
        f'<w:p {nsdecls("w")}><w:pPr><w:pStyle w:val="Footer"/><w:jc w:val="center"/></w:pPr>'
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        '<w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'))


def xml_text(text: str) -> str:
    """Text python-docx and openpyxl accept: XML-illegal characters removed, line breaks made \\n."""
    return XML_ILLEGAL.sub("", (text or "").replace("\r\n", "\n").replace("\r", "\n"))


def docx_paragraphs(text: str) -> list[str]:
    """One paragraph per line; blank lines only separate."""
    return [line.rstrip() for line in xml_text(text).split("\n") if line.strip()]


def xml_line(text: str) -> str:
    """Text for a heading or a single line: line breaks become spaces."""
    return " ".join(xml_text(text).split("\n")).strip()


def _day(day: date | None) -> str:
    return format_date(day, "d MMMM y", locale=LOCALE) if day else ""


def paragraph_mark(paragraph: str) -> str:
    paragraph = xml_line(paragraph)
    return f"§ {paragraph}" if paragraph.isdigit() else paragraph
