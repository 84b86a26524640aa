"""The remissammanställning as a document for kommunstyrelsen: its navigation (table of contents, a title
page without a page number, a header with the case reference), the officer's comments set apart from
the bodies', the appendix in full, its properties and what makes it accessible; read from the XML.
The demo's compilation converted by LibreOffice shows the contents and breaks no word in the overview."""
import io
import os
import re
import shutil
import subprocess
import zipfile
from itertools import pairwise
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import docx
import pytest
from lxml import etree
from sqlalchemy import select

from remiss.compilation import Comment, Entry, Part, Summary, comments_xlsx, compile_round
from remiss.compilation_document import OFFICER_STYLE, write_docx
from remiss.demo import CASE_REFERENCE, load_demo
from remiss.models import ReferralRound, Strategy
from remiss.pdf import docx_to_pdf

from .conftest import missing

ZONE = ZoneInfo("Europe/Stockholm")
NOW = datetime(2021, 4, 6, 7, 30, tzinfo=timezone.utc)
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W = f"{{{W_NS}}}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
SOCIAL = "Socialnämnden (tillstyrker med synpunkter)"
KALMARHEM = "Kalmarhem AB (tillstyrker)"


# ---------------------------------------------------------------- a round, as the compilation reads it

def _reply(stance: str, comments=(), general: str = "", attachments=(), **more) -> dict:
    return {"stance": stance, "case_reference": more.get("case_reference", ""), "summary": more.get("summary", ""),
            "proposed_decision": more.get("proposed_decision", ""), "general_comments": general,
            "comments": [{"section_key": key, "number": number, "heading": heading, "text": text}
                         for key, number, heading, text in comments],
            "attachments": [{"filename": name, "description": description} for name, description in attachments]}


SOCIAL_REPLY = _reply("approves_with_comments",
                      [("k21", "2.1", "Delmål", "Delmålen behöver mätas.\nÅrligen.")],
                      general="Tack för möjligheten.", case_reference="SN 2021/0163.02.10",
                      summary="Nämnden ställer sig bakom förslaget.", proposed_decision="Nämnden antar yttrandet.",
                      attachments=[("protokoll.pdf", "Protokollsutdrag § 45"), ("yttrande.docx", "")])
KALMARHEM_REPLY = _reply("approves", [("k3", "3", "Ansvar", "Bolagen bör nämnas."),
                                      ("k311", "3.1.1", "Detaljer", "En detalj.")], case_reference="KHEM 2021/31")


def _summary(**changes) -> Summary:
    """Seven bodies of three kinds: answered on time, late, declined, under anstånd, asking for one, silent.
    A draft with a section nobody commented on, one whose only comment is on a section under it, and a
    level skipped (3.1.1 right under 3)."""
    entries = [
        Entry("Kalmar Vatten AB", "overdue", kind="company"),
        Entry("Kalmarhem AB", "submitted", KALMARHEM_REPLY, NOW, 2, 12, kind="company", received_on=date(2021, 3, 16)),
        Entry("Kultur- och fritidsnämnden", "overdue", kind="board", extension_requested=True),
        Entry("Miljönämnden", "late", _reply("rejects"), NOW, 4, 14, kind="board", received_on=date(2021, 3, 29)),
        Entry("Pensionärsrådet", "declined", _reply("", summary="Avstår."), NOW, 5, 15, kind="council",
              received_on=date(2021, 3, 10)),
        Entry("Samhällsbyggnadsnämnden", "invited", kind="board", extended_to=date(2021, 4, 16)),
        Entry("Socialnämnden", "submitted", SOCIAL_REPLY, NOW, 7, 17, kind="board", received_on=date(2021, 3, 24)),
    ]
    parts = [
        Part("k1", "1 Inledning", [], 1, "1"),
        Part("k2", "2 Mål", [], 1, "2"),
        Part("k21", "2.1 Delmål", [Comment("Socialnämnden", "Tillstyrker med synpunkter",
                                           "Delmålen behöver mätas.\nÅrligen.", 7, "k21", "beaktas delvis",
                                           "Målen förtydligas.\nSe version 2.")], 2, "2.1"),
        Part("k22", "2.2 Uppföljning", [], 2, "2.2"),
        Part("k3", "3 Ansvar", [Comment("Kalmarhem AB", "Tillstyrker", "Bolagen bör nämnas.", 2, "k3")], 1, "3"),
        Part("k311", "3.1.1 Detaljer", [Comment("Kalmarhem AB", "Tillstyrker", "En detalj.", 2, "k311", "noteras")],
             3, "3.1.1"),
        Part("", "Övriga synpunkter", [Comment("Socialnämnden", "Tillstyrker med synpunkter", "Tack för möjligheten.",
                                               7, "")]),
    ]
    summary = Summary(1, "Internationell strategi", "KS 2020/0946",
                      [("Diarienummer", "KS 2020/0946"), ("Sista svarsdag", "26 mars 2021")], entries, parts,
                      introduction=[("Remissen skickades", "27 januari 2021"),
                                    ("Skickad till", "7 remissinstanser: 4 nämnder, 2 bolag, 1 råd")],
                      background="Kommunstyrelsen gav uppdraget.\nI mars 2020.", assessment="I huvudsak positivt.",
                      officer_name="Stina Strateg", municipality="Kalmar kommun", compiled_on=date(2021, 4, 6))
    for name, value in changes.items():
        setattr(summary, name, value)
    return summary


