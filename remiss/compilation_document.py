"""The remissammanställning as Word: written from a compilation.Summary.

Title page (no page number), table of contents, "Inledning" with the round's facts and the officer's
texts, the overview grouped into nämnder, bolag and övriga with the chart, the comments section by
section under "Synpunkter per avsnitt" (the draft's chapters one level down, each comment followed by
the officer's "Kommentar" in a paragraph style of its own), the general comments, who has anstånd and
who did not answer, and every reply in full. Real Title and Heading styles without a skipped level,
so Word's navigation and table of contents work; a header with the case reference and the date.

Speed and memory: python-docx builds an object per paragraph and run, which for 300 replies with 20
comments each (every one twice, in its section and in the appendix) was most of the time. So the body
is written as WordprocessingML text, every piece of text escaped, and parsed a few thousand paragraphs
at a time; python-docx makes the rest of the package (styles, header, footer, the chart's image part)
and the body's part is streamed into the zip.
"""
import io
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from . import calendar
from .compilation import (
    NO_ANSWER, OVERVIEW_COLUMNS, REPLY_TEXTS, Comment, Entry, Part, Summary, day, reply_facts,
)
from .reply_documents import (
    XML_ILLEGAL, docx_paragraphs, document_properties, page_number_footer, swedish_a4, xml_line,
)

CHART_WIDTH_CM = 16
CHART_FONT = "fonts/DejaVuSans-subset.ttf"
# Colours told apart by people with the common colour-vision deficiencies (Okabe–Ito); every bar
# also carries its label and number, so nothing is said by colour alone.
CHART_COLOURS = ("#009E73", "#56B4E9", "#D55E00", "#999999", "#E69F00", "#CC79A7", "#F0E442", "#FFFFFF")

TITLE = "Remissammanställning"
CONTENTS = "Innehåll"
INTRODUCTION = "Inledning"
BACKGROUND = "Bakgrund"
ASSESSMENT = "Sammanfattande bedömning"
OVERVIEW = "Översikt"
BY_SECTION = "Synpunkter per avsnitt"
WAITING = "Remissinstanser med anstånd"
SILENT = "Remissinstanser som inte svarat"
APPENDIX = "Bilaga: remissvaren i sin helhet"
OFFICER_LABEL = "Kommentar: "
NOT_HANDLED = "Ej kommenterad"
# The overview's groups, in this order; any other kind of body is one of "övriga".
GROUPS = (("board", "Nämnder"), ("company", "Bolag"), ("", "Övriga remissinstanser"))
TOC_LEVELS = 3  # headings 1–3 in the table of contents, as its field says
TOC_FIELD = ' TOC \\o "1-3" \\h \\z \\u '

# Styles this document adds, so a municipality's template can restyle each: their ids and names.
OFFICER_STYLE, OFFICER_STYLE_NAME = "Handlaggarenskommentar", "Handläggarens kommentar"
TABLE_STYLE, TABLE_STYLE_NAME = "Tabelltext", "Tabelltext"
LABEL_STYLE, LABEL_STYLE_NAME = "Etikett", "Etikett"

# A4 with 25 mm margins leaves 160 mm (twips: 1/20 pt, 1/1440 inch) for the overview's columns.
TEXT_WIDTH = 9071
CELL_MARGIN = 72  # left and right in each cell
SLACK = 57  # 1 mm more per column, for rounding in Word and LibreOffice
TABLE_SIZES = (10, 9, 8)  # the overview's text size in points: the largest at which no word breaks
# Words are measured in DejaVu Sans (shipped with the app, for the chart), which is wider than the
# document's Calibri and its metric twin Carlito, and is what LibreOffice falls back to without them:
# a column a word fits in measured so holds it in all three. Bold DejaVu is at most this much wider.
BOLD_FACTOR = 1.15

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
PAGE_BREAK = '<w:p><w:r><w:br w:type="page"/></w:r></w:p>'


# ------------------------------------------------------------------ text as WordprocessingML

