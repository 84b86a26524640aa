"""The remissammanställning as Word: written from a compilation.Summary with python-docx.

Real Title/Heading 1/Heading 2 styles, so Word builds a table of contents; page numbers in the
footer; A4 and Swedish proofing. python-docx is slow where used naively, so styles are looked up
once, table cells are filled row by row (never `table.cell(i, j)`), and no paragraph's style is
read back.
"""
import io
from zoneinfo import ZoneInfo

from .compilation import OVERVIEW_COLUMNS, REPLY_TEXTS, Comment, Summary, reply_facts, submitted_on
from .reply_documents import docx_paragraphs, facts, swedish_a4, xml_line

CHART_WIDTH_CM = 16
# The overview's columns on A4 with 25 mm margins (160 mm): body names and stances need the room.
OVERVIEW_WIDTHS_MM = (48, 20, 28, 36, 28)
CHART_FONT = "fonts/DejaVuSans-subset.ttf"
# Colours told apart by people with the common colour-vision deficiencies (Okabe–Ito); every bar
# also carries its label and number, so nothing is said by colour alone.
CHART_COLOURS = ("#009E73", "#56B4E9", "#D55E00", "#999999", "#E69F00", "#FFFFFF")


class _Appender:
    """Adds paragraphs at the end of the body in constant time, with runs of plain text.

    python-docx's own `add_paragraph` looks through all of the body's children for the closing
    section properties on every call, and `add_run` sets text one character at a time; with
    thousands of comments that was two thirds of the time. The text given here never holds line
    breaks (xml_line and docx_paragraphs split them out), so a run is one <w:t>.
    """

    def __init__(self, document):
        self._parent = document._body
        self._body = document.element.body
        self._end = self._body.sectPr

    def add_paragraph(self, text: str = "", style=None):
        from docx.oxml import OxmlElement
        from docx.text.paragraph import Paragraph

        p = OxmlElement("w:p")
        if self._end is not None:
            self._end.addprevious(p)
        else:
            self._body.append(p)
        paragraph = Paragraph(p, self._parent)
        if style is not None:
            paragraph.style = style
        if text:
            run(paragraph, text)
        return paragraph


def run(paragraph, text: str, *, bold: bool = False, italic: bool = False):
    """A run of `text` (no line breaks) at the end of `paragraph`."""
    from docx.text.run import Run

    r = paragraph._p.add_r()
    if text:
        r.add_t(text)
    added = Run(r, paragraph)
    if bold:
        added.bold = True
    if italic:
        added.italic = True
    return added


