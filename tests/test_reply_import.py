"""A board's own Word reply imported: where each comment lands and why, and the review page where the
secretary moves comments before anything is filled in or saved.

The corpus in tests/fixtures/replies/ (made by make_replies.py there) is the Kalmar reply written the
ways boards write one. The first half needs no app; the second drives the pages.
"""
import io
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import docx
import pytest
from sqlalchemy import select

from remiss.docx_files import parse_docx
from remiss.errors import WorkflowError
from remiss.models import Body, Response
from remiss.reply_documents import origin_mismatch, read_reply_docx, reason_label

from . import builders
from .fixtures.replies import make_replies as corpus

HERE = Path(__file__).resolve().parent
REPLIES = HERE / "fixtures" / "replies"
DEMO = HERE.parent / "remiss" / "demo"
DRAFT = parse_docx((DEMO / "kalmar-strategy-draft.docx").read_bytes())
# The Kalmar draft, with a second "Uppföljning" (2.3) beside its own 9.5, for the duplicate-heading reply.
SECTIONS = [(i, s.number, s.heading) for i, s in enumerate(DRAFT.sections, 1)]
SECTIONS.insert(3, (99, "2.3", "Uppföljning"))
NUMBER_OF = {section_id: number for section_id, number, _ in SECTIONS}
ID_OF = {number: section_id for section_id, number, _ in SECTIONS}
BODIES = ["Socialnämnden", "Kultur- och fritidsnämnden", "Barn- och ungdomsnämnden", "Kalmar Vatten AB"]
CASE = "KS 2020/0946"

# (section number or None, reason, the comment's exact text), in document order.
BY_NUMBER = [("7.1", "number", corpus.FUNDING), ("9", "number", corpus.RESOURCES),
             ("7.2", "number", corpus.PARTNERS), ("7.3", "number", corpus.PROFILE)]
EXPECTED = {
    "by-number.docx": BY_NUMBER,
    "libreoffice-by-number.docx": BY_NUMBER,
    "heading-style.docx": [("7.1", "heading", corpus.FUNDING), ("4", "heading", corpus.TWINS)],
    "heading-bold.docx": [("7.2", "heading", corpus.PARTNERS), ("9", "heading", corpus.RESOURCES)],
    "table.docx": [("7.1", "table", corpus.FUNDING), ("4", "table", corpus.TWINS), ("9", "table", corpus.RESOURCES),
                   (None, "unplaced", f"12.4: {corpus.PROFILE}"), (None, "general", corpus.GENERAL)],
    "table-three-columns.docx": [("7.2", "table", f"Sida: 5\n\n{corpus.PARTNERS}"),
                                 ("7.3", "table", corpus.PROFILE)],
    "duplicate-headings.docx": [("9.5", "number", corpus.FOLLOW_UP), ("2.3", "number", corpus.PARTNERS),
                                (None, "unplaced", f"Uppföljning\n\n{corpus.RESOURCES}")],
    "tracked-changes.docx": [("4", "quote", corpus.TWINS), ("9", "quote", f"{corpus.RESOURCES} {corpus.GOALS}")],
    "content-control.docx": [("8", "number", corpus.PRINCIPLES), ("6", "quote", corpus.GOALS)],
    "other-body.docx": [("4", "quote", corpus.KFN_COMMENT)],
    "other-case.docx": [("6", "quote", corpus.GOALS)],
}
SENTENCES = [corpus.FUNDING, corpus.RESOURCES, corpus.PARTNERS, corpus.PROFILE, corpus.TWINS, corpus.PRINCIPLES,
             corpus.GOALS, corpus.FOLLOW_UP, corpus.GENERAL, corpus.SUMMARY, corpus.KFN_COMMENT]


def read(name: str, **kwargs):
    return read_reply_docx((REPLIES / name).read_bytes(), SECTIONS, strategy_reference=CASE, **kwargs)


def landed(reply) -> list[tuple[str | None, str, str]]:
    return [(NUMBER_OF.get(c.section_id), c.reason, c.text) for c in reply.placed]