def _escape(text: str) -> str:
    """One line of any text as the content of <w:t>: XML-illegal characters removed, markup literal."""
    text = XML_ILLEGAL.sub("", text).replace("\r", " ").replace("\n", " ")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _run(text: str, bold: bool = False) -> str:
    if not text:
        return ""
    escaped = _escape(text)
    if "\t" in escaped:  # a tab is its own element in Word
        escaped = escaped.replace("\t", '</w:t><w:tab/><w:t xml:space="preserve">')
    # Spaces at either end or in a row would be dropped without xml:space; left out where none are, as
    # an attribute on every run of the longest documents weighs megabytes in memory.
    space = ' xml:space="preserve"' if escaped[:1] == " " or escaped[-1:] == " " or "  " in escaped else ""
    return (f'<w:r><w:rPr><w:b/></w:rPr><w:t{space}>{escaped}</w:t></w:r>' if bold
            else f'<w:r><w:t{space}>{escaped}</w:t></w:r>')


def _paragraph(runs: str = "", style: str | None = None) -> str:
    return f'<w:p><w:pPr><w:pStyle w:val="{style}"/></w:pPr>{runs}</w:p>' if style else f"<w:p>{runs}</w:p>"


def _label(text: str) -> str:
    """A line naming what follows (bold, kept with it), in a style of its own."""
    return f'<w:p><w:pPr><w:pStyle w:val="{LABEL_STYLE}"/></w:pPr><w:r><w:t>{_escape(text)}</w:t></w:r></w:p>'


def _text(text: str, style: str | None = None) -> str:
    return _paragraph(_run(text), style)


def _labelled(label: str, value: str, style: str | None = None) -> str:
    """'Label: value' with the label in bold."""
    return _paragraph(_run(f"{label}: ", bold=True) + _run(value), style)


class _Body:
    """Adds paragraphs written as text to the document's body, parsed a few thousand at a time (one
    string of the whole body would be the largest thing in memory); keeps the headings the table of
    contents lists."""

    FLUSH_EVERY = 2000

    def __init__(self, document):
        self._target = document.element.body
        self._end = self._target.sectPr  # the section's properties close the body
        self.parts: list[str] = []
        self.contents: list[tuple[int, str, str]] = []  # (level, text, bookmark)

    def add(self, xml: str) -> None:
        self.parts.append(xml)
        if len(self.parts) >= self.FLUSH_EVERY:
            self.flush()

    def flush(self):
        """Everything added so far into the document; returns its last element."""
        if self.parts:
            elements = _parsed(self.parts)
            self.parts = []
            if self._end is not None:
                self._target.remove(self._end)
            self._target.extend(elements)
            if self._end is not None:
                self._target.append(self._end)
        return self._end.getprevious() if self._end is not None else self._target[-1]

    def insert_after(self, anchor, parts: list[str]) -> None:
        for element in _parsed(parts):
            anchor.addnext(element)
            anchor = element

    def heading(self, level: int, text: str) -> None:
        text = xml_line(text) or "(utan rubrik)"
        if level > TOC_LEVELS:
            self.add(_text(text, f"Heading{level}"))
            return
        number = len(self.contents) + 1
        bookmark = f"_Toc{number:08d}"
        self.contents.append((level, text, bookmark))
        self.add(f'<w:p><w:pPr><w:pStyle w:val="Heading{level}"/></w:pPr>'
                 f'<w:bookmarkStart w:id="{number}" w:name="{bookmark}"/>{_run(text)}'
                 f'<w:bookmarkEnd w:id="{number}"/></w:p>')

    def facts(self, pairs) -> None:
        """Label–value lines; an empty value leaves its line out."""
        for label, value in pairs:
            value = xml_line(value)
            if value:
                self.add(_labelled(label, value))

    def texts(self, text: str) -> None:
        for line in docx_paragraphs(text):
            self.add(_text(line))

    def bullets(self, lines) -> None:
        for line in lines:
            self.add(_text(xml_line(line), "ListBullet"))


# ------------------------------------------------------------------ the document