def _written(**options) -> dict[str, bytes]:
    data = write_docx(_summary(), ZONE, now=NOW, **options)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return {name: package.read(name) for name in package.namelist()}


def _xml(package: dict[str, bytes], name: str):
    return etree.fromstring(package[name])


def _text(element) -> str:
    return "".join(t.text or "" for t in element.iter(f"{W}t"))


def _style(paragraph) -> str:
    found = paragraph.find(f"{W}pPr/{W}pStyle")
    return found.get(f"{W}val") if found is not None else ""


def _body(package) -> list[tuple[str, str]]:
    """(style id, text) of the body's own paragraphs, in order (table cells left out)."""
    body = _xml(package, "word/document.xml").find(f"{W}body")
    return [(_style(p), _text(p)) for p in body.findall(f"{W}p")]


def _headings(package) -> list[tuple[int, str]]:
    return [(int(style.removeprefix("Heading")), text) for style, text in _body(package)
            if re.fullmatch(r"Heading\d", style)]


def _under(package, heading: str) -> list[tuple[str, str]]:
    """The paragraphs between the heading and the next heading."""
    body = _body(package)
    start = next(n for n, (style, text) in enumerate(body) if style.startswith("Heading") and text == heading)
    found = []
    for style, text in body[start + 1:]:
        if style.startswith("Heading"):
            break
        found.append((style, text))
    return found


# ---------------------------------------------------------------- navigation and layout

def test_a_table_of_contents_field_follows_the_title_page_and_word_fills_it_on_opening():
    package = _written()
    body = _xml(package, "word/document.xml").find(f"{W}body")
    instructions = [i.text for i in body.iter(f"{W}instrText")]
    assert ' TOC \\o "1-3" \\h \\z \\u ' in instructions
    begin = next(c for c in body.iter(f"{W}fldChar") if c.get(f"{W}fldCharType") == "begin")
    assert begin.get(f"{W}dirty") == "true"
    update = _xml(package, "word/settings.xml").find(f"{W}updateFields")
    assert update is not None and update.get(f"{W}val") == "true"

    paragraphs = body.findall(f"{W}p")
    texts = [_text(p) for p in paragraphs]
    contents = texts.index("Innehåll")
    assert _style(paragraphs[contents]) == "TOCHeading"  # not itself a heading of the outline
    assert texts[:contents].count("") >= 1 and any(p.find(f".//{W}br") is not None for p in paragraphs[:contents])
    # Until it is updated it lists every heading of levels 1–3, each a link to a bookmark on its heading.
    listed = [(int(_style(p).removeprefix("TOC")), _text(p)) for p in paragraphs if _style(p).startswith("TOC")
              and _style(p) != "TOCHeading"]
    assert listed == [(level, text) for level, text in _headings(package) if level <= 3]
    bookmarks = {b.get(f"{W}name") for b in body.iter(f"{W}bookmarkStart")}
    anchors = [link.get(f"{W}anchor") for link in body.iter(f"{W}hyperlink")]
    assert len(anchors) == len(listed) and set(anchors) <= bookmarks
    assert texts.index("Inledning") > contents


