"""Every date and state of a reply true, everywhere: one received date (inkom) on the board, the public
pages and the compilation, late judged by it; a body under anstånd awaited, not silent; the introduction's
facts; the officer's own texts kept with each compilation; a warning when compiling before every deadline
has passed."""
import csv
import io
import re
from datetime import date, datetime, timedelta, timezone
from html import unescape
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import docx
import pytest
from sqlalchemy import select

from remiss import calendar, extension_requests, responses, rounds
from remiss.compilation import (
    compile_round, deadline_not_passed, latest_entries, record_compilation, reply_facts, summarize,
)
from remiss.demo import CASE_REFERENCE, REPLY_LABEL, STRATEGY_TITLE, load_demo
from remiss.models import Compilation, ReferralRound, Strategy, User
from remiss.responses import ReplyDraft, ReplyFields

from . import builders

ZONE = ZoneInfo("Europe/Stockholm")
DEMO_NOW = datetime(2021, 3, 30, 9, 0, tzinfo=ZONE)  # the demo's deadline is 26 March 2021, as the real one
PASSWORD = "correct horse battery"
DEADLINE = date(2021, 3, 26)  # the builders' rounds


def row_text(html: str, name: str) -> str:
    """The visible text of the table row headed `name`."""
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        if re.search(rf'<th scope="row">{re.escape(name)}', row):
            return " ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split())
    raise AssertionError(f"no row for {name}")


def document_rows(data: bytes) -> list[str]:
    """Every table row of a .docx as one line of text (the overview, however it is grouped)."""
    document = docx.Document(io.BytesIO(data))
    return [" | ".join(cell.text for cell in row.cells) for table in document.tables for row in table.rows]


@pytest.fixture
def demo(session, frozen_clock):
    frozen_clock.set(DEMO_NOW)
    load_demo(session, DEMO_NOW, PASSWORD)
    session.commit()
    round_ = session.scalar(select(ReferralRound).join(Strategy).where(Strategy.case_reference == CASE_REFERENCE))
    officer = session.scalar(select(User).where(User.email == "strateg@demo.kalmar.example"))
    return SimpleNamespace(round=round_, officer=officer, by_code={r.body.code: r for r in round_.referrals})


@pytest.fixture
def out(session, frozen_clock):
    """A round due 26 March 2021 to a board and a company, nothing answered yet."""
    officer = builders.create_officer(session, name="Stina Strateg")
    strategy = builders.create_strategy(session, officer=officer, title="Internationell strategi",
                                        case_reference="KS 2020/0946")
    board = builders.create_body(session, name="Miljönämnden", code="MN")
    company = builders.create_body(session, name="Kalmarhem AB", code="KHEM", kind="company")
    round_ = builders.create_round(session, strategy, [board, company])
    by_name = {r.body.name: r for r in round_.referrals}
    session.commit()
    return SimpleNamespace(round=round_, officer=officer, board=by_name["Miljönämnden"],
                           company=by_name["Kalmarhem AB"], body_of={"MN": board, "KHEM": company})


def register(session, officer, referral, *, at: datetime, received_on: date):
    draft = ReplyDraft(ReplyFields(stance="approves", summary="Kom in per e-post.", case_reference="D 1"))
    kept = responses.register_reply(session, officer, at, referral, received_on=received_on, draft=draft)
    session.commit()
    return kept


# ---------------------------------------------------------------- anstånd

def test_a_body_under_anstand_is_awaited_and_one_asking_for_it_is_named_neither_silent(session, demo):
    summary = summarize(session, demo.round, DEMO_NOW, ZONE)
    entries = {e.body_name: e for e in summary.entries}

    planning = entries["Samhällsbyggnadsnämnden"]
    assert planning.answer == "Anstånd till 16 april 2021 – svar väntas"
    assert planning.extended_to == date(2021, 4, 16) and planning.waiting and not planning.answered
    assert entries["Kultur- och fritidsnämnden"].answer == "Begärt anstånd"
    assert entries["Kultur- och fritidsnämnden"].extended_to is None

    counts = summary.stance_counts()
    assert [label for label, _ in counts][-3:] == ["Anstånd", "Begärt anstånd", "Inget svar"]
    assert dict(counts)["Anstånd"] == 1 and dict(counts)["Begärt anstånd"] == 1 and dict(counts)["Inget svar"] == 3
    assert sum(n for _, n in counts) == len(summary.entries) == 13
    assert [e.body_name for e in summary.silent] == ["Kalmar kommunbolag AB", "Kalmar Öland Airport AB",
                                                     "Servicenämnden"]
    assert [e.body_name for e in summary.waiting] == ["Kultur- och fritidsnämnden", "Samhällsbyggnadsnämnden"]
    rows = document_rows(compile_round(session, demo.round, DEMO_NOW, ZONE))
    assert any("Samhällsbyggnadsnämnden" in r and "Anstånd till 16 april 2021 – svar väntas" in r for r in rows)
    assert any("Kultur- och fritidsnämnden" in r and "Begärt anstånd" in r for r in rows)

    # Once the anstånd is over without a reply, the body is silent like the others.
    after = summarize(session, demo.round, datetime(2021, 4, 17, 9, 0, tzinfo=ZONE), ZONE)
    assert {e.body_name: e.answer for e in after.entries}["Samhällsbyggnadsnämnden"] == "Inget svar"
    assert "Samhällsbyggnadsnämnden" in [e.body_name for e in after.silent]