def write_docx(summary: Summary, zone: ZoneInfo, *, now: datetime | None = None, gather_empty: bool = True) -> bytes:
    """The compilation as .docx bytes. `now` (aware) is when it was made: its properties say so (the
    clock's now when not given). `gather_empty` puts the sections nobody commented on into one line
    instead of a heading each."""
    import docx

    from . import clock

    now = now or clock.now()
    compiled_on = summary.compiled_on or calendar.local_date(now, zone)
    document = docx.Document()
    swedish_a4(document)
    document_properties(document, title=f"{TITLE}: {summary.title}", subject=summary.case_reference,
                        author=summary.officer_name, company=summary.municipality, at=now,
                        keywords=TITLE, identifier=summary.case_reference)
    _settings(document)
    _page_furniture(document, summary, compiled_on)
    widths, size = _overview_widths(summary, zone)
    _styles(document, size)

    body = _Body(document)
    body.add(_text(summary.title, "Title"))
    body.add(_text(TITLE, "Subtitle"))
    body.facts(summary.facts)
    body.add(PAGE_BREAK)
    body.add(_text(CONTENTS, "TOCHeading"))
    contents_at = body.flush()  # the contents go here once every heading is known
    body.add(PAGE_BREAK)

    _introduction(body, summary)
    body.heading(1, OVERVIEW)
    body.add(_overview(summary, zone, widths))
    body.add(_chart(document, summary))
    body.add(_text(chart_description(summary)))
    body.heading(1, BY_SECTION)
    _sections(body, summary.sections, gather_empty)
    body.heading(1, summary.general.heading)
    if not summary.general.comments:
        body.add(_text("Inga övriga synpunkter."))
    for comment in summary.general.comments:
        _comment(body, comment)
    _not_answered(body, summary)
    _appendix(body, summary, zone)
    body.flush()
    body.insert_after(contents_at, _table_of_contents(body.contents))
    return _saved(document)


def _saved(document) -> bytes:
    """The package as python-docx writes it, except the body's part, which is streamed into the zip:
    python-docx serialises each part whole, which for the longest compilations doubled the memory the
    document takes at its peak."""
    import zipfile

    from lxml import etree

    part = document.part
    element = part._element
    part._element = etree.Element(element.tag, nsmap=element.nsmap)
    try:
        first = io.BytesIO()
        document.save(first)
    finally:
        part._element = element
    name = part.partname.lstrip("/")
    out = io.BytesIO()
    with zipfile.ZipFile(first) as written, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for info in written.infolist():
            if info.filename != name:
                package.writestr(info, written.read(info.filename))
                continue
            streamed = zipfile.ZipInfo(name, date_time=info.date_time)
            streamed.compress_type = zipfile.ZIP_DEFLATED
            with package.open(streamed, "w") as stream:
                etree.ElementTree(element).write(stream, encoding="UTF-8", xml_declaration=True, standalone=True)
    return out.getvalue()


def _parsed(parts: list[str]) -> list:
    from docx.oxml import parse_xml

    return list(parse_xml(f'<w:body xmlns:w="{W_NS}">{"".join(parts)}</w:body>'))


def _introduction(body: _Body, summary: Summary) -> None:
    body.heading(1, INTRODUCTION)
    body.facts(summary.introduction)
    for heading, text in ((BACKGROUND, summary.background), (ASSESSMENT, summary.assessment)):
        if docx_paragraphs(text or ""):
            body.heading(2, heading)
            body.texts(text)


def _sections(body: _Body, sections: list[Part], gather_empty: bool) -> None:
    """Each section one level below "Synpunkter per avsnitt", as deep as in the draft but never more than
    one level below the heading before it. Gathered, a section without comments gets no heading of its
    own, unless a section under it has comments: the others are named in one line instead."""
    shown = _shown(sections) if gather_empty else [True] * len(sections)
    gathered = [part for part, show in zip(sections, shown) if not show]
    if gathered:
        body.add(_text(_nothing_on(gathered)))
    previous = 1
    for part, show in zip(sections, shown):
        if not show:
            continue
        level = min(part.level + 1, previous + 1, 9)
        body.heading(level, part.heading)
        previous = level
        if not part.comments:
            body.add(_text("Inga synpunkter på detta avsnitt."))
        for comment in part.comments:
            _comment(body, comment)


def _shown(sections: list[Part]) -> list[bool]:
    """Which sections keep a heading: those with comments, and every section above one in the outline."""
    shown = [bool(part.comments) for part in sections]
    above: list[int] = []  # the open sections above the current one, outermost first
    for i, part in enumerate(sections):
        while above and sections[above[-1]].level >= part.level:
            above.pop()
        if part.comments:
            for j in above:
                shown[j] = True
        above.append(i)
    return shown


def _nothing_on(parts: list[Part]) -> str:
    names = [part.number or f"”{xml_line(part.heading)}”" for part in parts]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} och {names[-1]}"
    return f"Inga synpunkter har lämnats på avsnitt {listed}."