def test_the_title_page_has_no_page_number_and_the_other_pages_the_case_reference_and_date():
    package = _written()
    rels = _xml(package, "word/_rels/document.xml.rels")
    target = {rel.get("Id"): "word/" + rel.get("Target") for rel in rels}
    section = _xml(package, "word/document.xml").find(f"{W}body/{W}sectPr")
    assert section.find(f"{W}titlePg") is not None
    parts = {(ref.tag.rpartition("}")[2], ref.get(f"{W}type")): _xml(package, target[ref.get(f"{R}id")])
             for ref in section if ref.tag in (f"{W}headerReference", f"{W}footerReference")}
    first_header, first_footer = parts[("headerReference", "first")], parts[("footerReference", "first")]
    assert _text(first_header).strip() == _text(first_footer).strip() == ""
    assert not list(first_footer.iter(f"{W}instrText"))
    header = _text(parts[("headerReference", "default")])
    assert "KS 2020/0946" in header and "6 april 2021" in header
    assert [i.text.strip() for i in parts[("footerReference", "default")].iter(f"{W}instrText")] == ["PAGE"]


def test_no_heading_level_is_skipped_and_the_drafts_chapters_stand_one_level_down():
    for options in ({}, {"gather_empty": False}):
        levels = [level for level, _ in _headings(_written(**options))]
        assert levels[0] == 1
        assert all(later <= earlier + 1 for earlier, later in pairwise(levels)), (options, levels)
    headings = _headings(_written())
    start = headings.index((1, "Synpunkter per avsnitt"))
    # 3.1.1 stands right under 3 in the draft: one level below it here, never two.
    assert headings[start:start + 6] == [(1, "Synpunkter per avsnitt"), (2, "2 Mål"), (3, "2.1 Delmål"),
                                         (2, "3 Ansvar"), (3, "3.1.1 Detaljer"), (1, "Övriga synpunkter")]
    assert [text for level, text in headings if level == 1] == [
        "Inledning", "Översikt", "Synpunkter per avsnitt", "Övriga synpunkter", "Remissinstanser med anstånd",
        "Remissinstanser som inte svarat", "Bilaga: remissvaren i sin helhet"]


def test_sections_without_comments_are_gathered_in_one_line_unless_asked_otherwise():
    package = _written()
    assert _under(package, "Synpunkter per avsnitt") == [("", "Inga synpunkter har lämnats på avsnitt 1 och 2.2.")]
    # "2 Mål" keeps its heading for the comment on 2.1 under it, and says it has none of its own.
    assert _under(package, "2 Mål") == [("", "Inga synpunkter på detta avsnitt.")]

    each = _written(gather_empty=False)
    headings = [text for _, text in _headings(each)]
    assert {"1 Inledning", "2.2 Uppföljning"} <= set(headings)
    assert _under(each, "2.2 Uppföljning") == [("", "Inga synpunkter på detta avsnitt.")]
    assert not any(text.startswith("Inga synpunkter har lämnats") for _, text in _body(each))


def test_the_introduction_has_the_rounds_facts_and_the_officers_texts():
    package = _written()
    assert _under(package, "Inledning") == [("", "Remissen skickades: 27 januari 2021"),
                                            ("", "Skickad till: 7 remissinstanser: 4 nämnder, 2 bolag, 1 råd")]
    assert _under(package, "Bakgrund") == [("", "Kommunstyrelsen gav uppdraget."), ("", "I mars 2020.")]
    assert _under(package, "Sammanfattande bedömning") == [("", "I huvudsak positivt.")]
    without = write_docx(_summary(background="", assessment=" \n"), ZONE, now=NOW)
    assert b"Bakgrund" not in without and "Sammanfattande bedömning".encode() not in without