def places(reply) -> list[str]:
    """Everywhere a comment's words can end up on the reply form."""
    return [reply.summary, reply.proposed_decision, *(c.text for c in reply.placed)]


# ---------------------------------------------------------------- the corpus

def test_the_corpus_has_every_kind_of_reply_the_import_must_read():
    assert set(EXPECTED) <= {p.name for p in REPLIES.glob("*.docx")}
    assert len(EXPECTED) >= 10 and (REPLIES / "reply.pdf").read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_comment_lands_on_its_section_with_the_reason(name):
    reply = read(name)

    assert landed(reply) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_nothing_is_lost_every_comment_stands_in_exactly_one_place(name):
    reply = read(name)

    for sentence in SENTENCES:
        count = sum(place.count(sentence) for place in places(reply))
        written = sentence in _document_text(name)
        assert count == (1 if written else 0), (sentence, count)
    assert reply.general_comments == "\n\n".join(c.text for c in reply.placed if c.section_id is None)
    for section_id, text in reply.comments.items():
        assert text == "\n\n".join(c.text for c in reply.placed if c.section_id == section_id)


def _document_text(name: str) -> str:
    document = docx.Document(str(REPLIES / name))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    # Word's own XML, so text in content controls and tracked insertions counts as written.
    return "".join(document.element.body.itertext()) + " ".join(cells)


def test_a_summary_and_the_boards_own_details_are_read_around_the_comments():
    reply = read("by-number.docx")

    assert reply.summary == corpus.SUMMARY
    assert reply.proposed_decision == "Socialnämnden överlämnar yttrandet till kommunstyrelsen."
    assert (reply.case_reference, reply.deciding_body) == ("SN 2021/0200", "Socialnämnden")
    assert (reply.signatory_name, reply.signatory_title) == ("Cecilia Frid", "Socialchef")


def test_tracked_deletions_are_left_out_and_insertions_read():
    reply = read("tracked-changes.docx")

    text = "\n".join(places(reply))
    assert corpus.TWINS in text  # typed as a tracked insertion
    assert corpus.DELETED not in text and corpus.DELETED_PARAGRAPH not in text
    assert reply.signatory_name == "Cecilia Frid"  # the struck paragraph did not swallow the signature


def test_libreoffice_saving_a_reply_again_changes_nothing_read_from_it():
    original, resaved = read("by-number.docx"), read("libreoffice-by-number.docx")

    assert landed(resaved) == landed(original)
    assert (resaved.summary, resaved.case_reference, resaved.signatory_name) == (
        original.summary, original.case_reference, original.signatory_name)


def test_the_real_kalmar_reply_is_placed_by_its_quoted_headings():
    reply = read_reply_docx((DEMO / "kalmar-social-board-reply.docx").read_bytes(), SECTIONS)

    assert [(NUMBER_OF[c.section_id], c.reason) for c in reply.placed] == [("7.1", "quote"), ("9", "quote")]


def test_a_pdf_is_refused_saying_it_can_be_attached_as_a_bilaga():
    with pytest.raises(WorkflowError) as refused:
        read("reply.pdf", filename="reply.pdf")

    message = str(refused.value.message)
    assert "Filen är en PDF" in message and "bilaga till svaret" in message
    assert refused.value.field == "file"


# ---------------------------------------------------------------- how people name a section

def reply_with(*blocks) -> bytes:
    """'# Synpunkter', then each block: text, ('b', text) a bold line, ('h2', text) a heading, a list a table."""
    document = docx.Document()
    document.add_heading("Synpunkter", level=1)
    for block in blocks:
        if isinstance(block, list):
            corpus.table(document, block)
        elif isinstance(block, tuple) and block[0] == "b":
            corpus.bold(document, block[1])
        elif isinstance(block, tuple):
            document.add_heading(block[1], level=2)
        else:
            document.add_paragraph(block)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.mark.parametrize("reference", [
    "Avsnitt 7.1", "7.1", "7.1 Verksamhetsutveckling …", "7.1 Verksamhetsutveckling och extern finansiering",
    "Sidan 5, avsnitt 7.1", "Under rubrik 7.1", "Punkt 7.1", "Avsnitt 7.1:",
])
@pytest.mark.parametrize("look", ["plain", "b", "h2"])
def test_a_comment_is_placed_by_the_section_number_however_it_is_written(reference, look):
    line = reference if look == "plain" else (look, reference)

    reply = read_reply_docx(reply_with(line, corpus.FUNDING), SECTIONS)

    assert landed(reply) == [("7.1", "number", corpus.FUNDING)]
    assert reason_label("number", "7.1") == "avsnittsnummer 7.1"