def _comment(body: _Body, comment: Comment) -> None:
    """The body's name and stance in bold, its comment (a paragraph per line), then the officer's
    comment in its own style: the disposition and reason, or that it is not handled yet."""
    lines = docx_paragraphs(comment.text) or [""]
    stance = comment.stance[:1].lower() + comment.stance[1:]
    name = xml_line(comment.body_name) + (f" ({stance})" if stance else "")
    body.add(_paragraph(_run(f"{name}: ", bold=True) + _run(lines[0])))
    for line in lines[1:]:
        body.add(_text(line))
    label = _run(OFFICER_LABEL, bold=True)
    if not comment.decision:
        body.add(_paragraph(label + _run(NOT_HANDLED), OFFICER_STYLE))
        return
    reasons = docx_paragraphs(comment.reason)
    body.add(_paragraph(label + _run(f"{comment.decision} – {reasons[0]}" if reasons else comment.decision),
                        OFFICER_STYLE))
    for line in reasons[1:]:
        body.add(_text(line, OFFICER_STYLE))


def _not_answered(body: _Body, summary: Summary) -> None:
    waiting = list(getattr(summary, "waiting", []))
    if waiting:
        body.heading(1, WAITING)
        body.bullets(f"{entry.body_name}: {entry.answer}" for entry in waiting)
    body.heading(1, SILENT)
    silent = [entry for entry in summary.silent if entry not in waiting]
    if not silent:
        body.add(_text("Alla remissinstanser utom de med anstånd har svarat." if waiting
                       else "Alla remissinstanser har svarat."))
    body.bullets(entry.body_name for entry in silent)


def _appendix(body: _Body, summary: Summary, zone: ZoneInfo) -> None:
    """Each reply as it was sent: its facts, summary, proposed decision, every comment under the section it
    is on, the general comments and the names of its attachments."""
    body.heading(1, APPENDIX)
    answered = summary.answered
    if not answered:
        body.add(_text("Inga remissvar har kommit in."))
    for entry in answered:
        content = entry.content
        body.heading(2, entry.body_name)
        body.facts(_facts_of(entry, zone))
        for label, key in REPLY_TEXTS:
            _labelled_text(body, label, content.get(key) or "")
        for comment in content.get("comments") or ():
            heading = xml_line(f"{comment.get('number') or ''} {comment.get('heading') or ''}")
            _labelled_text(body, f"Synpunkter på {heading}" if heading else "Synpunkter", comment.get("text") or "")
        _labelled_text(body, "Övriga synpunkter", content.get("general_comments") or "")
        attachments = content.get("attachments") or ()
        if attachments:
            body.add(_label("Bilagor:"))
            body.bullets(" – ".join(xml_line(a.get(key) or "") for key in ("filename", "description")
                                    if xml_line(a.get(key) or "")) for a in attachments)


def _labelled_text(body: _Body, label: str, text: str) -> None:
    lines = docx_paragraphs(text)
    if lines:
        body.add(_label(f"{label}:"))
        for line in lines:
            body.add(_text(line))


def _facts_of(entry: Entry, zone: ZoneInfo) -> list[tuple[str, str]]:
    """reply_facts, with the date the reply came in (inkom) under that name."""
    received = _received(entry, zone) + (" (efter sista svarsdag)" if entry.status == "late" else "")
    return [("Inkom", received) if label in ("Inkom", "Inskickat") else (label, value)
            for label, value in reply_facts(entry, zone)]


def _received(entry: Entry, zone: ZoneInfo) -> str:
    if entry.received_on is not None:
        return day(entry.received_on)
    return day(calendar.local_date(entry.submitted_at, zone)) if entry.submitted_at else ""


# ------------------------------------------------------------------ the table of contents

def _table_of_contents(contents: list[tuple[int, str, str]]) -> list[str]:
    """A TOC field marked dirty, so Word builds it anew on opening (settings ask for that too). Its
    result already lists the headings, linked to them, so a reader that does not update fields (and
    LibreOffice converting to PDF) still shows the contents; page numbers come when it is updated."""
    begin = ('<w:r><w:fldChar w:fldCharType="begin" w:dirty="true"/></w:r>'
             f'<w:r><w:instrText xml:space="preserve">{TOC_FIELD}</w:instrText></w:r>'
             '<w:r><w:fldChar w:fldCharType="separate"/></w:r>')
    end = '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    if not contents:
        return [_paragraph(begin + end, "TOC1")]
    paragraphs = []
    for n, (level, text, bookmark) in enumerate(contents):
        entry = f'<w:hyperlink w:anchor="{bookmark}" w:history="1">{_run(text)}</w:hyperlink>'
        paragraphs.append(_paragraph((begin if n == 0 else "") + entry + (end if n == len(contents) - 1 else ""),
                                     f"TOC{level}"))
    return paragraphs