# ---------------------------------------------------------------- the officer's voice

def test_the_officers_comment_follows_each_comment_in_a_style_of_its_own():
    package = _written()
    assert _under(package, "2.1 Delmål") == [
        ("", f"{SOCIAL}: Delmålen behöver mätas."), ("", "Årligen."),
        (OFFICER_STYLE, "Kommentar: beaktas delvis – Målen förtydligas."), (OFFICER_STYLE, "Se version 2.")]
    assert _under(package, "3 Ansvar") == [("", f"{KALMARHEM}: Bolagen bör nämnas."),
                                           (OFFICER_STYLE, "Kommentar: Ej kommenterad")]
    assert _under(package, "3.1.1 Detaljer") == [("", f"{KALMARHEM}: En detalj."),
                                                 (OFFICER_STYLE, "Kommentar: noteras")]
    assert _under(package, "Övriga synpunkter") == [("", f"{SOCIAL}: Tack för möjligheten."),
                                                    (OFFICER_STYLE, "Kommentar: Ej kommenterad")]
    body = _xml(package, "word/document.xml").find(f"{W}body")
    opening = next(p for p in body.findall(f"{W}p") if _text(p).startswith(SOCIAL))
    first = opening.find(f"{W}r")
    assert first.find(f"{W}rPr/{W}b") is not None and _text(first) == f"{SOCIAL}: "
    # The body's word for its position is never the officer's.
    officer = [text for style, text in _body(package) if style == OFFICER_STYLE]
    assert officer and not any("Ställningstagande" in text for text in officer)

    # Defined once, by name, indented: a municipality's template can restyle it.
    styles = _xml(package, "word/styles.xml")
    (style,) = [s for s in styles.findall(f"{W}style") if s.get(f"{W}styleId") == OFFICER_STYLE]
    assert style.find(f"{W}name").get(f"{W}val") == "Handläggarens kommentar"
    assert int(style.find(f"{W}pPr/{W}ind").get(f"{W}left")) > 0


# ---------------------------------------------------------------- the overview

def _overview_rows(package) -> list[list[str]]:
    table = _xml(package, "word/document.xml").find(f"{W}body/{W}tbl")
    return [[_text(cell) for cell in row.findall(f"{W}tc")] for row in table.findall(f"{W}tr")]


def test_the_overview_is_grouped_into_boards_companies_and_the_others():
    rows = _overview_rows(_written())
    assert rows == [
        ["Remissinstans", "Svar", "Datum", "Ställningstagande", "Deras diarienummer"],
        ["Nämnder"],
        ["Kultur- och fritidsnämnden", "Begärt anstånd", "", "", ""],
        ["Miljönämnden", "Sen", "29 mars 2021", "Avstyrker", ""],
        ["Samhällsbyggnadsnämnden", "Anstånd till 16 april 2021 – svar väntas", "", "", ""],
        ["Socialnämnden", "Inskickat", "24 mars 2021", "Tillstyrker med synpunkter", "SN 2021/0163.02.10"],
        ["Bolag"],
        ["Kalmar Vatten AB", "Inget svar", "", "", ""],
        ["Kalmarhem AB", "Inskickat", "16 mars 2021", "Tillstyrker", "KHEM 2021/31"],
        ["Övriga remissinstanser"],
        ["Pensionärsrådet", "Avstår", "10 mars 2021", "Avstår från att yttra sig", ""],
    ]