@pytest.mark.parametrize("reference", ["Kapitel 9", "Kapitel 9 Ansvar och organisation", "Avsnitt 9."])
def test_a_chapter_is_placed_on_its_top_section(reference):
    reply = read_reply_docx(reply_with(("b", reference), corpus.RESOURCES), SECTIONS)

    assert landed(reply) == [("9", "number", corpus.RESOURCES)]


def test_text_after_the_reference_on_the_same_line_belongs_to_the_comment():
    reply = read_reply_docx(reply_with(f"Avsnitt 7.1: {corpus.FUNDING}"), SECTIONS)

    assert landed(reply) == [("7.1", "number", corpus.FUNDING)]


def test_a_numbered_list_of_comments_is_not_taken_for_section_numbers():
    reply = read_reply_docx(reply_with(("b", "Vänorter"), "1. Fler skolor bör delta i utbytena.",
                                       "2. Föreningslivet bör få stöd att söka medel."), SECTIONS)

    assert landed(reply) == [("4", "heading", "1. Fler skolor bör delta i utbytena.\n\n"
                                              "2. Föreningslivet bör få stöd att söka medel.")]


def test_a_bold_addressee_in_the_letterhead_is_not_taken_for_the_section_of_that_name():
    document = docx.Document()
    corpus.bold(document, "Kommunstyrelsen")  # the draft has a section 9.2.1 Kommunstyrelsen
    document.add_paragraph("Yttrande över strategin", style="Title")
    document.add_heading("Synpunkter", level=1)
    corpus.bold(document, "Avsnitt 7.1")
    document.add_paragraph(corpus.FUNDING)
    out = io.BytesIO()
    document.save(out)

    reply = read_reply_docx(out.getvalue(), SECTIONS)

    assert landed(reply) == [("7.1", "number", corpus.FUNDING)] and reply.letterhead == ["Kommunstyrelsen"]


def test_a_number_the_draft_does_not_have_is_kept_as_an_unplaced_comment():
    reply = read_reply_docx(reply_with(("b", "Avsnitt 12.4"), corpus.PROFILE), SECTIONS)

    assert landed(reply) == [(None, "unplaced", f"Avsnitt 12.4\n\n{corpus.PROFILE}")]
    assert reply.placed[0].label == "kunde inte placeras: utkastet har inget avsnitt 12.4"
    assert reply.general_comments == f"Avsnitt 12.4\n\n{corpus.PROFILE}"


@pytest.mark.parametrize("line", [("b", "Uppföljning"), ("h2", "Uppföljning"), "Under rubrik ”Uppföljning”"])
def test_a_heading_two_sections_share_is_not_given_to_the_first(line):
    reply = read_reply_docx(reply_with(line, corpus.FOLLOW_UP), SECTIONS)

    [comment] = reply.placed
    assert (comment.section_id, comment.reason) == (None, "unplaced")
    assert comment.detail == "två avsnitt har rubriken ”Uppföljning”"
    assert corpus.FOLLOW_UP in reply.general_comments and reply.comments == {}


@pytest.mark.parametrize("header", [["Avsnitt", "Synpunkt"], ["Rubrik", "Kommentar"],
                                    ["Kapitel/avsnitt", "Synpunkter"]])
@pytest.mark.parametrize("cell", ["7.1", "Verksamhetsutveckling och extern finansiering",
                                  "7.1 Verksamhetsutveckling och extern finansiering"])
def test_a_table_of_comments_is_read_by_its_section_column(header, cell):
    reply = read_reply_docx(reply_with([header, [cell, corpus.FUNDING]], corpus.GENERAL), SECTIONS)

    assert landed(reply) == [("7.1", "table", corpus.FUNDING), (None, "unplaced", corpus.GENERAL)]