# ------------------------------------------------------------------ the overview

def _groups(entries: list[Entry]) -> list[tuple[str, list[Entry]]]:
    """The bodies by group (nämnder, bolag, övriga), each in the entries' (Swedish) order; empty groups
    left out."""
    known = {kind for kind, _ in GROUPS if kind}
    grouped = []
    for kind, label in GROUPS:
        members = [e for e in entries if (str(e.kind or "") == kind if kind else str(e.kind or "") not in known)]
        if members:
            grouped.append((label, members))
    return grouped


def _overview_values(entry: Entry, zone: ZoneInfo) -> tuple[str, ...]:
    return (entry.body_name, entry.answer, _received(entry, zone), entry.stance,
            entry.content.get("case_reference") or "")


def _overview(summary: Summary, zone: ZoneInfo, widths: list[int]) -> str:
    """One table of every body: a header row that repeats on each page (and is the table's header for a
    screen reader), then the bodies by group under a row naming it when there is more than one group."""
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    rows = [_row([_run(label, bold=True) for label in OVERVIEW_COLUMNS], widths, header=True)]
    groups = _groups(summary.entries)
    for label, members in groups:
        if len(groups) > 1:
            rows.append(f'<w:tr><w:trPr><w:cantSplit/></w:trPr><w:tc><w:tcPr><w:tcW w:w="{sum(widths)}" '
                        f'w:type="dxa"/><w:gridSpan w:val="{len(widths)}"/><w:shd w:val="clear" w:color="auto" '
                        f'w:fill="E7E6E6"/></w:tcPr>{_paragraph(_run(label, bold=True), TABLE_STYLE)}</w:tc></w:tr>')
        for entry in members:
            rows.append(_row([_run(xml_line(value)) for value in _overview_values(entry, zone)], widths))
    return (f'<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="{sum(widths)}" w:type="dxa"/>'
            '<w:tblLayout w:type="fixed"/><w:tblCellMar>'
            f'<w:left w:w="{CELL_MARGIN}" w:type="dxa"/><w:right w:w="{CELL_MARGIN}" w:type="dxa"/></w:tblCellMar>'
            '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" w:lastColumn="0" '
            'w:noHBand="0" w:noVBand="1"/><w:tblCaption w:val="Remissinstanserna och deras svar"/></w:tblPr>'
            f'<w:tblGrid>{grid}</w:tblGrid>{"".join(rows)}</w:tbl>')


def _row(cells: list[str], widths: list[int], header: bool = False) -> str:
    """A row of cells of the given widths (Word reads each cell's, LibreOffice the grid's)."""
    properties = '<w:trPr><w:cantSplit/><w:tblHeader w:val="true"/></w:trPr>' if header \
        else "<w:trPr><w:cantSplit/></w:trPr>"
    return f"<w:tr>{properties}" + "".join(
        f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr>{_paragraph(runs, TABLE_STYLE)}</w:tc>'
        for runs, width in zip(cells, widths)) + "</w:tr>"


def _overview_widths(summary: Summary, zone: ZoneInfo) -> tuple[list[int], int]:
    """The overview's column widths (twips) and text size (points): the largest size at which every
    column is as wide as its longest word, the room left given to the columns whose text wraps."""
    texts = [[xml_line(v) for v in _overview_values(entry, zone)] for entry in summary.entries]
    columns = list(zip(*texts)) if texts else [()] * len(OVERVIEW_COLUMNS)
    padding = 2 * CELL_MARGIN + SLACK
    for size in TABLE_SIZES:
        need = [max([_width(word, size) for text in column for word in text.split()]
                    + [_width(word, size) * BOLD_FACTOR for word in label.split()]) + padding
                for label, column in zip(OVERVIEW_COLUMNS, columns)]
        if sum(need) <= TEXT_WIDTH:
            break
    whole = [max([_width(text, size) for text in column] + [_width(label, size) * BOLD_FACTOR]) + padding
             for label, column in zip(OVERVIEW_COLUMNS, columns)]
    if sum(whole) <= TEXT_WIDTH:  # nothing wraps: the room left shared in proportion
        widths = [w * TEXT_WIDTH / sum(whole) for w in whole]
    elif sum(need) <= TEXT_WIDTH:  # the room above the longest words goes where text wraps
        spare, wanted = TEXT_WIDTH - sum(need), [w - n for w, n in zip(whole, need)]
        widths = [n + spare * w / sum(wanted) for n, w in zip(need, wanted)]
    else:  # a word longer than any column can hold at the smallest size: it will break somewhere
        widths = [n * TEXT_WIDTH / sum(need) for n in need]
    widths = [int(w) for w in widths]
    widths[0] += TEXT_WIDTH - sum(widths)
    return widths, size


