"""The svarsmall: written per referral, filled in Word or LibreOffice, read back without loss.

Pure functions, so no app and no database. The LibreOffice tests run soffice headless, each run with
a profile of its own.
"""
import io
import zipfile
from datetime import date
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from lxml import etree

from remiss.models.responses import Stance
from remiss.reply_template import (
    TemplateFacts, TemplateSection, parse_decision_date, read_reply_template, stance_code, write_reply_template,
)

from . import word_tools
from .word_tools import controls, fill, w

DEMO = Path(__file__).resolve().parent.parent / "remiss" / "demo"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
SECTIONS = [
    TemplateSection("inledning", "1", "Inledning", 1),
    TemplateSection("vanorter", "3", "Vänorter", 1),
    TemplateSection("vanorter-i-europa", "3.1", "Vänorter i Europa – Åland och Öresund", 2),
    TemplateSection("uppfoljning", "4", "Uppföljning", 1),
]
FIELD_NAMES = ["stance", "summary", "proposed_decision", "case_reference", "deciding_body", "decision_date",
               "decision_paragraph", "signatory_name", "signatory_title", "contact"]
# What a secretary writes: tag → paragraphs. Some fields and "uppfoljning" are left untouched.
FILLED = {
    "remiss:field:stance": ["Tillstyrker med synpunkter"],
    "remiss:field:summary": ["Socialnämnden ställer sig bakom strategin.", "Barnrättsperspektivet saknas."],
    "remiss:field:case_reference": ["SN 2021/0123"],
    "remiss:field:deciding_body": ["Socialnämnden"],
    "remiss:field:decision_date": ["2021-03-18"],
    "remiss:field:decision_paragraph": ["§ 42"],
    "remiss:field:signatory_name": ["Åsa Öberg"],
    "remiss:section:vanorter": ["Vänortsutbytet bör omfatta äldreomsorgen.", "Även unga bör få åka.",
                                "Tredje stycket: ”citat” & <vinkel>."],
    "remiss:section:vanorter-i-europa": ["Öresundssamarbetet är viktigt för Kalmar."],
    "remiss:section:inledning": ["Inledningen är tydlig."],
    "remiss:general": ["Tack för möjligheten att yttra oss.", "Kontakta oss gärna."],
}


def facts(sections=SECTIONS, **changes) -> TemplateFacts:
    values = dict(body_name="Socialnämnden", strategy_title="Strategi för internationellt arbete",
                  strategy_case_reference="KS 2020/0946", reply_label="Remissvar Internationell strategi",
                  deadline=date(2021, 3, 26), referral_id=17, draft_version=2, sections=list(sections))
    return TemplateFacts(**{**values, **changes})










def expected_fields(values=FILLED) -> dict[str, str]:
    return {name: "\n\n".join(values.get(f"remiss:field:{name}", [])) for name in FIELD_NAMES}


def expected_comments(values=FILLED) -> dict[str, str]:
    return {tag.removeprefix("remiss:section:"): "\n\n".join(text)
            for tag, text in values.items() if tag.startswith("remiss:section:")}


def assert_reads_back(reply, values=FILLED) -> None:
    assert reply is not None
    assert (reply.referral_id, reply.draft_version) == (17, 2)
    assert reply.fields == expected_fields(values)
    assert reply.comments == expected_comments(values)
    assert reply.general_comments == "\n\n".join(values["remiss:general"])


# ---------------------------------------------------------------- the document itself

def test_the_template_has_a_tagged_control_for_every_field_and_section_in_draft_order():
    document = docx.Document(io.BytesIO(write_reply_template(facts())))
    by_tag = controls(document)

    assert list(by_tag) == (["remiss:template:referral=17:draft-version=2"]
                            + [f"remiss:field:{name}" for name in FIELD_NAMES]
                            + [f"remiss:section:{s.key}" for s in SECTIONS] + ["remiss:general"])
    for tag, sdt in by_tag.items():
        properties = sdt.find(w("sdtPr"))
        assert properties.find(w("alias")).get(w("val")), tag
        shows_placeholder = properties.find(w("showingPlcHdr")) is not None
        assert shows_placeholder == (not tag.startswith("remiss:template:")), tag
    choices = by_tag["remiss:field:stance"].findall(f"{w('sdtPr')}/{w('dropDownList')}/{w('listItem')}")
    assert [c.get(w("displayText")) for c in choices] == [
        "Tillstyrker", "Tillstyrker med synpunkter", "Avstyrker", "Inga synpunkter", "Avstår från att yttra sig"]
    # Comments can run to several paragraphs: the section controls hold paragraphs, not runs.
    assert by_tag["remiss:section:vanorter"].getparent().tag == w("body")


