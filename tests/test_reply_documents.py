"""A board's reply in Word: reading the one it already wrote, and the .docx of a submitted reply.

Both functions are pure, so these tests need no app and no database.
"""
import io
import zipfile
from datetime import date, datetime, timezone
from pathlib import Path

import docx
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from remiss.docx_files import parse_docx
from remiss.errors import WorkflowError
from remiss.reply_documents import ReplyContent, read_reply_docx, write_reply_docx

DEMO = Path(__file__).resolve().parent.parent / "remiss" / "demo"
DRAFT = parse_docx((DEMO / "kalmar-strategy-draft.docx").read_bytes())
SECTIONS = [(i, s.number, s.heading) for i, s in enumerate(DRAFT.sections, 1)]
ID = {heading: i for i, _, heading in SECTIONS}
NUMBER = {s.heading: s.number for s in DRAFT.sections}
FUNDING = "Verksamhetsutveckling och extern finansiering"
RESPONSIBILITY = "Ansvar och organisation"


def kalmar_reply() -> bytes:
    return (DEMO / "kalmar-social-board-reply.docx").read_bytes()


def reply_docx(*blocks, header: str = "") -> bytes:
    """A reply typed in Word: '= ' a Title, '# ' / '## ' headings, a list of strings and
    (text, 'i'|'b') pairs a paragraph of runs, anything else a plain paragraph."""
    document = docx.Document()
    if header:
        document.sections[0].header.paragraphs[0].text = header
    for block in blocks:
        if isinstance(block, list):
            paragraph = document.add_paragraph()
            for run in block:
                text, look = run if isinstance(run, tuple) else (run, "")
                added = paragraph.add_run(text)
                added.italic, added.bold = "i" in look, "b" in look
        elif block.startswith("= "):
            document.add_paragraph(block[2:], style="Title")
        elif block.startswith("#"):
            marks, _, text = block.partition(" ")
            document.add_heading(text, level=len(marks))
        else:
            document.add_paragraph(block)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def comment_on(line: str, text: str = "Nämnden vill se en tydligare ansvarsfördelning.") -> bytes:
    return reply_docx("Ärendebeteckning", "SN 2021/0200", "= Yttrande", "# Förslag till beslut",
                      "Nämnden överlämnar yttrandet.", "# Synpunkter", line, text)


# ---------------------------------------------------------------- the Kalmar reply

def test_the_kalmar_reply_puts_its_two_comments_on_the_right_headings():
    reply = read_reply_docx(kalmar_reply(), SECTIONS)

    assert sorted(reply.comments) == [ID[FUNDING], ID[RESPONSIBILITY]]
    assert reply.comments[ID[FUNDING]].startswith("Ansvar för kommunens förvaltningar och bolag:")
    assert reply.comments[ID[FUNDING]].endswith("utifrån praxis och adekvata lagutrymmen.")
    assert reply.comments[ID[RESPONSIBILITY]].startswith("En stor del av socialtjänstens utvecklingsarbete")
    assert reply.unplaced_headings == [] and reply.general_comments == ""


def test_the_kalmar_reply_gives_the_boards_own_case_reference_decision_and_signature():
    reply = read_reply_docx(kalmar_reply(), SECTIONS, strategy_reference="KS 2020/0946")

    assert reply.case_reference == "SN 2021/0163.02.10"
    assert reply.proposed_decision.startswith("Socialnämnden överlämnar upprättat förslag till yttrande")
    assert reply.summary.startswith("Socialnämnden ser ett stort värde i att Kalmar kommun")
    assert "Under rubrik" not in reply.summary
    assert reply.deciding_body == "Socialnämnden"
    assert (reply.signatory_name, reply.signatory_title) == ("Cecilia Frid", "Socialchef")


def test_the_signature_is_not_part_of_the_last_comment():
    reply = read_reply_docx(kalmar_reply(), SECTIONS)

    last = reply.comments[ID[RESPONSIBILITY]]
    assert last.endswith("planering och systematisk uppföljning.")
    assert "Cecilia Frid" not in last and "Socialchef" not in last


# ---------------------------------------------------------------- how people write "Under rubrik"