def write_docx(summary: Summary, zone: ZoneInfo) -> bytes:
    import docx

    document = docx.Document()
    swedish_a4(document)
    styles = document.styles
    h1, h2 = styles["Heading 1"], styles["Heading 2"]
    properties = document.core_properties
    properties.title = xml_line(f"Remissammanställning: {summary.title}")[:255]
    properties.identifier = xml_line(summary.case_reference)[:255]
    properties.language = "sv-SE"
    _page_numbers(document)
    body = _Appender(document)

    body.add_paragraph(xml_line(summary.title), style=styles["Title"])
    body.add_paragraph("Remissammanställning", style=styles["Subtitle"])
    facts(body, summary.facts)
    document.add_page_break()

    body.add_paragraph("Översikt", style=h1)
    _overview(document, summary, zone, styles["Table Grid"])
    _chart(document, body, summary)

    headings = {level: styles[f"Heading {level}"] for level in {part.level for part in summary.sections}}
    for part in summary.sections:
        body.add_paragraph(xml_line(part.heading) or "(utan rubrik)", style=headings[part.level])
        if not part.comments:
            body.add_paragraph("Inga synpunkter på detta avsnitt.")
        for comment in part.comments:
            _comment(body, comment)

    body.add_paragraph(summary.general.heading, style=h1)
    if not summary.general.comments:
        body.add_paragraph("Inga övriga synpunkter.")
    for comment in summary.general.comments:
        _comment(body, comment)

    body.add_paragraph("Remissinstanser som inte svarat", style=h1)
    silent = summary.silent
    if not silent:
        body.add_paragraph("Alla remissinstanser har svarat.")
    bullet = styles["List Bullet"]
    for entry in silent:
        body.add_paragraph(xml_line(entry.body_name), style=bullet)

    body.add_paragraph("Bilaga: remissvaren i sin helhet", style=h1)
    answered = summary.answered
    for entry in answered:
        body.add_paragraph(xml_line(entry.body_name), style=h2)
        facts(body, reply_facts(entry, zone))
        for label, key in REPLY_TEXTS:
            paragraphs = docx_paragraphs(entry.content.get(key) or "")
            if paragraphs:
                run(body.add_paragraph(), f"{label}:", bold=True)
                for text in paragraphs:
                    body.add_paragraph(text)
    if not answered:
        body.add_paragraph("Inga remissvar har kommit in.")

    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _overview(document, summary: Summary, zone: ZoneInfo, grid) -> None:
    from docx.shared import Mm

    widths = [Mm(width) for width in OVERVIEW_WIDTHS_MM]
    table = document.add_table(rows=1, cols=len(OVERVIEW_COLUMNS))
    table.style = grid
    table.autofit = False
    for column, width in zip(table.columns, widths):
        column.width = width  # the grid LibreOffice reads; Word reads each cell's own width
    header = table.rows[0]
    _repeat_as_header(header)
    for cell, label, width in zip(header.cells, OVERVIEW_COLUMNS, widths):
        cell.width = width
        run(cell.paragraphs[0], label, bold=True)
    for entry in summary.entries:
        values = (entry.body_name, entry.answer, submitted_on(entry, zone), entry.stance,
                  entry.content.get("case_reference") or "")
        for cell, value, width in zip(table.add_row().cells, values, widths):
            cell.width = width
            run(cell.paragraphs[0], xml_line(value))


def _repeat_as_header(row) -> None:
    """The header row repeats on every page the table runs over, and screen readers take it as headers."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = row._tr.get_or_add_trPr()
    properties.append(OxmlElement("w:tblHeader"))
    properties[-1].set(qn("w:val"), "true")


def _chart(document, body: _Appender, summary: Summary) -> None:
    """The chart of stances and answer rate, with the same numbers as text for those who cannot see it."""
    from docx.shared import Cm

    description = chart_description(summary)
    document.add_picture(io.BytesIO(chart_png(summary)), width=Cm(CHART_WIDTH_CM))
    picture = document.inline_shapes[-1]._inline
    picture.docPr.set("descr", description)
    picture.docPr.set("title", "Ställningstaganden och svarsfrekvens")
    body.add_paragraph(description)


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
    for i, ((label, count), colour) in enumerate(zip(counts, CHART_COLOURS)):
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


def _comment(body: _Appender, comment: Comment) -> None:
    """The body's name in bold, then its comment, one paragraph per line; then the officer's disposition."""
    lines = docx_paragraphs(comment.text) or [""]
    paragraph = body.add_paragraph()
    run(paragraph, f"{xml_line(comment.body_name)}: ", bold=True)
    run(paragraph, lines[0])
    for line in lines[1:]:
        body.add_paragraph(line)
    if comment.decision:
        reasons = docx_paragraphs(comment.reason)
        paragraph = body.add_paragraph()
        run(paragraph, "Ställningstagande: ", italic=True)
        run(paragraph, f"{comment.decision} – {reasons[0]}" if reasons else comment.decision)
        for line in reasons[1:]:
            body.add_paragraph(line)


def _page_numbers(document) -> None:
    """A centred PAGE field in every section's footer."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for section in document.sections:
        paragraph = section.footer.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = paragraph.add_run()
        for kind, instruction in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"),
                                  ("end", None)):
            if kind:
                element = OxmlElement("w:fldChar")
                element.set(qn("w:fldCharType"), kind)
            elif instruction == "1":
                element = OxmlElement("w:t")
                element.text = "1"
            else:
                element = OxmlElement("w:instrText")
                element.set(qn("xml:space"), "preserve")
                element.text = instruction
            run._r.append(element)