def test_the_template_reads_as_a_document_with_facts_instructions_and_the_draft_headings():
    document = docx.Document(io.BytesIO(write_reply_template(facts())))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    texts = [text for _, text in paragraphs]

    assert paragraphs[0] == ("Title", "Remissvar: Strategi för internationellt arbete")
    for line in ("Remissinstans: Socialnämnden", "Diarienummer: KS 2020/0946",
                 "Märkning: Remissvar Internationell strategi", "Sista svarsdag: fredag 26 mars 2021"):
        assert line in texts
    assert any(text.startswith("Skriv i de grå fälten. Ändra inte rubrikerna") for text in texts)
    headings = [(style, text) for style, text in paragraphs if style.startswith("Heading")]
    assert headings[-6:] == [("Heading 1", "Synpunkter per avsnitt"), ("Heading 2", "1 Inledning"),
                             ("Heading 2", "3 Vänorter"),
                             ("Heading 3", "3.1 Vänorter i Europa – Åland och Öresund"),
                             ("Heading 2", "4 Uppföljning"), ("Heading 1", "Övriga synpunkter")]
    for label in ("Ställningstagande", "Sammanfattning", "Förslag till beslut", "Ert diarienummer",
                  "Beslutande organ", "Beslutsdatum", "Paragraf (§)", "Kontaktperson"):
        assert label in texts


def test_the_template_is_swedish_a4_and_names_itself_in_its_properties():
    data = write_reply_template(facts())
    document = docx.Document(io.BytesIO(data))
    section = document.sections[0]
    core = document.core_properties

    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert {lang.get(qn("w:val")) for lang in document.styles.element.iter(qn("w:lang"))} == {"sv-SE"}
    assert core.title == "Remissvar: Strategi för internationellt arbete"
    assert core.subject == "Svarsmall för Socialnämnden"
    assert "python-docx" not in (core.author, core.last_modified_by, core.comments)
    custom = zipfile.ZipFile(io.BytesIO(data)).read("docProps/custom.xml").decode()
    for pair in ('name="remiss-referral"><vt:lpwstr>17<', 'name="remiss-draft-version"><vt:lpwstr>2<',
                 'name="remiss-section-2"><vt:lpwstr>vanorter<'):
        assert pair in custom


# ---------------------------------------------------------------- reading back

def test_every_field_and_comment_written_into_the_template_reads_back():
    reply = read_reply_template(fill(write_reply_template(facts()), FILLED))

    assert_reads_back(reply)
    assert reply.fields["proposed_decision"] == reply.fields["contact"] == ""  # untouched
    assert "uppfoljning" not in reply.comments
    assert stance_code(reply.fields["stance"]) is Stance.APPROVES_WITH_COMMENTS


def test_an_untouched_template_reads_as_empty():
    reply = read_reply_template(write_reply_template(facts()))

    assert (reply.referral_id, reply.draft_version) == (17, 2)
    assert reply.fields == dict.fromkeys(FIELD_NAMES, "")
    assert reply.comments == {} and reply.general_comments == ""


def test_placeholder_text_is_empty_even_when_an_editor_dropped_the_flag():
    document = docx.Document(io.BytesIO(write_reply_template(facts())))
    for flag in list(document.element.body.iter(w("showingPlcHdr"))):
        flag.getparent().remove(flag)
    out = io.BytesIO()
    document.save(out)

    reply = read_reply_template(out.getvalue())

    assert reply.fields == dict.fromkeys(FIELD_NAMES, "")
    assert reply.comments == {} and reply.general_comments == ""


def test_a_flag_left_on_typed_text_counts_as_placeholder_as_word_shows_it():
    reply = read_reply_template(fill(write_reply_template(facts()), {"remiss:general": ["Något"]}, keep_flag=True))

    assert reply.general_comments == ""


