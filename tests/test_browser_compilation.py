"""The officer's last step in real Chromium: every comment handled, a remissammanställning made and
downloaded, and the downloaded file is the one checked — axe-core on every page on the way."""
import io
import re
from datetime import datetime, timezone

import docx
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from remiss import jobs, pdf, responses
from remiss.extensions import db
from remiss.models import Compilation
from remiss.responses import ReplyDraft, ReplyFields

from . import builders
from .axe import assert_no_axe_violations
from .conftest import missing
from .test_browser import switch_language

pytestmark = pytest.mark.browser

ANSWERED = datetime(2021, 3, 1, 9, 0, tzinfo=timezone.utc)
AFTER_DEADLINE = datetime(2021, 3, 29, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def answered(session, frozen_clock):
    """A round to four bodies: the social board and the environment board answer with comments, the
    culture board stays silent, the care board's reply came by e-mail; the deadline (26 March) has passed."""
    frozen_clock.set(ANSWERED)
    officer = builders.create_officer(session, name="Stina Strateg", email="stina@kommun.example")
    strategy = builders.create_strategy(session, officer=officer, title="Internationell strategi",
                                        case_reference="KS 2020/0946")
    bodies = [builders.create_body(session, name=name, code=code)
              for name, code in (("Socialnämnden", "SN"), ("Miljönämnden", "MN"), ("Kulturnämnden", "KN"),
                                 ("Omsorgsnämnden", "ON"))]
    round_ = builders.create_round(session, strategy, bodies)
    sections = {s.heading: s for s in round_.draft.sections}
    referrals = {r.body.name: r for r in round_.referrals}
    for name, comments in (("Socialnämnden", {"Ansvar": "Ansvaret behöver förtydligas."}),
                           ("Miljönämnden", {"Ansvar": "Miljön saknas i ansvarsfördelningen.",
                                             "Inledning": "Bra bakgrund."})):
        referral = referrals[name]
        secretary = builders.create_secretary(session, referral.body)
        draft = ReplyDraft(fields=ReplyFields(stance="approves_with_comments", summary="Vi tillstyrker."),
                           comments={sections[h].id: text for h, text in comments.items()})
        saved = responses.save_reply(session, secretary, ANSWERED, referral, version=None, draft=draft)
        responses.submit_reply(session, secretary, ANSWERED, referral, version=saved.lock_version)
    session.commit()
    frozen_clock.set(AFTER_DEADLINE)
    return round_, officer, referrals, sections


def test_the_officer_handles_every_comment_and_downloads_the_compilation(page, session, answered, tmp_path):
    round_, officer, referrals, sections = answered
    page.goto("/sign-in")
    page.get_by_label("E-postadress").fill(officer.email)
    page.get_by_label("Lösenord").fill(builders.PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Välkommen")

    # The care board's signed decision came by e-mail on 24 March; the officer registers it on the 29th.
    page.goto(f"/rounds/{round_.id}")
    page.get_by_role("row", name=re.compile("Omsorgsnämnden")).get_by_role("link", name=re.compile("Registrera")).click()
    page.get_by_label("Svaret kom in").fill("2021-03-24")
    page.locator("input[name=stance][value=approves]").check()
    page.get_by_label("Sammanfattning").fill("Omsorgsnämnden tillstyrker förslaget.")
    letter = tmp_path / "protokollsutdrag.pdf"
    letter.write_bytes(b"%PDF-1.7\n% Omsorgsnamndens beslut\n%%EOF\n")
    page.get_by_label("Svaret som fil (PDF eller Word)").set_input_files(str(letter))
    assert_no_axe_violations(page, "registering a reply that came by e-mail")
    page.get_by_role("button", name="Registrera svaret").click()
    expect(page.get_by_role("status")).to_contain_text("Svaret från Omsorgsnämnden är registrerat")
    expect(page.get_by_role("row", name=re.compile("Omsorgsnämnden"))).to_contain_text("inkom 24 mars 2021")

    page.get_by_role("link", name="Hantera synpunkterna").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hantera synpunkter")
    expect(page.locator("#handling-progress")).to_have_text("0 av 3 hanterade")
    assert_no_axe_violations(page, "handling view, nothing handled")

    ansvar = sections["Ansvar"].key
    for body, key, decision, reason in (
            ("Socialnämnden", ansvar, "Beaktas delvis", "Ansvaret förtydligas i avsnitt 3."),
            ("Miljönämnden", ansvar, "Beaktas", "Miljön läggs till."),
            ("Miljönämnden", sections["Inledning"].key, "Noteras", "")):
        comment = page.locator(f"#comment-{referrals[body].id}-{key}")
        comment.get_by_label(decision, exact=True).check()
        if reason:
            comment.get_by_label("Motivering").fill(reason)
        comment.get_by_role("button", name=re.compile("Spara ställningstagandet")).click()
        expect(page.get_by_role("status")).to_contain_text(f"Ställningstagandet för {body} är sparat.")
    expect(page.locator("#handling-progress")).to_have_text("3 av 3 hanterade")
    assert_no_axe_violations(page, "handling view, everything handled")

    page.goto(f"/rounds/{round_.id}")
    page.get_by_role("link", name="Remissammanställning: förhandsvisa och skapa").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Remissammanställning")
    expect(page.get_by_text("3 av 3 synpunkter är hanterade.")).to_be_visible()
    assert_no_axe_violations(page, "compilation preview")
    page.get_by_label("Bakgrund").fill("Strategin tas fram på uppdrag av kommunstyrelsen.")
    page.get_by_role("button", name="Skapa sammanställning i Word").click()
    expect(page.get_by_role("status")).to_contain_text("Sammanställningen är skapad.")
    assert_no_axe_violations(page, "compilation preview with a kept compilation")

    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile(r"Ladda ner \(\.docx\)")).click()
    download = download_info.value
    assert download.suggested_filename.startswith("remissammanstallning-KS-2020-0946")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    data = path.read_bytes()

    session.expire_all()
    (kept,) = session.scalars(select(Compilation)).all()
    assert data == kept.file.data  # what the officer got is what was kept
    paragraphs = [(p.style.name, p.text) for p in docx.Document(io.BytesIO(data)).paragraphs]
    chapters = [text for style, text in paragraphs if style == "Heading 1"]
    assert chapters[:3] == ["Inledning", "Översikt", "Synpunkter per avsnitt"]
    sections = [text for style, text in paragraphs if style == "Heading 2"]
    assert "3 Ansvar" in sections and "Bakgrund" in sections
    texts = [text for _style, text in paragraphs]
    assert "Strategin tas fram på uppdrag av kommunstyrelsen." in texts  # the officer's background
    at = texts.index("Socialnämnden (tillstyrker med synpunkter): Ansvaret behöver förtydligas.")
    assert texts[at + 1] == "Kommentar: beaktas delvis – Ansvaret förtydligas i avsnitt 3."
    assert paragraphs[at + 1][0] == "Handläggarens kommentar"  # the officer's voice in its own style
    assert texts.index("Miljönämnden (tillstyrker med synpunkter): Miljön saknas i ansvarsfördelningen.") > \
        paragraphs.index(("Heading 2", "3 Ansvar"))
    # The heading itself, not its line in the table of contents.
    silent = texts[paragraphs.index(("Heading 1", "Remissinstanser som inte svarat")) + 1]
    assert silent == "Kulturnämnden"
    overview = [" | ".join(c.text for c in row.cells) for t in docx.Document(io.BytesIO(data)).tables
                for row in t.rows]
    assert any(r.startswith("Omsorgsnämnden | Inskickat | 24 mars 2021") for r in overview), overview
    assert "protokollsutdrag.pdf" in " ".join(texts)  # its letter listed in the appendix

    # The PDF is made outside the request (by the scheduler's tick), then downloaded as kept.
    if pdf.soffice_path() is None:
        missing("making the PDF needs LibreOffice (apt-get install libreoffice-writer-nogui)")
    page.get_by_role("button", name=re.compile("Skapa PDF")).click()
    expect(page.get_by_text("PDF:en skapas…")).to_be_visible()
    assert jobs.make_pending_pdfs(db.session, AFTER_DEADLINE) == {"made": 1, "failed": 0}
    page.reload()
    with page.expect_download() as pdf_info:
        page.get_by_role("link", name=re.compile(r"Ladda ner \(PDF\)")).click()
    pdf_path = tmp_path / "sammanstallning.pdf"
    pdf_info.value.save_as(pdf_path)
    session.expire_all()
    (kept,) = session.scalars(select(Compilation)).all()
    assert pdf_path.read_bytes() == kept.pdf_file.data and pdf_path.read_bytes().startswith(b"%PDF")
    assert_no_axe_violations(page, "compilation page with a kept PDF")

    page.goto(f"/rounds/{round_.id}")
    expect(page.get_by_role("link", name=re.compile("Ladda ner den senaste sammanställningen"))).to_have_attribute(
        "href", f"/rounds/{round_.id}/compilations/{kept.id}.docx")

    # In English the screens change and the preview stays the Swedish document, marked as such.
    page.goto(f"/rounds/{round_.id}/compilation")
    switch_language(page, "en")
    expect(page.locator("section.preview")).to_have_attribute("lang", "sv")
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Remissammanställning")
    assert_no_axe_violations(page, "compilation preview, English")
