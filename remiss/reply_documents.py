"""A body's reply as a Word file: reading the one its board already wrote, writing the submitted one.

Both directions are pure: bytes and plain data in, data or bytes out. Nothing here touches the
database or the request.
"""
import difflib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from flask_babel import lazy_gettext as _l

from .docx_files import _heading_levels, _paragraph_style_id, check_docx
from .errors import WorkflowError

DEFAULT_MAX_SIZE = 20 * 1024 * 1024
MATCH_THRESHOLD = 0.8  # difflib ratio: catches a typo or a dropped word, not a different heading
ZONE = ZoneInfo("Europe/Stockholm")
LOCALE = "sv_SE"

# ------------------------------------------------------------------ reading

QUOTES = "\"'”“‘’«»„‚`´"
STRIP = QUOTES + " \t.,:;!?–—-*_()"
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
CASE_LABEL = re.compile(
    r"^(?:ärendebeteckning|diarienummer|diarienr|dnr|vår beteckning|vårt diarienummer|vårt dnr)\b\.?"
    r"\s*[:|]?\s*(?P<rest>.*)$", re.IGNORECASE)
CASE_SHAPE = re.compile(r"(?:\b[A-ZÅÄÖ]{1,8}(?:-[A-ZÅÄÖ]{1,8})?[ -]?)?\b(?:19|20)\d{2}/\d{1,6}(?:[.:-]\d{1,6})*")
BODY_NAME = re.compile(r"(?=[A-ZÅÄÖ])(?:[\wåäö]+-\s+(?:och|samt)\s+)?[\wåäö-]*"
                       r"(?:nämnden|styrelsen|fullmäktige|utskottet|rådet)|[A-ZÅÄÖ][\w &-]{1,60} AB")
PERSON = re.compile(r"[A-ZÅÄÖÉ][a-zåäöéüë]+(?:[- ][A-ZÅÄÖÉ][a-zåäöéüë]+){1,3}")
GENERAL = "general"


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
    # Headings named after "Under rubrik" that match no section; their text is in general_comments.
    unplaced_headings: list[str] = field(default_factory=list)


def read_reply_docx(data: bytes, sections: list[tuple[int, str]], *, filename: str = "remissvar.docx",
                    max_size: int = DEFAULT_MAX_SIZE, strategy_reference: str = "") -> ReplyImport:
    """Read a body's reply written in Word and place its comments on the draft's sections.

    The upload is checked first (check_docx: size, real .docx, no macros, no zip bomb) and a
    WorkflowError with a Swedish message is raised for anything else. Each comment introduced by
    "Under rubrik ”X”" (any quote style, case, numbering, or a small typo) goes to the section whose
    heading X resembles (difflib ratio ≥ 0.8); text that fits no section is kept word for word in
    general_comments, so no text of the comments is ever lost. `strategy_reference` (the strategy's
    own case reference) is never taken as the body's.
    """
    check_docx(data, filename, max_size)
    document = _open(data)
    lines = _lines(document)
    parts = _parts(lines)
    result = ReplyImport()
    parts = _take_signature(parts, result)
    _place_comments([p for p in parts if p[0] in ("comments", "general", "other")], sections, result)
    result.summary = _join([t for k, t, role in parts if k == "summary" and role != "label"] + [result.summary])
    result.proposed_decision = _join([t for k, t, role in parts if k == "decision" and role != "label"])
    result.attachments = [t for k, t, role in parts if k == "attachments" and role != "label"]
    preamble = [t for k, t, _ in parts if k == "preamble"]
    result.case_reference = _case_reference(preamble + _header_lines(document) + [t for _, t in lines],
                                            strategy_reference)
    result.deciding_body = _deciding_body(result.proposed_decision, preamble)
    return result


def _open(data: bytes):
    import docx

    try:
        return docx.Document(io.BytesIO(data))
    except Exception as error:  # python-docx raises many kinds for a malformed package
        raise WorkflowError(_l("Filen är skadad och kan inte läsas. Öppna den i Word, spara den igen och "
                               "försök på nytt."), "file") from error