def test_tracked_changes_hyperlinks_field_results_and_nested_controls_read_as_accepted():
    data = write_reply_template(facts())
    document = docx.Document(io.BytesIO(data))
    sdt = controls(document)["remiss:section:vanorter"]
    flag = sdt.find(f"{w('sdtPr')}/{w('showingPlcHdr')}")
    flag.getparent().remove(flag)
    paragraph = sdt.find(f"{w('sdtContent')}/{w('p')}")
    for run in paragraph.findall(w("r")):
        paragraph.remove(run)
    paragraph.extend(etree.fromstring(f"""<x xmlns:w="{W}">
      <w:r><w:t xml:space="preserve">Se </w:t></w:r>
      <w:hyperlink><w:r><w:t>kalmar.se</w:t></w:r></w:hyperlink>
      <w:ins w:id="1" w:author="A"><w:r><w:t xml:space="preserve"> och nya</w:t></w:r></w:ins>
      <w:del w:id="2" w:author="A"><w:r><w:delText> och gamla</w:delText></w:r></w:del>
      <w:moveFrom w:id="3" w:author="A"><w:r><w:t> flyttat</w:t></w:r></w:moveFrom>
      <w:r><w:t xml:space="preserve"> sidan </w:t></w:r>
      <w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r>
      <w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>7</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>
      <w:fldSimple w:instr=" DATE "><w:r><w:t xml:space="preserve">, 2021</w:t></w:r></w:fldSimple>
      <w:sdt><w:sdtPr><w:alias w:val="inre"/></w:sdtPr><w:sdtContent><w:r><w:t>, inre</w:t></w:r></w:sdtContent></w:sdt>
      <w:sdt><w:sdtPr><w:showingPlcHdr/></w:sdtPr><w:sdtContent><w:r><w:t>Klicka här</w:t></w:r></w:sdtContent></w:sdt>
      <w:moveTo w:id="4" w:author="A"><w:r><w:t> flyttat</w:t></w:r></w:moveTo><w:r><w:tab/><w:t>slut</w:t></w:r>
    </x>""").iterchildren())
    out = io.BytesIO()
    document.save(out)

    reply = read_reply_template(out.getvalue())

    assert reply.comments == {"vanorter": "Se kalmar.se och nya sidan 7, 2021, inre flyttat\tslut"}


def test_text_written_outside_the_controls_still_lands_under_its_heading_when_the_tags_are_gone():
    """What LibreOffice does to the controls (below), done by hand: tags and controls gone, and a
    paragraph typed after the field; the bookmarked headings and labels still say where text belongs."""
    document = docx.Document(io.BytesIO(fill(write_reply_template(facts()), FILLED)))
    body = document.element.body
    for sdt in list(body.iter(w("sdt"))):
        content = sdt.find(w("sdtContent"))
        index = sdt.getparent().index(sdt)
        sdt.getparent()[index:index + 1] = list(content)
    document.add_paragraph("Ett stycke skrivet efter fältet.")
    out = io.BytesIO()
    document.save(out)

    reply = read_reply_template(out.getvalue())

    assert reply.general_comments.endswith("Kontakta oss gärna.\n\nEtt stycke skrivet efter fältet.")
    reply.general_comments = "\n\n".join(FILLED["remiss:general"])
    assert_reads_back(reply)


# ---------------------------------------------------------------- keys, not text

def test_a_comment_follows_its_section_key_when_the_heading_is_renamed_in_a_newer_version():
    written_for = [TemplateSection("vanorter", "3", "Vänorter", 1)]
    filled = fill(write_reply_template(facts(written_for)), {"remiss:section:vanorter": ["Fler vänorter i Asien."]})
    document = docx.Document(io.BytesIO(filled))
    heading = next(p for p in document.paragraphs if p.text == "3 Vänorter")
    heading.runs[0].text = "3 Internationella kontakter"  # the secretary even retitles it in the file
    out = io.BytesIO()
    document.save(out)
    newer_version = [TemplateSection("inledning", "1", "Inledning", 1),
                     TemplateSection("vanorter", "4", "Vänorter och partnerskap", 1)]

    reply = read_reply_template(out.getvalue())
    placed = {f"{s.number} {s.heading}": reply.comments.get(s.key) for s in newer_version}

    assert placed == {"1 Inledning": None, "4 Vänorter och partnerskap": "Fler vänorter i Asien."}


# ---------------------------------------------------------------- hostile input and other files

def test_hostile_text_does_not_break_writing_and_long_words_read_back_whole():
    word = "ö" * 20_000
    hostile = "Nämnd\x00\x01\x0b\x1f\ufffe\ud800 <&> " + word
    sections = [TemplateSection("vanorter", "3", hostile, 1), TemplateSection("a" * 64, "4", "\x07", 9)]
    data = write_reply_template(facts(sections, body_name=hostile, strategy_title=hostile,
                                      strategy_case_reference=hostile, reply_label=hostile))
    values = {"remiss:section:vanorter": [word, word + " slut"], "remiss:field:summary": [word]}

    reply = read_reply_template(fill(data, values))

    assert reply.comments["vanorter"] == f"{word}\n\n{word} slut"
    assert reply.fields["summary"] == word
    document = docx.Document(io.BytesIO(data))
    assert document.paragraphs[0].text == "Remissvar: Nämnd <&> " + word
    assert len(document.core_properties.title) <= 255