def test_a_table_that_is_not_of_comments_is_plain_text():
    reply = read_reply_docx(reply_with(("b", "Vänorter"), [["Ort", "Land"], ["Kaunas", "Litauen"]]), SECTIONS)

    assert landed(reply) == [("4", "heading", "Ort | Land\n\nKaunas | Litauen")]


def test_every_reason_has_its_swedish_label():
    assert [reason_label(r) for r in ("heading", "quote", "table", "general", "unplaced")] == [
        "rubrik", "citat", "tabell", "övriga synpunkter", "kunde inte placeras"]


# ---------------------------------------------------------------- a reply from the wrong body or case

def mismatch(name: str, body: str = "Socialnämnden", case: str = CASE):
    return origin_mismatch(read(name), body_name=body, other_bodies=[b for b in BODIES if b != body],
                           strategy_reference=case)


def test_another_bodys_reply_is_caught_by_its_letterhead_and_decision():
    found = mismatch("other-body.docx")

    assert found and found.other_body == "Kultur- och fritidsnämnden" and found.other_case_reference == ""


def test_a_reply_in_another_case_is_caught_by_the_strategys_case_reference():
    found = mismatch("other-case.docx")

    assert found and found.other_case_reference == "KS 2021/0100" and found.other_body == ""


def test_the_right_reply_raises_no_doubt():
    assert not mismatch("by-number.docx")
    assert not mismatch("other-body.docx", body="Kultur- och fritidsnämnden")
    assert not mismatch("other-case.docx", case="KS 2021/0100")
    real = read_reply_docx((DEMO / "kalmar-social-board-reply.docx").read_bytes(), SECTIONS)
    assert not origin_mismatch(real, body_name="Socialnämnden", other_bodies=BODIES[1:], strategy_reference=CASE)


def test_the_socialnamnden_reply_uploaded_for_another_body_is_caught():
    assert mismatch("by-number.docx", body="Barn- och ungdomsnämnden").other_body == "Socialnämnden"


# ---------------------------------------------------------------- the review page

class _FormReader(HTMLParser):
    """The fields a browser would post from the form whose action ends with `action`."""

    def __init__(self, action: str):
        super().__init__(convert_charrefs=True)
        self.action, self.inside, self.select = action, False, None
        self.values: dict[str, str] = {}
        self.options: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = (attrs.get("action") or "").endswith(self.action)
        elif not self.inside:
            return
        elif tag == "input" and attrs.get("name") and attrs.get("type") not in ("submit", "checkbox"):
            self.values[attrs["name"]] = attrs.get("value") or ""
        elif tag == "select":
            self.select = attrs["name"]
            self.options[self.select] = []
        elif tag == "option" and self.select:
            self.options[self.select].append(attrs["value"])
            if "selected" in attrs:
                self.values[self.select] = attrs["value"]

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None


def review_form(html: str) -> _FormReader:
    reader = _FormReader("/reply/import/review")
    reader.feed(html)
    return reader


def reply_values(html: str) -> dict[str, str]:
    from .test_replies import form_values

    return form_values(html)


@pytest.fixture
def out(session):
    """The Kalmar draft (as uploaded in Word) sent to Socialnämnden; Kultur- och fritidsnämnden exists too."""
    officer = builders.create_officer(session)
    strategy = builders.create_strategy(session, officer=officer, case_reference=CASE)
    builders.create_docx_draft(session, strategy)
    social = builders.create_body(session, name="Socialnämnden", code="SN")
    builders.create_body(session, name="Kultur- och fritidsnämnden", code="KFN")
    sara = builders.create_secretary(session, social, email="sara@kommun.example")
    round_ = builders.create_round(session, strategy, [social])
    session.commit()
    referral = round_.referrals[0]
    return SimpleNamespace(referral=referral, sara=sara, url=f"/referrals/{referral.id}/reply/import",
                           id={s.number: str(s.id) for s in round_.draft.sections})