def test_an_anstand_overtaken_by_a_later_deadline_for_everyone_is_no_anstand(session, out):
    now = datetime(2021, 3, 1, 9, 0, tzinfo=ZONE)
    extension_requests.grant_extension(session, out.officer, now, out.board, deadline=date(2021, 4, 9))
    secretary = builders.create_secretary(session, out.body_of["KHEM"])
    builders.create_extension_request(session, out.company, secretary, deadline=date(2021, 4, 16), now=now)
    session.commit()
    answers = {e.body_name: e.answer for e in latest_entries(session, out.round, now, ZONE)}
    assert answers == {"Kalmarhem AB": "Begärt anstånd", "Miljönämnden": "Anstånd till 9 april 2021 – svar väntas"}

    rounds.move_deadline(session, out.officer, now, out.round, date(2021, 4, 30), "Fler behöver tid.")
    session.commit()
    answers = {e.body_name: e.answer for e in latest_entries(session, out.round, now, ZONE)}
    assert answers["Miljönämnden"] == "Inget svar", "its deadline is everyone's again: nothing is awaited apart"


# ---------------------------------------------------------------- the received date

def test_the_registered_demo_reply_shows_the_day_it_came_in_on_time_everywhere(client, session, demo):
    care = demo.by_code["ON"]
    (version,) = responses.response_of(session, care).versions
    registered = calendar.local_date(version.submitted_at, ZONE)
    assert version.content["registered_by_officer"] and version.content["received_on"] == "2021-03-25"
    assert registered == date(2021, 3, 29) > demo.round.deadline, "registered after the deadline"
    day, working_days = date(2021, 3, 25), 0
    while day < registered:
        day += timedelta(days=1)
        working_days += calendar.is_business_day(day)
    assert working_days == 2, "it came in two working days before it was registered"
    assert not version.late, "on time by the day it came in"

    client.sign_in(demo.officer.email)
    board = row_text(client.get(f"/rounds/{demo.round.id}").text, "Omsorgsnämnden")
    assert "inskickad" in board and "inkom 25 mars 2021" in board and " sen " not in f" {board} "
    csv_rows = list(csv.reader(io.StringIO(client.get(f"/rounds/{demo.round.id}/board.csv").text.lstrip("\ufeff")),
                               delimiter=";"))
    assert csv_rows[0][-1] == "inkom" and next(r for r in csv_rows if r[0] == "Omsorgsnämnden")[-1] == "2021-03-25"

    public = row_text(client.get(f"/public/rounds/{demo.round.id}").text, "Omsorgsnämnden")
    assert "torsdag 25 mars 2021" in public and "(sen)" not in public and "29 mars" not in public
    reply = client.get(f"/public/rounds/{demo.round.id}/replies/{care.id}").text
    assert "<dt>Inkom</dt><dd>torsdag 25 mars 2021</dd>" in reply

    entry = next(e for e in latest_entries(session, demo.round, DEMO_NOW, ZONE) if e.body_name == "Omsorgsnämnden")
    assert (entry.answer, entry.received_on, entry.kind) == ("Inskickat", date(2021, 3, 25), "board")
    assert ("Inkom", "25 mars 2021") in reply_facts(entry, ZONE)
    preview = row_text(client.get(f"/rounds/{demo.round.id}/compilation").text, "Omsorgsnämnden")
    assert "Inskickat 25 mars 2021" in preview
    rows = document_rows(compile_round(session, demo.round, DEMO_NOW, ZONE))
    assert any("Omsorgsnämnden" in r and "25 mars 2021" in r and "29 mars" not in r for r in rows)