def test_the_overviews_columns_fill_the_page_and_each_holds_its_longest_word():
    from remiss.compilation_document import BOLD_FACTOR, CELL_MARGIN, TEXT_WIDTH, _width

    package = _written()
    table = _xml(package, "word/document.xml").find(f"{W}body/{W}tbl")
    widths = [int(col.get(f"{W}w")) for col in table.iter(f"{W}gridCol")]
    assert sum(widths) == TEXT_WIDTH
    size = int(next(s for s in _xml(package, "word/styles.xml").findall(f"{W}style")
                    if s.get(f"{W}styleId") == "Tabelltext").find(f"{W}rPr/{W}sz").get(f"{W}val")) // 2
    rows = _overview_rows(package)
    for n, width in enumerate(widths):
        words = [(word, BOLD_FACTOR) for word in rows[0][n].split()]
        words += [(word, 1) for row in rows[1:] if len(row) > 1 for word in row[n].split()]
        assert max(_width(word, size) * factor for word, factor in words) + 2 * CELL_MARGIN <= width, rows[0][n]


# ---------------------------------------------------------------- the appendix

def test_every_reply_in_the_appendix_holds_each_of_its_comments_and_attachments():
    package = _written()
    social = [text for _, text in _under(package, "Socialnämnden")]
    for line in ("Ställningstagande: Tillstyrker med synpunkter", "Deras diarienummer: SN 2021/0163.02.10",
                 "Inkom: 24 mars 2021", "Sammanfattning:", "Nämnden ställer sig bakom förslaget.",
                 "Förslag till beslut:", "Nämnden antar yttrandet."):
        assert line in social
    at = social.index("Synpunkter på 2.1 Delmål:")
    assert social[at + 1:at + 3] == ["Delmålen behöver mätas.", "Årligen."]
    at = social.index("Övriga synpunkter:")
    assert social[at + 1] == "Tack för möjligheten."
    at = social.index("Bilagor:")
    assert social[at + 1:] == ["protokoll.pdf – Protokollsutdrag § 45", "yttrande.docx"]
    assert {style for style, _ in _under(package, "Socialnämnden")[at + 1:]} == {"ListBullet"}

    kalmarhem = [text for _, text in _under(package, "Kalmarhem AB")]
    assert kalmarhem[kalmarhem.index("Synpunkter på 3 Ansvar:") + 1] == "Bolagen bör nämnas."
    assert kalmarhem[kalmarhem.index("Synpunkter på 3.1.1 Detaljer:") + 1] == "En detalj."
    miljo = [text for _, text in _under(package, "Miljönämnden")]
    assert "Inkom: 29 mars 2021 (efter sista svarsdag)" in miljo


def test_the_bodies_with_anstand_are_named_apart_from_the_silent():
    package = _written()
    assert _under(package, "Remissinstanser med anstånd") == [
        ("ListBullet", "Kultur- och fritidsnämnden: Begärt anstånd"),
        ("ListBullet", "Samhällsbyggnadsnämnden: Anstånd till 16 april 2021 – svar väntas")]
    assert _under(package, "Remissinstanser som inte svarat") == [("ListBullet", "Kalmar Vatten AB")]


# ---------------------------------------------------------------- properties and accessibility

def test_the_properties_name_the_compilation_its_officer_municipality_and_time():
    package = _written()
    core = _xml(package, "docProps/core.xml")

    def prop(name: str) -> str:
        found = core.find(name, {"dc": "http://purl.org/dc/elements/1.1/", "dcterms": "http://purl.org/dc/terms/",
                                 "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"})
        return found.text or ""

    assert prop("dc:title") == "Remissammanställning: Internationell strategi"
    assert prop("dc:subject") == "KS 2020/0946"
    assert prop("dc:creator") == prop("cp:lastModifiedBy") == "Stina Strateg"
    assert prop("cp:revision") == "1" and prop("dc:language") == "sv-SE"
    assert prop("dcterms:created") == prop("dcterms:modified") == "2021-04-06T07:30:00Z"
    assert prop("dc:description") == ""
    app = _xml(package, "docProps/app.xml")
    app_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}"
    assert app.find(f"{app_ns}Application").text == "Remiss"
    assert app.find(f"{app_ns}Company").text == "Kalmar kommun"
    for name, data in package.items():
        assert b"python-docx" not in data and b"2013-12-23" not in data and b"Macintosh" not in data, name
    assert not [name for name in package if "thumbnail" in name or name.startswith("customXml")]