def test_a_document_that_is_not_a_svarsmall_is_none():
    plain = docx.Document()
    plain.add_heading("Remissvar", 1)
    plain.add_paragraph("Socialnämnden tillstyrker.")
    out = io.BytesIO()
    plain.save(out)

    assert read_reply_template(out.getvalue()) is None
    assert read_reply_template((DEMO / "kalmar-social-board-reply.docx").read_bytes()) is None
    assert read_reply_template(b"%PDF-1.4 not a Word file") is None


# ---------------------------------------------------------------- stance and date

@pytest.mark.parametrize(("text", "code"), [
    ("Tillstyrker", Stance.APPROVES), ("Tillstyrker med synpunkter", Stance.APPROVES_WITH_COMMENTS),
    ("Avstyrker", Stance.REJECTS), ("Inga synpunkter", Stance.NO_COMMENTS),
    ("Avstår från att yttra sig", Stance.ABSTAINS), ("  tillstyrker  MED synpunkter.", Stance.APPROVES_WITH_COMMENTS),
    ("Välj ställningstagande", None), ("", None),
])
def test_a_stance_label_maps_to_its_code(text, code):
    assert stance_code(text) is code


def test_a_typed_stance_reads_back_as_its_label():
    reply = read_reply_template(fill(write_reply_template(facts()), {"remiss:field:stance": ["avstyrker"]}))

    assert reply.fields["stance"] == "Avstyrker"


@pytest.mark.parametrize(("text", "expected"), [
    ("2021-03-20", date(2021, 3, 20)), ("2021-03-20 00:00", date(2021, 3, 20)),
    ("2021-03-20T00:00:00", date(2021, 3, 20)), ("20 mars 2021", date(2021, 3, 20)),
    ("den 20:e mars 2021", date(2021, 3, 20)), ("20 Mar. 2021", date(2021, 3, 20)),
    ("1 december 2020, § 12", date(2020, 12, 1)), ("20/3 2021", date(2021, 3, 20)),
    ("20.03.2021", date(2021, 3, 20)), ("20210320", date(2021, 3, 20)),
    ("2021-02-30", None), ("nästa sammanträde", None), ("", None),
])
def test_a_decision_date_is_read_leniently(text, expected):
    assert parse_decision_date(text) == expected


# ---------------------------------------------------------------- LibreOffice

@pytest.fixture
def soffice() -> str:
    return word_tools.soffice()


@pytest.mark.parametrize("route", [["docx"], ["odt", "docx"]], ids=["resaved-as-docx", "through-odt"])
def test_a_filled_template_reads_back_whole_after_libreoffice_saves_it(soffice, tmp_path, route):
    """Measured with LibreOffice 7.4: a .docx re-save drops every w:tag, the placeholder flags and the
    locks, and keeps only the first paragraph of a block control inside it; a round through .odt turns
    the rich-text and plain-text controls into FILLIN fields. Bookmarks and custom properties stay."""
    path = tmp_path / "svarsmall.docx"
    path.write_bytes(fill(write_reply_template(facts()), FILLED))
    for target in route:
        path = word_tools.convert(path, target, tmp_path)

    assert_reads_back(read_reply_template(path.read_bytes()))


TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
LOEXT = "urn:org:documentfoundation:names:experimental:office:xmlns:loext:1.0"
# As a LibreOffice user fills it, by label or heading: a choice in the list, an input field edited in
# its dialog, text typed beside an input field, and the rest typed over the grey field, with new
# paragraphs after it.
TYPED = {
    "Ställningstagande": ("choose", ["Avstyrker"]),
    "Sammanfattning": ("over", ["Nämnden avstyrker.", "Skälen följer nedan."]),
    "Ert diarienummer": ("over", ["SN 2021/0999"]),
    "Beslutande organ": ("beside", ["Socialnämnden"]),
    "Beslutsdatum": ("dialog", ["20 mars 2021"]),
    "3 Vänorter": ("over", ["Skrivet i LibreOffice, första stycket.", "Andra stycket – med åäö."]),
    "3.1 Vänorter i Europa – Åland och Öresund": ("dialog", ["Ändrat i fältets dialogruta."]),
    "Övriga synpunkter": ("beside", ["Inget mer."]),
}