def test_a_reply_is_late_by_the_day_it_came_in_not_the_day_it_was_registered(client, session, out):
    registered_at = datetime(2021, 3, 30, 8, 0, tzinfo=timezone.utc)  # after the deadline, both of them
    on_time = register(session, out.officer, out.board, at=registered_at, received_on=date(2021, 3, 25))
    late = register(session, out.officer, out.company, at=registered_at, received_on=date(2021, 3, 29))
    assert (on_time.late, late.late) == (False, True)

    client.sign_in(out.officer.email)
    page = client.get(f"/rounds/{out.round.id}").text
    assert 'status--submitted' in re.search(r"<tr>\s*<th scope=\"row\">Miljönämnden.*?</tr>", page, re.S).group(0)
    assert "sen inkom 29 mars 2021" in row_text(page, "Kalmarhem AB")
    assert "inskickad inkom 25 mars 2021" in row_text(page, "Miljönämnden")
    public = client.get(f"/public/rounds/{out.round.id}").text
    assert "måndag 29 mars 2021 (sen)" in row_text(public, "Kalmarhem AB")
    assert "torsdag 25 mars 2021" in row_text(public, "Miljönämnden") and "(sen)" not in row_text(public,
                                                                                                  "Miljönämnden")
    entries = {e.body_name: e for e in latest_entries(session, out.round, registered_at, ZONE)}
    assert (entries["Kalmarhem AB"].answer, entries["Kalmarhem AB"].received_on) == ("Sen", date(2021, 3, 29))
    assert ("Inkom", "29 mars 2021 (efter sista svarsdag)") in reply_facts(entries["Kalmarhem AB"], ZONE)
    assert (entries["Miljönämnden"].answer, entries["Miljönämnden"].received_on) == ("Inskickat", date(2021, 3, 25))


def test_a_reply_sent_in_the_app_came_in_on_the_swedish_day_it_was_sent(session, out):
    secretary = builders.create_secretary(session, out.body_of["MN"])
    draft = ReplyDraft(ReplyFields(stance="approves", summary="Strax efter midnatt."))
    sent = datetime(2021, 3, 26, 23, 30, tzinfo=timezone.utc)  # 00.30 on 27 March in Kalmar
    saved = responses.save_reply(session, secretary, sent, out.board, version=None, draft=draft)
    kept = responses.submit_reply(session, secretary, sent, out.board, version=saved.lock_version)
    session.commit()
    entry = next(e for e in latest_entries(session, out.round, sent, ZONE) if e.body_name == "Miljönämnden")
    assert kept.late and (entry.answer, entry.received_on) == ("Sen", date(2021, 3, 27))


# ---------------------------------------------------------------- the introduction and the officer's texts

def test_the_introductions_facts_are_the_rounds(session, demo, app):
    app.config["MUNICIPALITY"] = "Kalmar kommun"
    summary = summarize(session, demo.round, DEMO_NOW, ZONE, background="Varför.", assessment="Bra.")
    facts = dict(summary.introduction)
    assert [label for label, _ in summary.introduction] == [
        "Strategi", "Remissutkast", "Diarienummer", "Remissen skickades", "Skickad till", "Svaren märks",
        "Sista svarsdag", "Har svarat", "Har avstått från att yttra sig", "Har anstånd", "Har begärt anstånd",
        "Har inte svarat"]
    assert facts["Strategi"] == STRATEGY_TITLE and facts["Diarienummer"] == CASE_REFERENCE
    assert facts["Remissutkast"].startswith(f"Version {demo.round.draft.version}")
    assert facts["Remissen skickades"] == "2 februari 2021"  # eight weeks before
    assert facts["Skickad till"] == "13 remissinstanser: 9 nämnder, 4 bolag"
    assert facts["Svaren märks"] == REPLY_LABEL and facts["Sista svarsdag"] == "26 mars 2021"
    assert facts["Har svarat"] == "8 av 13 remissinstanser, varav 1 efter sista svarsdag"
    assert facts["Har avstått från att yttra sig"] == "1 remissinstans"
    assert facts["Har anstånd"] == facts["Har begärt anstånd"] == "1 remissinstans"
    assert facts["Har inte svarat"] == "3 remissinstanser"
    assert (summary.background, summary.assessment) == ("Varför.", "Bra.")
    assert (summary.officer_name, summary.municipality, summary.compiled_on) == (
        "Strateg (demo)", "Kalmar kommun", date(2021, 3, 30))