@lru_cache(maxsize=4096)
def _width(text: str, size: int) -> float:
    """`text`'s width in twips at `size` points in DejaVu Sans."""
    return _measuring_font().getlength(text) * size * 20 / 100


@lru_cache(maxsize=1)
def _measuring_font():
    return _font(100)


# ------------------------------------------------------------------ styles, header, footer, settings

def _styles(document, table_size: int) -> None:
    """The styles this document adds, defined once so a template can restyle them: the officer's
    comment (indented, a rule on the left, tinted), the overview's text, and the contents' levels."""
    from docx.oxml import parse_xml

    styles = document.styles.element
    declared = f'xmlns:w="{W_NS}"'
    added = [
        (f'<w:style {declared} w:type="paragraph" w:customStyle="1" w:styleId="{OFFICER_STYLE}">'
        f'<w:name w:val="{OFFICER_STYLE_NAME}"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/>'
        '<w:pPr><w:pBdr><w:left w:val="single" w:sz="18" w:space="6" w:color="1F4E79"/></w:pBdr>'
        '<w:shd w:val="clear" w:color="auto" w:fill="EDF2F8"/><w:spacing w:before="60" w:after="240"/>'
        '<w:ind w:left="567"/></w:pPr><w:rPr><w:color w:val="1F3864"/></w:rPr></w:style>'),
        (f'<w:style {declared} w:type="paragraph" w:customStyle="1" w:styleId="{TABLE_STYLE}">'
        f'<w:name w:val="{TABLE_STYLE_NAME}"/><w:basedOn w:val="Normal"/><w:qFormat/>'
        '<w:pPr><w:spacing w:before="20" w:after="20" w:line="240" w:lineRule="auto"/></w:pPr>'
        f'<w:rPr><w:sz w:val="{table_size * 2}"/><w:szCs w:val="{table_size * 2}"/></w:rPr></w:style>'),
        (f'<w:style {declared} w:type="paragraph" w:customStyle="1" w:styleId="{LABEL_STYLE}">'
         f'<w:name w:val="{LABEL_STYLE_NAME}"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/>'
         '<w:pPr><w:keepNext/></w:pPr><w:rPr><w:b/><w:bCs/></w:rPr></w:style>'),
    ]
    for level in range(1, TOC_LEVELS + 1):
        added.append(
            f'<w:style {declared} w:type="paragraph" w:styleId="TOC{level}"><w:name w:val="toc {level}"/>'
            '<w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:uiPriority w:val="39"/><w:unhideWhenUsed/>'
            f'<w:pPr><w:tabs><w:tab w:val="right" w:leader="dot" w:pos="{TEXT_WIDTH - 10}"/></w:tabs>'
            f'<w:spacing w:after="60"/><w:ind w:left="{(level - 1) * 220}"/></w:pPr></w:style>')
    for xml in added:
        styles.append(parse_xml(xml))
    _darker_accents(styles)


def _darker_accents(styles) -> None:
    """The blank document's headings 2–4 and 8, subtitle and caption are in the theme's light accent
    (#4F81BD, 3.9:1 on white): made the shade heading 1 has (#365F91, 6.6:1), enough for text of any size."""
    from docx.oxml.ns import qn

    for colour in styles.iter(qn("w:color")):
        if colour.get(qn("w:val")) == "4F81BD" and colour.get(qn("w:themeColor")) == "accent1":
            colour.set(qn("w:val"), "365F91")
            colour.set(qn("w:themeShade"), "BF")