def _blocks(element, parent):
    """Paragraphs and tables in reading order, including those inside content controls, which
    municipal templates use for their fields (python-docx's iter_inner_content skips them)."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for child in element.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            yield Paragraph(child, parent)
        elif tag == "tbl":
            yield Table(child, parent)
        elif tag in ("sdt", "sdtContent", "customXml"):
            yield from _blocks(child, parent)


def _lines(document) -> list[tuple[int | None, str]]:
    """(heading level or None, text) for every paragraph and table row, in reading order."""
    from docx.table import Table

    levels, lines = _heading_levels(document), []
    for block in _blocks(document.element.body, document._body):
        if isinstance(block, Table):
            lines.extend((None, row) for row in _table_rows(block))
            continue
        level = levels.get(_paragraph_style_id(block))
        if level is not None:
            lines.append((level, " ".join(block.text.split())))
        else:  # a soft line break (Shift+Enter) separates lines as a new paragraph would
            lines.extend((None, part.strip()) for part in block.text.split("\n"))
    return [(level, text) for level, text in lines if text]


def _table_rows(table) -> list[str]:
    rows = []
    for row in table.rows:
        cells = []
        for cell in row.cells:  # a merged cell repeats: keep it once
            text = " ".join(cell.text.split())
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        rows.append(" | ".join(cells))
    return rows


def _header_lines(document) -> list[str]:
    """Page headers: municipal templates often print the case reference there and nowhere else."""
    lines = []
    for section in document.sections:
        headers = [section.header] + ([section.first_page_header] if section.different_first_page_header_footer
                                      else [])
        for header in headers:
            lines.extend(p.text for p in header.paragraphs)
            lines.extend(row for table in header.tables for row in _table_rows(table))
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


def _parts(lines) -> list[tuple[str, str, str]]:
    """Tag each line (kind of part, text, role); role is "text", "label" (a heading that only
    opens a known part) or "heading" (a heading whose words are content).

    An unknown heading at the level of the current part or above opens an "other" part, whose text
    counts as general comments; any heading nested inside the comments stays in them, so no
    comment text is lost to a sub-heading like "Bakgrund". The header block before the title is
    "preamble" until its first real sentence.
    """
    kind, kind_level, tagged, title_seen = "preamble", 0, [], False
    for level, text in lines:
        label = _label_kind(text) if level is None else None
        if level is None and not label:
            if kind == "preamble" and (len(text.split()) >= 8 or UNDER_RUBRIK.match(text)):
                kind, kind_level = "other", PSEUDO_LEVEL
            tagged.append((kind, text, "text"))
            continue
        level = PSEUDO_LEVEL if level is None else level
        if level == 0 and not title_seen:  # the document's title is not content
            kind, kind_level, title_seen = "other", 0, True
            continue
        level = max(level, 1)
        found = label or _heading_kind(text) or ("comments" if UNDER_RUBRIK.match(text) else None)
        nested = kind in ("comments", "general") and level > kind_level
        if found and nested and found in ("comments", "ignored", "decision"):
            tagged.append((kind, text, "label" if found == "comments" else "heading"))
        elif found:
            kind, kind_level = found, level
            tagged.append((kind, text, "label"))
        else:
            if kind == "preamble" or level <= kind_level:
                kind, kind_level = "other", level
            tagged.append((kind, text, "heading"))
    return tagged


def _take_signature(parts, result: ReplyImport):
    """Take the signature off the end of the text before the attachments: "Name, title", or a
    name line then a title line, after a finished sentence or a heading. The last two lines are
    all it looks at, and a list of names is left alone, so comment text is not lost to it."""
    end = next((i for i, (kind, _, _) in enumerate(parts) if kind in ("attachments", "stop")), len(parts))
    for start in (end - 2, end - 1):
        lines = [text for _, text, role in parts[max(start, 0):end] if role == "text" and _short(text)]
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
    return part is None or part[2] != "text" or part[1].rstrip().endswith((".", "!", "?"))


def _short(text: str) -> bool:
    return len(text.split()) <= 6 and not text.rstrip().endswith((".", ":", "!", "?")) \
        and not UNDER_RUBRIK.match(text)


def _comment_start(text: str) -> tuple[str, bool] | None:
    """(what follows "Under rubrik", explicit?) for a line that opens a comment; a line that is
    only a quoted heading opens one too, but only if it matches a section."""
    match = UNDER_RUBRIK.match(text)
    if match:
        return match.group("rest"), True
    match = QUOTED_LINE.match(text)
    return (match.group("rest"), False) if match else None


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


def _best_section(heading: str, sections: list[tuple[int, str]]) -> tuple[float, int | None]:
    wanted = _norm(heading)
    best = (0.0, None)
    for section_id, section_heading in sections:
        score = difflib.SequenceMatcher(None, wanted, _norm(section_heading)).ratio()
        if score > best[0]:
            best = (score, section_id)
    return best


def _match(rest: str, sections) -> tuple[int | None, str, str]:
    """(section id or None, the heading as written, the comment text on the same line)."""
    best = (0.0, None, rest, "")
    for heading, after in _candidates(rest):
        score, section_id = _best_section(heading, sections)
        if score > best[0]:
            best = (score, section_id, heading, after)
    score, section_id, heading, after = best
    if score >= MATCH_THRESHOLD:
        return section_id, heading, after
    return None, rest.strip(STRIP), ""


def _place_comments(items, sections, result: ReplyImport) -> None:
    """Split the comments part at each "Under rubrik" line; what precedes the first is the summary."""
    buckets: dict = {}
    current, started = None, False
    for kind, text, role in items:
        start = _comment_start(text)
        section_id, heading, after = _match(start[0], sections) if start else (None, "", "")
        if section_id is not None:
            current, started, text = section_id, True, after
        elif start and start[1]:  # an "Under rubrik" that fits no section: keep the line and what follows
            current, started = GENERAL, True
            result.unplaced_headings += [heading] if heading else []
        elif role == "label":  # such as "Synpunkter": not content
            current = GENERAL if kind == "general" else current
            continue
        elif role == "heading" and kind == "other" and current is not None:
            current = GENERAL  # an unknown heading after the comments ends the last one
        if text:
            buckets.setdefault(current, []).append(text)
    for key, texts in buckets.items():
        if isinstance(key, int):
            result.comments[key] = _join(texts)
    before = buckets.get(None, [])
    result.summary = _join(before) if started else ""
    result.general_comments = _join(([] if started else before) + buckets.get(GENERAL, []))


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
    _properties(document.core_properties, reply)
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
    and Word should spell-check in Swedish."""
    from docx.oxml.ns import qn
    from docx.shared import Mm

    for section in document.sections:
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.left_margin = section.right_margin = Mm(25)
    for lang in document.styles.element.iter(qn("w:lang")):
        lang.set(qn("w:val"), "sv-SE")


def _properties(properties, reply: ReplyContent) -> None:
    properties.title = xml_line(f"Remissvar från {reply.body_name}: {reply.strategy_title}")[:PROPERTY_LIMIT]
    properties.subject = xml_line(reply.reply_label)[:PROPERTY_LIMIT]
    properties.author = xml_line(reply.body_name)[:PROPERTY_LIMIT]
    properties.identifier = xml_line(reply.body_case_reference)[:PROPERTY_LIMIT]
    properties.language = "sv-SE"


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