@pytest.mark.parametrize("line", [
    "Under rubrik ”Ansvar och organisation”",
    'Under rubrik "Ansvar och organisation"',
    "Under rubrik 'Ansvar och organisation'",
    "Under rubrik “Ansvar och organisation”",
    "Under rubrik ‘Ansvar och organisation’",
    "Under rubrik «Ansvar och organisation»",
    "Under rubrik »Ansvar och organisation»",
    "2. Under rubriken ”Ansvar och organisation”:",
    "Under rubrik ”ansvar och ORGANISATION”",
    "Under rubrik ”Ansvar och organisaton”",  # a typo
    "Under rubrik ”Ansvar och organisation.”",
    "Under rubrik ”9 Ansvar och organisation”",  # with the draft's own number
    "Under rubrik: Ansvar och organisation",
    "Synpunkter under rubrik ”Ansvar och organisation”",
    "”Ansvar och organisation”",
])
def test_a_comment_is_placed_whatever_quotes_case_or_small_slips_it_is_written_with(line):
    reply = read_reply_docx(comment_on(line), SECTIONS)

    assert reply.comments == {ID[RESPONSIBILITY]: "Nämnden vill se en tydligare ansvarsfördelning."}
    assert reply.general_comments == ""


def test_a_heading_in_italics_or_bold_runs_is_placed():
    line = ["1.", ("Under rubrik", "b"), " ”", (FUNDING[:20], "i"), (FUNDING[20:], "ib"), "”"]

    reply = read_reply_docx(comment_on(line), SECTIONS)

    assert list(reply.comments) == [ID[FUNDING]]


def test_text_on_the_same_line_as_the_heading_belongs_to_the_comment():
    data = reply_docx("# Synpunkter", "Under rubrik ”Uppföljning” saknas en tidplan.", "Den bör tas fram.")

    reply = read_reply_docx(data, SECTIONS)

    assert reply.comments == {ID["Uppföljning"]: "saknas en tidplan.\n\nDen bör tas fram."}


def test_a_heading_without_quotes_in_running_text_is_found():
    data = reply_docx("# Synpunkter", "Under rubriken Ansvar och organisation anser nämnden att mer stöd behövs.")

    reply = read_reply_docx(data, SECTIONS)

    assert reply.comments == {ID[RESPONSIBILITY]: "anser nämnden att mer stöd behövs."}


def test_two_comments_on_the_same_heading_are_kept_together():
    data = reply_docx("# Synpunkter", "1. Under rubrik ”Vänorter”", "Första.", "2. Under rubrik ”Vänorter”",
                      "Andra.")

    assert read_reply_docx(data, SECTIONS).comments == {ID["Vänorter"]: "Första.\n\nAndra."}


def test_a_quoted_line_that_is_no_heading_is_just_text():
    data = reply_docx("# Synpunkter", "Under rubrik ”Vänorter”", "”Kalmar ska vara bäst”", "Det håller vi med om.")

    assert read_reply_docx(data, SECTIONS).comments == {
        ID["Vänorter"]: "”Kalmar ska vara bäst”\n\nDet håller vi med om."}


# ---------------------------------------------------------------- nothing is lost

def test_a_comment_on_a_heading_the_draft_does_not_have_goes_to_general_comments_word_for_word():
    data = reply_docx("# Synpunkter", "Under rubrik ”Vänorter”", "Bra.",
                      "Under rubrik ”Klimatanpassning av hamnen”", "Hamnen behöver en egen plan.", "Snart.")

    reply = read_reply_docx(data, SECTIONS)

    assert reply.comments == {ID["Vänorter"]: "Bra."}
    assert reply.general_comments == ("Under rubrik ”Klimatanpassning av hamnen”\n\n"
                                      "Hamnen behöver en egen plan.\n\nSnart.")
    assert reply.unplaced_headings == ["Klimatanpassning av hamnen"]