def upload(client, out, name: str):
    return client.post(out.url, {"file": (io.BytesIO((REPLIES / name).read_bytes()), name)},
                       content_type="multipart/form-data")


def review(client, out, values: dict):
    return client.post(f"{out.url}/review", values, content_type="multipart/form-data")


def nothing_saved(session, out) -> bool:
    return session.scalar(select(Response.id).where(Response.referral_id == out.referral.id)) is None


def test_the_review_shows_each_comment_where_it_landed_and_why_before_anything_is_saved(client, session, out):
    client.sign_in(out.sara.email)

    page = upload(client, out, "table.docx")

    assert page.status_code == 200, page.text
    form = review_form(page.text)
    assert [form.values[f"comments-{n}-section"] for n in range(5)] == [
        out.id["7.1"], out.id["4"], out.id["9"], "general", "general"]
    assert [form.values[f"comments-{n}-reason"] for n in range(5)] == [
        "table", "table", "table", "unplaced", "general"]
    assert form.values["comments-3-text"] == f"12.4: {corpus.PROFILE}"
    assert set(form.options["comments-0-section"]) == set(out.id.values()) | {"general"}
    assert page.text.count("Kunde inte placeras – ligger under Övriga synpunkter") == 1
    assert "utkastet har inget avsnitt 12.4" in page.text and "tabell" in page.text
    assert 'role="alert"' not in page.text
    assert nothing_saved(session, out)


def test_each_select_is_labelled_with_the_comment_it_moves(client, out):
    client.sign_in(out.sara.email)

    page = upload(client, out, "by-number.docx")

    assert '<label for="comments-0-section">Avsnitt för synpunkt 1 (”Ansökningsarbetet bör samlas i en ' \
           'central stödfunktion med …”)</label>' in page.text
    assert page.text.count("<select") == page.text.count('<label for="comments-') == 4


def test_submitting_the_review_fills_the_reply_with_each_comment_where_the_secretary_put_it(client, session, out):
    client.sign_in(out.sara.email)
    values = review_form(upload(client, out, "table.docx").text).values
    values["comments-3-section"] = out.id["7.3"]  # the row for "12.4", which the draft does not have
    values["comments-1-section"] = "general"

    page = review(client, out, values)

    assert page.status_code == 200, page.text
    filled = reply_values(page.text)
    assert filled[f"comment_{out.id['7.1']}"] == corpus.FUNDING
    assert filled[f"comment_{out.id['7.3']}"] == f"12.4: {corpus.PROFILE}"
    assert filled[f"comment_{out.id['4']}"] == ""
    assert filled["general_comments"] == f"{corpus.TWINS}\n\n{corpus.GENERAL}"
    assert filled["summary"] == corpus.SUMMARY and filled["case_reference"] == "SN 2021/0200"
    assert filled["signatory_name"] == "Cecilia Frid"
    assert "inget är sparat ännu" in page.text
    assert nothing_saved(session, out)


def test_line_breaks_posted_by_a_browser_come_back_as_they_were(client, out):
    client.sign_in(out.sara.email)
    values = review_form(upload(client, out, "table-three-columns.docx").text).values
    values["comments-0-text"] = values["comments-0-text"].replace("\n", "\r\n")

    filled = reply_values(review(client, out, values).text)

    assert filled[f"comment_{out.id['7.2']}"] == f"Sida: 5\n\n{corpus.PARTNERS}"


def test_another_bodys_reply_is_flagged_and_must_be_confirmed(client, session, out):
    client.sign_in(out.sara.email)
    page = upload(client, out, "other-body.docx")
    alert = page.text.index('role="alert"')
    assert alert < page.text.index("Synpunkt 1")
    assert "Dokumentet ser ut att vara ett svar från Kultur- och fritidsnämnden, inte från Socialnämnden" \
           in page.text
    values = review_form(page.text).values

    refused = review(client, out, values)

    assert refused.status_code == 422
    assert "Kryssa i rutan när du har kontrollerat att det är rätt dokument." in refused.text
    assert "Jag har kontrollerat att det är rätt dokument" in refused.text
    assert "Dokumentet ser ut att vara ett svar från Kultur- och fritidsnämnden" in refused.text

    confirmed = review(client, out, values | {"confirmed": "y"})

    assert confirmed.status_code == 200
    assert reply_values(confirmed.text)[f"comment_{out.id['4']}"] == corpus.KFN_COMMENT
    assert nothing_saved(session, out)