def _settings(document) -> None:
    """Word updates the fields (the table of contents) when it opens the document."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    settings = document.settings.element
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    compat = settings.find(qn("w:compat"))
    if compat is not None:
        compat.addprevious(update)  # where the schema puts it
    else:
        settings.append(update)


def _page_furniture(document, summary: Summary, compiled_on) -> None:
    """No header or page number on the title page; on every other page the case reference and the date
    in the header and the page number in the footer."""
    from docx.oxml import parse_xml

    section = document.sections[0]
    section.different_first_page_header_footer = True
    section.first_page_header.is_linked_to_previous = False
    section.first_page_footer.is_linked_to_previous = False
    page_number_footer(section)
    header = section.header
    header.is_linked_to_previous = False
    element = header._element
    for child in list(element):
        element.remove(child)
    line = f"{TITLE} {summary.case_reference}".strip()
    element.append(parse_xml(
        f'<w:p xmlns:w="{W_NS}"><w:pPr><w:pStyle w:val="Header"/><w:tabs><w:tab w:val="clear" w:pos="4680"/>'
        f'<w:tab w:val="clear" w:pos="9360"/><w:tab w:val="right" w:pos="{TEXT_WIDTH}"/></w:tabs></w:pPr>'
        f'{_run(line)}<w:r><w:tab/></w:r>{_run(day(compiled_on))}</w:p>'))


# ------------------------------------------------------------------ the chart

def _chart(document, summary: Summary) -> str:
    """The chart of stances and answer rate as a paragraph, with the same numbers as its alt text."""
    from docx.shared import Cm
    from lxml import etree

    inline = document.part.new_pic_inline(io.BytesIO(chart_png(summary)), Cm(CHART_WIDTH_CM), None)
    inline.docPr.set("descr", chart_description(summary))
    inline.docPr.set("title", "Ställningstaganden och svarsfrekvens")
    return (f'<w:p><w:pPr><w:keepNext/></w:pPr><w:r><w:drawing>{etree.tostring(inline, encoding="unicode")}'
            '</w:drawing></w:r></w:p>')


def chart_description(summary: Summary) -> str:
    """The chart in words: its alt text in Word and its caption in the preview."""
    answered, total = len(summary.answered), len(summary.entries)
    shown = [f"{label.lower()} {count}" for label, count in summary.stance_counts() if count]
    rate = f"{answered} av {total} remissinstanser har svarat ({_percent(answered, total)})"
    return f"{rate}. " + (", ".join(shown).capitalize() + "." if shown else "")


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)} %" if whole else "0 %"


def chart_png(summary: Summary) -> bytes:
    """A horizontal bar per stance (and "no answer"), then the answer rate as one filled bar."""
    from PIL import Image, ImageDraw

    counts = summary.stance_counts()
    total = max(len(summary.entries), 1)
    scale = 2  # drawn at twice the size it is shown, so it stays sharp when printed
    width, bar, gap, left, right = 800 * scale, 26 * scale, 12 * scale, 260 * scale, 60 * scale
    font, title_font = _font(15 * scale), _font(18 * scale)
    top = 44 * scale
    height = top + len(counts) * (bar + gap) + 70 * scale
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((12 * scale, 10 * scale), "Ställningstaganden", fill="black", font=title_font)
    most = max((count for _label, count in counts), default=0) or 1
    span = width - left - right
    for i, (label, count) in enumerate(counts):
        colour = CHART_COLOURS[-1] if label == NO_ANSWER else CHART_COLOURS[i % (len(CHART_COLOURS) - 1)]
        y = top + i * (bar + gap)
        draw.text((12 * scale, y + 3 * scale), label, fill="black", font=font)
        length = round(span * count / most)
        if length:
            draw.rectangle((left, y, left + length, y + bar), fill=colour, outline="black", width=scale)
        draw.text((left + length + 8 * scale, y + 3 * scale), str(count), fill="black", font=font)
    answered = len(summary.answered)
    y = top + len(counts) * (bar + gap) + 14 * scale
    draw.text((12 * scale, y + 3 * scale), "Svarsfrekvens", fill="black", font=font)
    draw.rectangle((left, y, left + span, y + bar), fill="white", outline="black", width=scale)
    filled = round(span * answered / total)
    if filled:
        draw.rectangle((left, y, left + filled, y + bar), fill="#0072B2", outline="black", width=scale)
    draw.text((left + span + 8 * scale, y + 3 * scale), _percent(answered, len(summary.entries)), fill="black",
              font=font)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True, dpi=(200, 200))
    return out.getvalue()


def _font(size: int):
    """DejaVu Sans (its Latin-1 part, shipped with the app): Pillow's own font has no å, ä or ö."""
    from importlib.resources import files

    from PIL import ImageFont

    return ImageFont.truetype(io.BytesIO(files("remiss").joinpath(CHART_FONT).read_bytes()), size)