def test_a_reply_without_any_under_rubrik_keeps_its_comments_as_general_comments():
    data = reply_docx("Diarienummer: KFN 2021/0042", "= Yttrande över strategi för internationellt arbete",
                      "# Förslag till beslut", "Kultur- och fritidsnämnden antar yttrandet som sitt eget.",
                      "# Bakgrund", "Kommunstyrelsen har skickat strategin på remiss.",
                      "# Synpunkter", "Nämnden välkomnar strategin.", "Vänortsarbetet bör omfatta kulturskolan.")

    reply = read_reply_docx(data, SECTIONS)

    assert reply.comments == {} and reply.summary == ""
    assert reply.general_comments == "Nämnden välkomnar strategin.\n\nVänortsarbetet bör omfatta kulturskolan."
    assert reply.proposed_decision == "Kultur- och fritidsnämnden antar yttrandet som sitt eget."
    assert reply.deciding_body == "Kultur- och fritidsnämnden"
    assert reply.case_reference == "KFN 2021/0042"


def test_a_reply_with_no_headings_at_all_keeps_its_text():
    data = reply_docx("Tekniska nämnden har tagit del av remissen och har inget att invända mot förslaget.")

    reply = read_reply_docx(data, SECTIONS)

    assert reply.general_comments == "Tekniska nämnden har tagit del av remissen och har inget att invända mot " \
                                     "förslaget."


def test_other_comments_attachments_and_a_signature_before_them_are_told_apart():
    data = reply_docx("# Kommentarer och synpunkter", "Sammantaget positivt.", "Synpunkter",
                      "Under rubrik ”Vänorter”", "Fler vänorter i Afrika.", "Övriga synpunkter",
                      "Strategin är lång.", "Anna Ek, ordförande", "Bilagor", "Protokollsutdrag § 12")

    reply = read_reply_docx(data, SECTIONS)

    assert reply.summary == "Sammantaget positivt."
    assert reply.comments == {ID["Vänorter"]: "Fler vänorter i Afrika."}
    assert reply.general_comments == "Strategin är lång."
    assert (reply.signatory_name, reply.signatory_title) == ("Anna Ek", "ordförande")
    assert reply.attachments == ["Protokollsutdrag § 12"]


def test_a_sub_heading_inside_a_comment_stays_in_it_with_its_text():
    data = reply_docx("# Synpunkter", "## Under rubrik ”Vänorter”", "### Bakgrund", "Vi har haft vänorter länge.",
                      "### Förslag till beslut", "Behåll dem.")

    reply = read_reply_docx(data, SECTIONS)

    assert reply.comments == {ID["Vänorter"]: "Bakgrund\n\nVi har haft vänorter länge.\n\n"
                                              "Förslag till beslut\n\nBehåll dem."}
    assert reply.proposed_decision == ""


def test_a_list_of_names_ending_a_comment_is_not_taken_for_a_signature():
    data = reply_docx("# Synpunkter", "Under rubrik ”Vänorter”", "Följande bolag bör delta:", "Kalmar Vatten",
                      "Kalmar Hamn")

    reply = read_reply_docx(data, SECTIONS)

    assert reply.comments == {ID["Vänorter"]: "Följande bolag bör delta:\n\nKalmar Vatten\n\nKalmar Hamn"}
    assert reply.signatory_name == ""


def test_an_unknown_heading_after_the_comments_ends_the_last_comment():
    data = reply_docx("# Synpunkter", "Under rubrik ”Vänorter”", "Fler vänorter.", "# Ekonomiska konsekvenser",
                      "Strategin kostar pengar.")

    reply = read_reply_docx(data, SECTIONS)

    assert reply.comments == {ID["Vänorter"]: "Fler vänorter."}
    assert reply.general_comments == "Ekonomiska konsekvenser\n\nStrategin kostar pengar."


# ---------------------------------------------------------------- the body's case reference

@pytest.mark.parametrize(("blocks", "header", "expected"), [
    (["Diarienummer: KFN 2021/0042"], "", "KFN 2021/0042"),
    (["Dnr", "MBN 2021/17"], "", "MBN 2021/17"),
    (["Vår beteckning: 2021-0042"], "", "2021-0042"),  # no usual shape: taken as written after the label
    (["Kommunstyrelsens remiss KS 2020/0946 besvaras.", "Vårt ärende SN 2021/0163.02.10"], "", "SN 2021/0163.02.10"),
    (["# Synpunkter", "Inga."], "Socialförvaltningen   Dnr SN 2021/0099", "SN 2021/0099"),
])
def test_the_body_case_reference_is_found_by_its_label_or_its_shape_but_never_the_strategys(blocks, header,
                                                                                           expected):
    reply = read_reply_docx(reply_docx(*blocks, header=header), SECTIONS, strategy_reference="KS 2020/0946")

    assert reply.case_reference == expected