def edit_odt(data: bytes, typed: dict[str, tuple[str, list[str]]]) -> bytes:
    """Fill the .odt LibreOffice made of the template the way its user would."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        entries = [(info, package.read(info)) for info in package.infolist()]
    content = etree.fromstring(dict((i.filename, b) for i, b in entries)["content.xml"])
    for paragraph in list(content.iter(f"{{{TEXT}}}p", f"{{{TEXT}}}h")):
        how, paragraphs = typed.get("".join(paragraph.itertext()), (None, []))
        if how:
            type_in_odt(paragraph.getnext(), how, paragraphs)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for info, blob in entries:
            if info.filename == "content.xml":
                blob = etree.tostring(content, xml_declaration=True, encoding="UTF-8")
            package.writestr(info, blob)
    return out.getvalue()


def type_in_odt(field, how: str, paragraphs: list[str]) -> None:
    if how == "choose":
        choice = field.find(f"{{{LOEXT}}}content-control")
        for child in [c for c in choice if c.tag != f"{{{LOEXT}}}list-item"]:
            choice.remove(child)
        choice[-1].tail = paragraphs[0]
        choice.set(f"{{{LOEXT}}}showing-place-holder", "false")
    elif how == "dialog":
        field.find(f"{{{TEXT}}}text-input").text = paragraphs[0]
    elif how == "beside":  # the placeholder field stays, the text follows it
        field.find(f"{{{TEXT}}}text-input").tail = " " + paragraphs[0]
    else:
        for child in list(field):
            field.remove(child)
        field.text = paragraphs[0]
        for text in reversed(paragraphs[1:]):
            extra = etree.Element(field.tag, attrib=dict(field.attrib))
            extra.text = text
            field.addnext(extra)


def test_a_template_filled_in_libreoffice_itself_reads_back_whole(soffice, tmp_path):
    """The template goes to .odt, is filled there, and LibreOffice writes the .docx the body uploads."""
    path = tmp_path / "svarsmall.docx"
    path.write_bytes(write_reply_template(facts()))
    odt = word_tools.convert(path, "odt", tmp_path)
    odt.write_bytes(edit_odt(odt.read_bytes(), TYPED))

    reply = read_reply_template(word_tools.convert(odt, "docx", tmp_path).read_bytes())

    assert (reply.referral_id, reply.draft_version) == (17, 2)
    assert reply.fields == {**dict.fromkeys(FIELD_NAMES, ""), "stance": "Avstyrker",
                            "summary": "Nämnden avstyrker.\n\nSkälen följer nedan.",
                            "case_reference": "SN 2021/0999", "deciding_body": "Socialnämnden",
                            "decision_date": "20 mars 2021"}
    assert parse_decision_date(reply.fields["decision_date"]) == date(2021, 3, 20)
    assert reply.comments == {
        "vanorter": "Skrivet i LibreOffice, första stycket.\n\nAndra stycket – med åäö.",
        "vanorter-i-europa": "Ändrat i fältets dialogruta."}
    assert reply.general_comments == "Inget mer."


def test_a_text_box_typed_into_a_comment_area_is_read_once():
    """Word writes a text box twice (its own drawing and a copy for older readers): one is read."""
    data = write_reply_template(facts())
    document = docx.Document(io.BytesIO(data))
    sdt = controls(document)[f"remiss:section:{SECTIONS[0].key}"]
    flag = sdt.find(f"{w('sdtPr')}/{w('showingPlcHdr')}")
    flag.getparent().remove(flag)
    content = sdt.find(w("sdtContent"))
    paragraph = content.find(w("p"))
    for run in paragraph.findall(w("r")):
        paragraph.remove(run)
    mc, wps = "http://schemas.openxmlformats.org/markup-compatibility/2006", \
        "http://schemas.microsoft.com/office/word/2010/wordprocessingShape"
    box = f'<w:txbxContent xmlns:w="{W}"><w:p><w:r><w:t>I rutan</w:t></w:r></w:p></w:txbxContent>'
    paragraph.append(etree.fromstring(
        f'<w:r xmlns:w="{W}" xmlns:mc="{mc}" xmlns:wps="{wps}"><mc:AlternateContent><mc:Choice Requires="wps">'
        f'<w:drawing><wps:txbx>{box}</wps:txbx></w:drawing></mc:Choice><mc:Fallback><w:pict>{box}</w:pict>'
        '</mc:Fallback></mc:AlternateContent></w:r>'))
    out = io.BytesIO()
    document.save(out)

    assert read_reply_template(out.getvalue()).comments[SECTIONS[0].key].count("I rutan") == 1