def test_the_document_is_swedish_in_its_styles_settings_and_theme():
    package = _written()
    defaults = _xml(package, "word/styles.xml").find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}lang")
    assert defaults.get(f"{W}val") == "sv-SE"
    assert _xml(package, "word/settings.xml").find(f"{W}themeFontLang").get(f"{W}val") == "sv-SE"
    assert _xml(package, "word/settings.xml").find(f"{W}proofState") is None  # Word checks the spelling itself
    theme = next(data for name, data in package.items() if name.startswith("word/theme/"))
    assert b"en-US" not in theme and b'<a:latin typeface="Calibri"/>' in theme


def test_every_table_marks_its_header_row_and_the_chart_has_its_numbers_as_alt_text():
    package = _written()
    document = _xml(package, "word/document.xml")
    tables = list(document.iter(f"{W}tbl"))
    assert tables
    for table in tables:
        first = table.find(f"{W}tr")
        assert first.find(f"{W}trPr/{W}tblHeader") is not None
        assert table.find(f"{W}tblPr/{W}tblCaption") is not None
    drawing = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
    described = [d.get("descr") for d in document.iter(f"{drawing}docPr")]
    assert described == [("4 av 7 remissinstanser har svarat (57 %). Tillstyrker 1, tillstyrker med synpunkter 1, "
                          "avstyrker 1, avstår från att yttra sig 1, anstånd 1, begärt anstånd 1, inget svar 1.")]


def test_the_headings_are_dark_enough_to_read():
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    styles = _xml(_written(), "word/styles.xml")
    for style in styles.findall(f"{W}style"):
        name = style.get(f"{W}styleId")
        colour = style.find(f"{W}rPr/{W}color")
        if re.fullmatch(r"Heading\d|Title|Subtitle|TOCHeading", name) and colour is not None:
            assert 1.05 / (luminance(colour.get(f"{W}val")) + 0.05) >= 4.5, name


def test_python_docx_reads_it_back():
    document = docx.Document(io.BytesIO(write_docx(_summary(), ZONE, now=NOW)))
    assert document.paragraphs[0].style.name == "Title" and document.paragraphs[0].text == "Internationell strategi"
    assert len(document.tables) == 1 and len(document.inline_shapes) == 1
    assert document.core_properties.author == "Stina Strateg"


def test_hostile_text_stays_literal_text():
    hostile = "<w:p>&amp; ]]>\x00\x0b\ud800 \u202eslut\tflik"
    summary = _summary(background=hostile, title=hostile)
    summary.parts[-1].comments[0].text = hostile
    document = docx.Document(io.BytesIO(write_docx(summary, ZONE, now=NOW)))
    texts = [p.text for p in document.paragraphs]
    assert "<w:p>&amp; ]]> \u202eslut\tflik" in texts
    assert document.paragraphs[0].text == "<w:p>&amp; ]]> \u202eslut\tflik"


# ---------------------------------------------------------------- the comments in Excel

def test_the_comments_workbook_is_named_filtered_and_prints_landscape_one_page_wide():
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(comments_xlsx(_summary())))
    sheet = book.active
    assert (book.properties.creator, book.properties.lastModifiedBy) == ("Stina Strateg", "Stina Strateg")
    assert book.properties.title == "Synpunkter: Internationell strategi"
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:G{sheet.max_row}"
    assert sheet.max_row == 1 + 4  # the header and the four comments
    assert sheet.print_title_rows == "$1:$1"
    assert sheet.page_setup.orientation == "landscape"
    assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage


# ---------------------------------------------------------------- the demo, through LibreOffice