def test_a_case_reference_in_a_table_is_found():
    document = docx.Document()
    table = document.add_table(rows=2, cols=2)
    for cell, text in zip([c for row in table.rows for c in row.cells], ["Datum", "Diarienummer", "2021-03-22",
                                                                           "BUN 2021/0311"]):
        cell.text = text
    out = io.BytesIO()
    document.save(out)

    assert read_reply_docx(out.getvalue(), SECTIONS).case_reference == "BUN 2021/0311"


def test_text_inside_word_content_controls_is_read():
    document = docx.Document(io.BytesIO(reply_docx("Diarienummer", "# Synpunkter", "Under rubrik ”Vänorter”",
                                                   "Fler vänorter.")))
    body = document.element.body
    wrapped = list(body.iterchildren())[:2]  # the label and its value sit in a template's field
    sdt = OxmlElement("w:sdt")
    content = OxmlElement("w:sdtContent")
    sdt.append(content)
    body.insert(0, sdt)
    content.extend(wrapped)
    value = OxmlElement("w:sdt")
    value.append(OxmlElement("w:sdtContent"))
    value[0].append(docx.Document(io.BytesIO(reply_docx("SN 2021/0500"))).element.body[0])
    content.append(value)
    out = io.BytesIO()
    document.save(out)

    reply = read_reply_docx(out.getvalue(), SECTIONS)

    assert reply.case_reference == "SN 2021/0500"
    assert reply.comments == {ID["Vänorter"]: "Fler vänorter."}


def test_a_case_reference_only_on_the_first_page_header_is_found():
    document = docx.Document(io.BytesIO(reply_docx("# Synpunkter", "Inga.")))
    document.sections[0].different_first_page_header_footer = True
    document.sections[0].first_page_header.paragraphs[0].text = "Dnr: SN 2021/0777"
    out = io.BytesIO()
    document.save(out)

    assert read_reply_docx(out.getvalue(), SECTIONS).case_reference == "SN 2021/0777"


# ---------------------------------------------------------------- refused uploads

def test_a_file_that_is_not_a_docx_is_refused_with_a_reason():
    with pytest.raises(WorkflowError) as refused:
        read_reply_docx(b"%PDF-1.7 not a Word file", SECTIONS, filename="svar.pdf")

    assert "inte ett Word-dokument" in str(refused.value.message)
    assert refused.value.field == "file"


def test_a_zip_that_is_not_a_word_document_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hej.txt", "hej")

    with pytest.raises(WorkflowError):
        read_reply_docx(out.getvalue(), SECTIONS)


def test_a_reply_over_the_size_limit_is_refused():
    with pytest.raises(WorkflowError) as refused:
        read_reply_docx(kalmar_reply(), SECTIONS, max_size=1024)

    assert "större än" in str(refused.value.message)


# ---------------------------------------------------------------- the submitted reply as .docx

def submitted(**changes) -> ReplyContent:
    content = dict(
        body_name="Socialnämnden", strategy_title=DRAFT.title, strategy_case_reference="KS 2020/0946",
        reply_label="Remissvar Internationell strategi", body_case_reference="SN 2021/0163.02.10",
        stance_label="Tillstyrker med synpunkter", summary="Socialnämnden ser ett stort värde.",
        proposed_decision="Socialnämnden överlämnar upprättat förslag till yttrande.",
        deciding_body="Socialnämnden", decision_date=date(2021, 3, 24), decision_paragraph="45",
        signatory_name="Cecilia Frid", signatory_title="Socialchef", contact="carina.bjorkman@kalmar.se",
        submitted_at=datetime(2021, 3, 25, 13, 5, tzinfo=timezone.utc), version=1,
        comments=[(NUMBER[FUNDING], FUNDING, "En central stödfunktion.\nSom upphandlingen."),
                  (NUMBER[RESPONSIBILITY], RESPONSIBILITY, "Resurserna räcker inte.")],
        general_comments="Bra strategi.", attachments=["Protokollsutdrag SN 2021-03-24 § 45.pdf"])
    return ReplyContent(**(content | changes))