def test_a_reply_in_another_case_is_flagged(client, out):
    client.sign_in(out.sara.email)

    page = upload(client, out, "other-case.docx")

    assert "Dokumentet gäller ärende KS 2021/0100, men remissen gäller KS 2020/0946" in page.text
    assert "Jag har kontrollerat att det är rätt dokument" in page.text


def test_the_right_reply_needs_no_confirmation(client, out):
    client.sign_in(out.sara.email)

    page = upload(client, out, "by-number.docx")

    assert "Jag har kontrollerat" not in page.text
    assert review(client, out, review_form(page.text).values).status_code == 200


@pytest.mark.parametrize("tampered", ["999999", "abc", "", "-1", "1e3"])
def test_a_section_that_is_not_in_this_draft_is_a_form_error(client, session, out, tampered):
    client.sign_in(out.sara.email)
    values = review_form(upload(client, out, "by-number.docx").text).values
    values["comments-1-section"] = tampered

    page = review(client, out, values)

    assert page.status_code == 422
    assert "Välj ett avsnitt i utkastet eller Övriga synpunkter." in page.text
    assert 'href="#comments-1-section"' in page.text
    assert nothing_saved(session, out)


def test_a_section_of_another_strategys_draft_is_refused(client, session, out):
    other = builders.create_strategy(session)
    foreign = builders.create_draft(session, other).sections[0]
    session.commit()
    client.sign_in(out.sara.email)
    values = review_form(upload(client, out, "by-number.docx").text).values

    page = review(client, out, values | {"comments-0-section": str(foreign.id)})

    assert page.status_code == 422


def test_tampered_field_names_are_no_server_error(client, out):
    client.sign_in(out.sara.email)
    values = review_form(upload(client, out, "by-number.docx").text).values

    page = review(client, out, values | {"comments-²-text": "x", "comments-²-section": "general",
                                         "comments-99999999999999999999-section": "general"})

    assert page.status_code in (200, 422)


def test_a_changed_hidden_text_that_no_form_could_hold_is_a_form_error(client, session, out):
    client.sign_in(out.sara.email)
    values = review_form(upload(client, out, "by-number.docx").text).values

    page = review(client, out, values | {"comments-0-reason": "x" * 50})

    assert page.status_code == 422
    assert "Formuläret har ändrats på ett sätt som inte går att läsa." in page.text
    assert nothing_saved(session, out)


def test_the_review_is_refused_without_its_csrf_token(client, session, out):
    client.sign_in(out.sara.email)
    values = review_form(upload(client, out, "by-number.docx").text).values
    values.pop("csrf_token")

    page = client.post(f"{out.url}/review", values, csrf=False)

    assert page.status_code == 400
    assert "comment_" not in page.text
    assert nothing_saved(session, out)


def test_a_pdf_upload_is_refused_with_the_bilaga_message(client, session, out):
    client.sign_in(out.sara.email)

    page = upload(client, out, "reply.pdf")

    assert page.status_code == 422
    assert "Filen är en PDF, inte ett Word-dokument" in page.text and "bilaga till svaret" in page.text
    assert nothing_saved(session, out)


def test_opening_the_review_address_again_starts_the_import_over(client, out):
    client.sign_in(out.sara.email)

    page = client.get(f"{out.url}/review")

    assert page.status_code == 302 and page.headers["Location"].endswith(out.url)


def test_another_bodys_secretary_cannot_review_this_referrals_import(client, session, out):
    culture = session.scalar(select(Body).where(Body.code == "KFN"))
    builders.create_secretary(session, culture, email="kim@kommun.example")
    session.commit()
    client.sign_in("kim@kommun.example")

    page = review(client, out, {"comments-0-text": "x", "comments-0-section": "general"})

    assert page.status_code == 404