DEMO_NOW = datetime(2021, 3, 30, 9, 0, tzinfo=ZONE)
# Basic run by LibreOffice itself: open the document, rebuild its indexes (the table of contents) and
# export it as PDF. Plain --convert-to keeps the contents as the document holds them.
@pytest.fixture
def tools() -> tuple[str, str]:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        missing("the PDF test needs soffice (apt-get install libreoffice-writer-nogui)")
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        missing("the PDF test needs pdftotext (apt-get install poppler-utils)")
    return soffice, pdftotext


def _soffice(soffice: str, tmp_path, *arguments: str) -> None:
    """LibreOffice with a profile of its own (a shared one would be locked) and a timeout."""
    result = subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}", "--headless",
                             "--norestore", *arguments], capture_output=True, text=True, timeout=180, check=False,
                            env={**os.environ, "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr


def _pdf_text(pdftotext: str, pdf) -> list[str]:
    """The PDF's text as laid out, a list of pages."""
    done = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.split("\f")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the document is the same on either
def test_the_demo_compilation_in_pdf_has_its_contents_and_breaks_no_word_in_the_overview(tools, session,
                                                                                          tmp_path):
    soffice, pdftotext = tools
    load_demo(session, DEMO_NOW, "correct horse battery")
    session.commit()
    round_ = session.scalar(select(ReferralRound).join(Strategy).where(Strategy.case_reference == CASE_REFERENCE))
    data = compile_round(session, round_, DEMO_NOW, ZONE)
    source = tmp_path / "sammanstallning.docx"
    source.write_bytes(data)
    _soffice(soffice, tmp_path, "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), str(source))
    pages = _pdf_text(pdftotext, tmp_path / "pdf" / "sammanstallning.pdf")

    # The title page: no header, no page number. The contents on the next page list the chapters.
    assert "KS 2020/0946" in pages[0] and not re.search(r"^\s*1\s*$", pages[0], re.MULTILINE)
    assert "Remissammanställning KS 2020/0946" in pages[1] and "30 mars 2021" in pages[1]
    contents = pages[1][pages[1].index("Innehåll"):]
    for chapter in ("Inledning", "Översikt", "Synpunkter per avsnitt", "7.1 Verksamhetsutveckling och extern",
                    "Remissinstanser med anstånd", "Bilaga: remissvaren i sin helhet", "Socialnämnden"):
        assert chapter in contents, chapter
    whole = "\n".join(pages)
    for fact in ("Skickad till: 13 remissinstanser", "Har anstånd: 1 remissinstans",
                 "Har begärt anstånd: 1 remissinstans", "Kommentar: Ej kommenterad"):
        assert fact in " ".join(whole.split()), fact

    # No word broken across lines in the overview: every word in its region is a word of a cell (or of the
    # page's header and footer, where the table runs over a page).
    document = docx.Document(io.BytesIO(data))
    cells = {cell.text for row in document.tables[0].rows for cell in row.cells}
    words = {word for text in cells for word in text.split()}
    words |= {"Remissammanställning", "KS", "2020/0946", "30", "mars", "2021"}
    start = whole.index("Remissinstans ")
    end = whole.index("remissinstanser har svarat", start)
    region = whole[start:whole.rindex("\n", start, end)]
    tokens = region.split()
    broken = [token for token in tokens if token not in words and not token.isdigit()]
    assert not broken, broken
    for name in ("Samhällsbyggnadsnämnden", "Överförmyndarnämnden", "Ställningstagande", "diarienummer"):
        assert name in tokens, name

    # The field is a real table of contents: LibreOffice rebuilds it from the headings, with page numbers.
    target = tmp_path / "updated.pdf"
    target.write_bytes(docx_to_pdf(data))  # the app's own export, which updates the indexes first
    updated = _pdf_text(pdftotext, target)[1]
    assert re.search(r"^\s*Inledning\s*\.{3,}\s*3\s*$", updated, re.MULTILINE), updated
    assert re.search(r"^\s*Bilaga: remissvaren i sin helhet\s*\.{3,}\s*\d+\s*$", updated, re.MULTILINE), updated