def opened(data: bytes):
    return docx.Document(io.BytesIO(data))


def headings(document) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in document.paragraphs
            if p.style.name == "Title" or p.style.name.startswith("Heading")]


def under(document, heading: str) -> list[str]:
    """The paragraphs between a heading and the next one."""
    found, texts = False, []
    for paragraph in document.paragraphs:
        is_heading = paragraph.style.name.startswith("Heading")
        if found and is_heading:
            break
        if found:
            texts.append(paragraph.text)
        found = found or (is_heading and paragraph.text == heading)
    assert found, heading
    return texts


def test_the_submitted_reply_is_a_word_document_with_real_headings_in_order():
    document = opened(write_reply_docx(submitted()))

    assert headings(document) == [
        ("Title", "Remissvar från Socialnämnden"),
        ("Heading 1", "Uppgifter om remissvaret"),
        ("Heading 1", "Ställningstagande"),
        ("Heading 1", "Sammanfattning"),
        ("Heading 1", "Förslag till beslut"),
        ("Heading 1", "Synpunkter"),
        ("Heading 2", f"Synpunkter under rubrik ”7.1 {FUNDING}”"),
        ("Heading 2", f"Synpunkter under rubrik ”9 {RESPONSIBILITY}”"),
        ("Heading 2", "Övriga synpunkter"),
        ("Heading 1", "Beslutsuppgifter"),
        ("Heading 1", "Underskrift"),
        ("Heading 1", "Bilagor"),
    ]


def test_the_reply_is_a4_and_swedish():
    document = opened(write_reply_docx(submitted()))

    assert round(document.sections[0].page_width.mm) == 210 and round(document.sections[0].page_height.mm) == 297
    assert document.core_properties.language == "sv-SE"
    assert 'w:val="sv-SE"' in document.styles.element.xml
    assert 'w:themeFontLang w:val="sv-SE"' in document.settings.element.xml


def test_the_reply_names_its_body_case_municipality_and_time_and_nothing_of_python_docx():
    data = write_reply_docx(submitted(municipality="Kalmar kommun"))

    core = opened(data).core_properties
    assert core.title.startswith("Remissvar från Socialnämnden: ")
    assert core.subject == "KS 2020/0946" and core.identifier == "SN 2021/0163.02.10"
    assert core.author == core.last_modified_by == "Socialnämnden"
    assert core.created == core.modified == datetime(2021, 3, 25, 13, 5, tzinfo=timezone.utc)  # when it was sent
    assert core.revision == 1 and core.comments == ""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        app = package.read("docProps/app.xml").decode()
        assert "<Application>Remiss</Application>" in app and "<Company>Kalmar kommun</Company>" in app
        for name in package.namelist():
            content = package.read(name)
            assert b"python-docx" not in content and b"2013-12-23" not in content, name
            assert b"Macintosh" not in content and "thumbnail" not in name, name


def test_the_reply_numbers_its_pages():
    footer = opened(write_reply_docx(submitted())).sections[0].footer

    assert not footer.is_linked_to_previous
    assert [i.text.strip() for i in footer._element.iter(qn("w:instrText"))] == ["PAGE"]


def test_the_receipt_gives_the_stance_as_a_line_of_its_own_capitalised():
    from types import SimpleNamespace

    from remiss.receipts import reply_document

    strategy = SimpleNamespace(title="Internationell strategi", case_reference="KS 2020/0946")
    referral = SimpleNamespace(body=SimpleNamespace(name="Socialnämnden"),
                               round=SimpleNamespace(strategy=strategy, reply_label="Remissvar"))
    version = SimpleNamespace(content={"stance": "approves_with_comments"}, number=1, late=False,
                              submitted_at=datetime(2021, 3, 25, 13, 5, tzinfo=timezone.utc))

    document = opened(reply_document(referral, version))

    assert under(document, "Ställningstagande") == ["Tillstyrker med synpunkter"]