def test_the_officers_texts_are_kept_with_each_compilation_and_shown_in_the_preview(client, session, out):
    client.sign_in(out.officer.email)
    page = f"/rounds/{out.round.id}/compilation"
    refused = client.post(page, {"background": "Bakgrund\x00 med styrtecken", "assessment": "Min bedömning."})
    assert refused.status_code == 422 and "Min bedömning." in refused.text, "a failed form keeps the texts"
    assert session.scalars(select(Compilation)).all() == []

    made = client.post(page, {"background": "Strategin tas fram på uppdrag av kommunstyrelsen.\n\nAndra stycket.",
                              "assessment": "Remissvaren ger stöd åt strategin."})
    assert made.status_code == 302
    (kept,) = session.scalars(select(Compilation)).all()
    assert kept.background == "Strategin tas fram på uppdrag av kommunstyrelsen.\n\nAndra stycket."
    assert kept.assessment == "Remissvaren ger stöd åt strategin."

    html = client.get(page).text
    assert "Strategin tas fram på uppdrag av kommunstyrelsen.\n\nAndra stycket.</textarea>" in html, \
        "the form starts from the latest compilation's texts"
    preview = html[html.index('id="preview-heading"'):]
    introduction = preview[preview.index("<h3>Inledning</h3>"):preview.index("<h3>Översikt</h3>")]
    assert "<h4>Bakgrund</h4>" in introduction and "<p>Andra stycket.</p>" in introduction
    assert "<h4>Sammanfattande bedömning</h4>" in introduction
    assert "<dd>2 remissinstanser: 1 nämnd, 1 bolag</dd>" in introduction


# ---------------------------------------------------------------- compiling early

def test_the_demo_warns_that_the_body_under_anstand_may_still_answer(client, session, demo):
    entries = latest_entries(session, demo.round, DEMO_NOW, ZONE)
    assert deadline_not_passed(entries, DEMO_NOW, ZONE) == ["Samhällsbyggnadsnämnden"]
    client.sign_in(demo.officer.email)
    html = client.get(f"/rounds/{demo.round.id}/compilation").text
    assert "Svarstiden har inte gått ut för: Samhällsbyggnadsnämnden." in html
    assert client.post(f"/rounds/{demo.round.id}/compilation", {}).status_code == 302, "compiling is allowed"


def test_compiling_before_every_deadline_has_passed_is_allowed_with_a_warning_naming_the_bodies(
        client, session, out, frozen_clock):
    client.sign_in(out.officer.email)
    frozen_clock.set(datetime(2021, 3, 1, 9, 0, tzinfo=ZONE))
    assert "Svarstiden har inte gått ut för: Kalmarhem AB, Miljönämnden." in client.get(
        f"/rounds/{out.round.id}/compilation").text
    frozen_clock.set(datetime(2021, 3, 27, 9, 0, tzinfo=ZONE))
    assert "Svarstiden har inte gått ut" not in client.get(f"/rounds/{out.round.id}/compilation").text
    record_compilation(session, out.officer, datetime(2021, 3, 1, 9, 0, tzinfo=ZONE), out.round, ZONE)


# ---------------------------------------------------------------- a registered reply's letter

PDF_LETTER = b"%PDF-1.7\n% the body's signed decision\n%%EOF\n"


def test_the_officer_registers_a_mailed_reply_with_its_letter_attached_and_published(client, session, out,
                                                                                     frozen_clock):
    """The letter that came in (a PDF) goes with the registered version: on the public reply page and in
    the compilation's appendix; a file that is neither PDF nor Word is refused and nothing is kept."""
    frozen_clock.set(datetime(2021, 3, 30, 8, 0, tzinfo=timezone.utc))
    client.sign_in(out.officer.email)
    url = f"/referrals/{out.board.id}/register"
    form = {"received_on": "2021-03-24", "stance": "approves", "summary": "Kom in per e-post."}

    refused = client.post(url, data={**form, "letter": (io.BytesIO(b"<html>nej</html>"), "svar.html")},
                          content_type="multipart/form-data")
    assert refused.status_code == 422 and "Kom in per e-post." in refused.text  # what was typed is kept
    done = client.post(url, data={**form, "letter": (io.BytesIO(PDF_LETTER), "beslut.pdf")},
                       content_type="multipart/form-data")

    assert done.status_code == 302, re.findall(r"error-message[^>]*>(.*?)</p>", done.text, re.S)
    session.expire_all()
    version = responses.response_of(session, out.board).versions[-1]
    (attached,) = version.content["attachments"]
    assert attached["filename"] == "beslut.pdf"
    public = client.get(f"/public/files/{attached['file_id']}")
    assert public.status_code == 200 and public.data == PDF_LETTER
    entry = next(e for e in latest_entries(session, out.round, datetime(2021, 3, 30, tzinfo=timezone.utc), ZONE)
                 if e.body_name == "Miljönämnden")
    assert entry.received_on == date(2021, 3, 24)
    data = compile_round(session, out.round, datetime(2021, 3, 30, tzinfo=timezone.utc), ZONE)
    assert any("beslut.pdf" in p.text for p in docx.Document(io.BytesIO(data)).paragraphs)