def test_each_comment_stands_under_its_heading_one_paragraph_per_line():
    document = opened(write_reply_docx(submitted()))

    assert under(document, f"Synpunkter under rubrik ”7.1 {FUNDING}”") == ["En central stödfunktion.",
                                                                          "Som upphandlingen."]
    assert under(document, f"Synpunkter under rubrik ”9 {RESPONSIBILITY}”") == ["Resurserna räcker inte."]
    assert under(document, "Övriga synpunkter") == ["Bra strategi."]
    assert under(document, "Ställningstagande") == ["Tillstyrker med synpunkter"]
    assert under(document, "Beslutsuppgifter") == ["Beslutande organ: Socialnämnden",
                                                    "Beslutsdatum: 24 mars 2021", "Paragraf: § 45"]
    assert under(document, "Underskrift") == ["Cecilia Frid", "Socialchef"]
    assert under(document, "Bilagor") == ["Protokollsutdrag SN 2021-03-24 § 45.pdf"]


def test_the_reply_says_when_it_was_sent_in_swedish_time_and_how_it_came_in():
    reply = submitted(version=2, late=True, registered_by_officer=True, received_on=date(2021, 3, 29))

    text = "\n".join(p.text for p in opened(write_reply_docx(reply)).paragraphs)

    assert "Inskickat: torsdag 25 mars 2021 kl. 14.05 (version 2)" in text
    assert "Diarienummer: SN 2021/0163.02.10" in text
    assert "Remissens diarienummer: KS 2020/0946" in text
    assert "Kontaktperson: carina.bjorkman@kalmar.se" in text
    assert "Inkom efter sista svarsdag." in text
    assert "Registrerat av handläggaren för remissinstansens räkning, mottaget 29 mars 2021." in text


def test_a_reply_without_comments_has_no_comment_headings():
    reply = submitted(comments=[], general_comments="  \n", summary="", attachments=[], stance_label="Avstår")

    names = [text for _, text in headings(opened(write_reply_docx(reply)))]

    assert "Synpunkter" not in names and "Sammanfattning" not in names and "Bilagor" not in names


def test_hostile_text_is_written_without_error_and_kept_as_literal_text():
    hostile = "<script>alert('x')</script> &amp; \x00\x01\x1b\ufffe\ud800 \u202eevil\u202c\tslut"
    long_comment = "Lång synpunkt. " * 1334  # just over 20,000 characters
    reply = submitted(body_name=f"Nämnd {hostile}", summary=hostile, general_comments=long_comment,
                      comments=[("1", f"Rubrik\n{hostile}", hostile), ("2", "Lång", long_comment)],
                      attachments=[hostile], contact="x" * 400, strategy_title="T" * 400)

    document = opened(write_reply_docx(reply))

    text = "\n".join(p.text for p in document.paragraphs)
    assert "<script>alert('x')</script> &amp;  \u202eevil\u202c\tslut" in text
    assert not any(ch in text for ch in "\x00\x01\x1b\ufffe")
    assert len(long_comment) > 20_000 and long_comment.strip() in text
    assert len(document.core_properties.title) <= 255


def test_a_submission_time_without_a_time_zone_is_refused():
    with pytest.raises(ValueError):
        write_reply_docx(submitted(submitted_at=datetime(2021, 3, 25, 14, 5)))


def test_a_written_reply_read_back_puts_each_comment_on_its_heading_again():
    data = write_reply_docx(submitted())

    reply = read_reply_docx(data, SECTIONS)

    assert reply.comments == {ID[FUNDING]: "En central stödfunktion.\n\nSom upphandlingen.",
                              ID[RESPONSIBILITY]: "Resurserna räcker inte."}
    assert reply.proposed_decision == "Socialnämnden överlämnar upprättat förslag till yttrande."
    assert reply.summary == "Socialnämnden ser ett stort värde."
    assert (reply.signatory_name, reply.signatory_title) == ("Cecilia Frid", "Socialchef")
    assert reply.case_reference == "SN 2021/0163.02.10"
    assert reply.general_comments == "Bra strategi."
    assert reply.attachments == ["Protokollsutdrag SN 2021-03-24 § 45.pdf"]
