"""Remissvar: a body's secretary drafts the reply, submits it behind a confirmation, amends it until the
deadline (every version kept, the latest counts) or declines in one step; the officer registers a reply
that came by mail and reopens a locked one. Two secretaries editing at once never lose a word, and a
body's unsent working copy is seen by its own secretaries only."""
import io
import re
from datetime import date, datetime, timedelta, timezone
from html import unescape
from html.parser import HTMLParser
from types import SimpleNamespace

import docx
import pytest
from sqlalchemy import select

from remiss import extension_requests, receipts, responses
from remiss.models import (
    AuditEvent, ExtensionRequest, ExtensionState, Referral, ReferralState, Response, ResponseAttachment,
    ResponseVersion, Stance,
)

from . import builders
from .conftest import Client

NOW = datetime(2021, 1, 27, 9, 0, tzinfo=timezone.utc)  # the frozen clock's default
AFTER_DEADLINE = datetime(2021, 3, 27, 8, 0, tzinfo=timezone.utc)  # Saturday morning after Friday 26 March
JUST_BEFORE = datetime(2021, 3, 26, 22, 58, tzinfo=timezone.utc)  # 23.58 in Kalmar, the last minute
LOCKED_MESSAGE = "Sista svarsdag har passerat och svaret är låst."
CONTROL_MESSAGE = "Texten innehåller osynliga styrtecken"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def out(session, frozen_clock):
    """A round due Friday 26 March to the social board (Sara and Sven answer for it) and the
    environment board (Mia)."""
    officer = builders.create_officer(session, name="Stina Strateg", email="stina.strateg@kommun.example")
    strategy = builders.create_strategy(session, officer=officer, title="Internationell strategi",
                                        case_reference="KS 2020/0946")
    social = builders.create_body(session, name="Socialnämnden", code="SN", mailbox="sn@kommun.example")
    environment = builders.create_body(session, name="Miljönämnden", code="MN", mailbox="mn@kommun.example")
    sara = builders.create_secretary(session, social, email="sara@kommun.example", name="Sara Sekreterare")
    sven = builders.create_secretary(session, social, email="sven@kommun.example", name="Sven Sekreterare")
    mia = builders.create_secretary(session, environment, email="mia@kommun.example", name="Mia Miljö")
    round_ = builders.create_round(session, strategy, [social, environment])
    session.commit()
    by_body = {r.body_id: r for r in round_.referrals}
    sections = {s.heading: s for s in round_.draft.sections}
    return SimpleNamespace(officer=officer, strategy=strategy, round=round_, social=by_body[social.id],
                           environment=by_body[environment.id], sara=sara, sven=sven, mia=mia,
                           sections=sections)


# ---------------------------------------------------------------- reading pages

class _FormReader(HTMLParser):
    """The values a browser would post from a page's forms: inputs, checked radios, textareas."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name"):
            if attrs.get("type") in ("radio", "checkbox"):
                if "checked" in attrs:
                    self.values[attrs["name"]] = attrs.get("value") or ""
            elif attrs.get("type") not in ("submit", "file"):
                self.values.setdefault(attrs["name"], attrs.get("value") or "")
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self.values[self._textarea] = ""

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea:
            # A browser drops the one newline right after <textarea>.
            value = self.values[self._textarea]
            self.values[self._textarea] = value[2:] if value.startswith("\r\n") else value.removeprefix("\n")
            self._textarea = None


def form_values(html: str) -> dict[str, str]:
    reader = _FormReader()
    reader.feed(html)
    return reader.values


def version_in(html: str) -> str:
    return form_values(html)["version"]


def text_of_page(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def board_row(html: str, name: str) -> str:
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        if re.search(rf'<th scope="row">{re.escape(name)}</th>', row):
            return " ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split())
    raise AssertionError(f"no row for {name}")


def board_status(html: str, name: str) -> str:
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        if re.search(rf'<th scope="row">{re.escape(name)}</th>', row):
            return re.search(r'class="status status--(\w+)"', row).group(1)
    raise AssertionError(f"no row for {name}")


def conflict_section(html: str) -> str:
    found = re.search(r'<section class="conflict".*?</section>', html, re.S)
    assert found, "no side-by-side comparison on the page"
    return found.group(0)


# ---------------------------------------------------------------- acting as the secretary

def reply_url(referral) -> str:
    return f"/referrals/{referral.id}/reply"


def reply_fields(out, **fields) -> dict:
    """A filled-in reply as the form posts it; section comments by heading: comments={"Syfte och mål": "…"}."""
    comments = fields.pop("comments", {})
    values = {"stance": "approves_with_comments", "summary": "Socialnämnden ställer sig bakom strategin.",
              "proposed_decision": "Socialnämnden antar yttrandet som sitt eget.",
              "general_comments": "", "case_reference": "SN 2021/0163", "deciding_body": "Socialnämnden",
              "decision_date": "2021-03-17", "decision_paragraph": "42", "signatory_name": "Siv Ordförande",
              "signatory_title": "Ordförande", "contact": "Sara Sekreterare, 0480-450 000"}
    for section in out.sections.values():
        values[f"comment_{section.id}"] = ""
    for heading, text in comments.items():
        values[f"comment_{out.sections[heading].id}"] = text
    values.update(fields)
    return values


def open_form(client, referral) -> str:
    page = client.get(reply_url(referral))
    assert page.status_code == 200, page.status_code
    return version_in(page.text)


def save(client, out, referral, *, version=None, action="save", **fields):
    if version is None:
        version = open_form(client, referral)
    return client.post(reply_url(referral), {**reply_fields(out, **fields), "version": version, "action": action})


def confirm_and_send(client, referral):
    page = client.get(f"/referrals/{referral.id}/reply/confirm")
    assert page.status_code == 200, page.status_code
    return client.post(f"/referrals/{referral.id}/reply/confirm", {"version": version_in(page.text)})


def submit(client, out, referral, **fields):
    """Save and go on to send, then send from the confirmation page, as the buttons do."""
    saved = save(client, out, referral, action="submit", **fields)
    assert saved.status_code == 302, saved.status_code
    assert saved.location.endswith(f"/referrals/{referral.id}/reply/confirm")
    sent = confirm_and_send(client, referral)
    assert sent.status_code == 302, sent.status_code
    return sent


def deliver(runner) -> None:
    result = runner.invoke("remiss", "outbox", "send")
    assert result.exit_code == 0, result.output


def mail_text(message) -> str:
    return message.get_body(("plain",)).get_content()


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def response_of(session, referral) -> Response | None:
    session.expire_all()
    return session.scalar(select(Response).where(Response.referral_id == referral.id))


def versions_of(session, referral) -> list[ResponseVersion]:
    session.expire_all()
    return list(session.scalars(select(ResponseVersion).join(Response).where(Response.referral_id == referral.id)
                                .order_by(ResponseVersion.number)))


def reload(session, referral) -> Referral:
    session.expire_all()
    return session.get(Referral, referral.id)


def show_board(client, out) -> str:
    page = client.get(f"/rounds/{out.round.id}")
    assert page.status_code == 200
    return page.text


# ---------------------------------------------------------------- drafting

def test_a_saved_draft_marks_the_referral_started_and_the_board_shows_it_begun(client, out, session):
    client.sign_in(out.sara.email)

    response = save(client, out, out.social, summary="Ett första utkast.",
                    comments={"Syfte och mål": "Målen bör mätas."})

    assert response.status_code == 302 and response.location.endswith(reply_url(out.social))
    page = client.get(response.location).text
    assert "Svaret är sparat. Det är inte inskickat än." in page
    assert form_values(page)["summary"] == "Ett första utkast."
    assert form_values(page)[f"comment_{out.sections['Syfte och mål'].id}"] == "Målen bör mätas."
    assert reload(session, out.social).state == ReferralState.IN_PROGRESS
    assert versions_of(session, out.social) == [], "saving is not sending"
    (started,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "referral.started")).all()
    assert started.actor_id == out.sara.id
    client.sign_out()
    client.sign_in(out.officer.email)
    board = show_board(client, out)
    assert board_status(board, "Socialnämnden") == "in_progress"
    assert "påbörjad" in board_row(board, "Socialnämnden")
    assert "tillstyrker" not in board_row(board, "Socialnämnden"), "an unsent stance is not the officer's"


def test_the_secretary_can_save_a_draft_again_and_again(client, out, session):
    client.sign_in(out.sara.email)

    assert save(client, out, out.social, summary="Första.").status_code == 302
    assert save(client, out, out.social, summary="Andra.", stance="").status_code == 302

    saved = response_of(session, out.social)
    assert saved.summary == "Andra." and saved.stance is None


# ---------------------------------------------------------------- submitting

def test_submitting_goes_through_a_confirmation_and_nothing_is_sent_before_it(client, out, session):
    client.sign_in(out.sara.email)

    saved = save(client, out, out.social, action="submit", general_comments="Bra strategi.")
    confirmation = client.get(saved.location)

    assert saved.status_code == 302 and saved.location.endswith("/reply/confirm")
    assert confirmation.status_code == 200
    assert "Kontrollera svaret" in confirmation.text and "Bra strategi." in confirmation.text
    assert "tillstyrker med synpunkter" in confirmation.text
    assert reload(session, out.social).state == ReferralState.IN_PROGRESS
    assert versions_of(session, out.social) == []


def test_submitting_keeps_version_1_answers_the_referral_and_mails_receipts_and_the_officer(
        client, out, session, runner, smtp):
    client.sign_in(out.sara.email)

    sent = submit(client, out, out.social, comments={"Ansvar": "Ansvaret för uppföljningen måste förtydligas."},
                  general_comments="Strategin bör ses över efter två år.")
    deliver(runner)

    page = client.get(sent.location).text
    assert "Svaret är inskickat (version 1)." in page
    referral = reload(session, out.social)
    assert referral.state == ReferralState.SUBMITTED and referral.answered_at == NOW
    (version,) = versions_of(session, out.social)
    assert version.number == 1 and version.submitted_by_id == out.sara.id and not version.late
    assert version.content["stance"] == "approves_with_comments"
    assert version.content["comments"][0]["heading"] == "Ansvar"
    assert version.content["comments"][0]["text"] == "Ansvaret för uppföljningen måste förtydligas."
    assert version.content["general_comments"] == "Strategin bör ses över efter två år."
    assert version.content["registered_by_officer"] is False

    assert {m["To"] for m in smtp.messages} == {"sara@kommun.example", "sn@kommun.example",
                                                 "stina.strateg@kommun.example"}
    for address in ("sara@kommun.example", "sn@kommun.example"):
        (receipt,) = smtp.to(address)
        assert "Kvitto: remissvar från Socialnämnden" in receipt["Subject"]
        (attachment,) = list(receipt.iter_attachments())
        assert attachment.get_filename() == "remissvar-SN-version-1.docx"
        assert attachment.get_content_type() == DOCX_TYPE
        words = docx_text(attachment.get_content())
        assert "Ansvaret för uppföljningen måste förtydligas." in words
        assert "Strategin bör ses över efter två år." in words
        assert "Socialnämnden" in words
    (notice,) = smtp.to("stina.strateg@kommun.example")
    assert "Remissvar från Socialnämnden" in notice["Subject"]
    assert "har skickat in sitt remissvar" in mail_text(notice)
    assert f"/rounds/{out.round.id}" in mail_text(notice)
    assert list(notice.iter_attachments()) == []


def test_the_officer_reads_the_submitted_version_and_the_board_shows_it_answered(client, out, session):
    client.sign_in(out.sara.email)
    submit(client, out, out.social, stance="rejects", case_reference="SN 2021/0163.02.10",
           summary="Nämnden avstyrker förslaget.")
    client.sign_out()
    client.sign_in(out.officer.email)

    board = show_board(client, out)
    version_page = client.get(f"/referrals/{out.social.id}/versions/1")
    document = client.get(f"/referrals/{out.social.id}/versions/1/document")

    row = board_row(board, "Socialnämnden")
    assert board_status(board, "Socialnämnden") == "submitted"
    assert "inskickad" in row and "avstyrker" in row and "SN 2021/0163.02.10" in row
    assert f'href="/referrals/{out.social.id}/versions/1"' in board
    assert "1 av 2 har svarat." in board
    assert version_page.status_code == 200
    assert "Nämnden avstyrker förslaget." in version_page.text
    assert document.status_code == 200 and document.mimetype == DOCX_TYPE
    assert "Nämnden avstyrker förslaget." in docx_text(document.data)


def test_a_reply_cannot_be_submitted_without_a_stance(client, out, session):
    client.sign_in(out.sara.email)
    save(client, out, out.social, action="submit", stance="", summary="Vi har inte bestämt oss.")

    refused = confirm_and_send(client, out.social)

    assert refused.status_code == 422
    assert "Välj ett ställningstagande innan du skickar svaret." in refused.text
    assert reload(session, out.social).state == ReferralState.IN_PROGRESS
    assert versions_of(session, out.social) == []
    assert response_of(session, out.social).summary == "Vi har inte bestämt oss."


def test_an_unknown_stance_is_refused_and_the_text_kept(client, out, session):
    client.sign_in(out.sara.email)

    refused = save(client, out, out.social, stance="abstains", summary="Avstå via formuläret?")

    assert refused.status_code == 422
    assert form_values(refused.text)["summary"] == "Avstå via formuläret?"
    assert response_of(session, out.social) is None


def test_a_reply_sent_twice_from_the_same_confirmation_page_is_kept_once(client, out, session):
    client.sign_in(out.sara.email)
    save(client, out, out.social, action="submit")
    page = client.get(f"/referrals/{out.social.id}/reply/confirm")
    version = version_in(page.text)

    first = client.post(f"/referrals/{out.social.id}/reply/confirm", {"version": version})
    again = client.post(f"/referrals/{out.social.id}/reply/confirm", {"version": version})

    assert first.status_code == 302
    assert again.status_code in (409, 422)
    assert [v.number for v in versions_of(session, out.social)] == [1]


@pytest.mark.parametrize("version", ["x", "²", "1" * 5000, "-1", ""], ids=["letter", "superscript", "5000-digits",
                                                                     "negative", "empty"])
def test_a_tampered_version_field_is_refused_as_a_conflict_not_a_server_error(client, out, session, version):
    client.sign_in(out.sara.email)
    save(client, out, out.social, summary="Sparad.")

    saved = save(client, out, out.social, version=version, summary="Med manipulerad version.")
    sent = client.post(f"/referrals/{out.social.id}/reply/confirm", {"version": version})

    assert saved.status_code == 409 and form_values(saved.text)["summary"] == "Med manipulerad version."
    assert sent.status_code == 422 and "Någon annan har sparat svaret" in sent.text
    assert response_of(session, out.social).summary == "Sparad."
    assert versions_of(session, out.social) == []


# ---------------------------------------------------------------- amending

def test_a_submitted_reply_can_be_amended_until_the_deadline_and_every_version_is_kept(
        client, out, session, frozen_clock, runner, smtp):
    client.sign_in(out.sara.email)
    submit(client, out, out.social, stance="approves", summary="Första svaret.")
    frozen_clock.set(JUST_BEFORE)

    form = client.get(reply_url(out.social)).text
    submit(client, out, out.social, stance="rejects", summary="Nämnden har ändrat sig.", case_reference="SN 2")
    deliver(runner)

    assert form_values(form)["summary"] == "Första svaret.", "amending starts from what was sent"
    first, second = versions_of(session, out.social)
    assert (first.number, first.content["stance"], first.content["summary"]) == (1, "approves", "Första svaret.")
    assert (second.number, second.content["stance"], second.content["summary"]) == (
        2, "rejects", "Nämnden har ändrat sig.")
    assert not second.late and second.submitted_at == JUST_BEFORE
    assert [a.get_filename() for m in smtp.to("sn@kommun.example") for a in m.iter_attachments()] == [
        "remissvar-SN-version-1.docx", "remissvar-SN-version-2.docx"]
    referral_page = client.get(f"/referrals/{out.social.id}").text
    assert "Version 2, inkom" in referral_page and "Version 1, inkom" in referral_page
    client.sign_out()
    client.sign_in(out.officer.email)
    assert "Första svaret." in client.get(f"/referrals/{out.social.id}/versions/1").text
    assert "Nämnden har ändrat sig." in client.get(f"/referrals/{out.social.id}/versions/2").text
    row = board_row(show_board(client, out), "Socialnämnden")
    assert "avstyrker" in row and "SN 2" in row and "tillstyrker" not in row, "the latest version counts"
    assert f'href="/referrals/{out.social.id}/versions/2"' in show_board(client, out)


def test_an_amendment_saved_but_not_sent_is_not_what_the_officer_sees(client, out, session):
    client.sign_in(out.sara.email)
    submit(client, out, out.social, stance="approves", case_reference="SN 1", summary="Det inskickade svaret.")
    save(client, out, out.social, stance="rejects", case_reference="SN HEMLIGT", summary="Ett osänt utkast.")
    client.sign_out()
    client.sign_in(out.officer.email)

    board = show_board(client, out)
    csv = client.get(f"/rounds/{out.round.id}/board.csv").text
    referral_page = client.get(f"/referrals/{out.social.id}").text

    row = board_row(board, "Socialnämnden")
    assert "tillstyrker" in row and "SN 1" in row
    assert "avstyrker" not in row and "SN HEMLIGT" not in row
    assert "SN HEMLIGT" not in csv and "avstyrker" not in csv
    assert "Ett osänt utkast." not in referral_page
    assert "Ett osänt utkast." not in client.get(f"/referrals/{out.social.id}/versions/1").text


# ---------------------------------------------------------------- the deadline

def test_after_the_deadline_a_submitted_reply_is_locked_and_what_was_typed_stays(client, out, session,
                                                                                 frozen_clock):
    client.sign_in(out.sara.email)
    submit(client, out, out.social, summary="Det inskickade svaret.")
    frozen_clock.set(AFTER_DEADLINE)

    form = client.get(reply_url(out.social))
    refused = save(client, out, out.social, version=version_in(form.text), summary="En sen ändring som inte får gå förlorad.",
                   comments={"Inledning": "Också den här kommentaren."})

    assert LOCKED_MESSAGE in form.text
    assert refused.status_code == 422
    assert LOCKED_MESSAGE in refused.text
    values = form_values(refused.text)
    assert values["summary"] == "En sen ändring som inte får gå förlorad."
    assert values[f"comment_{out.sections['Inledning'].id}"] == "Också den här kommentaren."
    assert response_of(session, out.social).summary == "Det inskickade svaret."
    sent = client.post(f"/referrals/{out.social.id}/reply/confirm", {"version": version_in(form.text)})
    assert sent.status_code == 422 and LOCKED_MESSAGE in sent.text
    assert [v.number for v in versions_of(session, out.social)] == [1]
    assert "låst efter sista svarsdag" in client.get(f"/referrals/{out.social.id}").text


def test_the_last_minute_of_the_deadline_day_is_still_in_time(client, out, session, frozen_clock):
    client.sign_in(out.sara.email)
    frozen_clock.set(JUST_BEFORE)

    submit(client, out, out.social)

    (version,) = versions_of(session, out.social)
    assert not version.late


def test_a_reply_submitted_after_the_deadline_is_accepted_and_marked_late(client, out, session, frozen_clock,
                                                                          runner, smtp):
    frozen_clock.set(AFTER_DEADLINE)
    client.sign_in(out.sara.email)

    save(client, out, out.social, action="submit", summary="Förlåt dröjsmålet.")
    confirmation = client.get(f"/referrals/{out.social.id}/reply/confirm").text
    confirm_and_send(client, out.social)
    deliver(runner)

    assert "Svaret tas emot men markeras som sent." in confirmation
    (version,) = versions_of(session, out.social)
    assert version.late and version.submitted_at == AFTER_DEADLINE
    assert reload(session, out.social).state == ReferralState.SUBMITTED
    assert "Svaret kom in efter sista svarsdag." in mail_text(smtp.to("sara@kommun.example")[0])
    assert "Svaret kom in efter sista svarsdag." in mail_text(smtp.to("stina.strateg@kommun.example")[0])
    client.sign_out()
    client.sign_in(out.officer.email)
    board = show_board(client, out)
    assert board_status(board, "Socialnämnden") == "late"
    assert " sen " in f" {board_row(board, 'Socialnämnden')} "
    assert "1 av 2 har svarat." in board
    assert "(sen)" in client.get(f"/referrals/{out.social.id}/versions/1").text


def test_the_officer_reopens_a_locked_reply_and_the_next_submission_locks_it_again(
        client, out, session, frozen_clock, runner, smtp):
    secretary, officer = Client(client.app), Client(client.app)
    secretary.sign_in(out.sara.email)
    officer.sign_in(out.officer.email)
    submit(secretary, out, out.social, summary="Före sista svarsdag.")
    frozen_clock.set(AFTER_DEADLINE)
    assert "Öppna svaret igen" in show_board(officer, out)

    reopened = officer.post(f"/referrals/{out.social.id}/reopen")
    deliver(runner)

    assert reopened.status_code == 302
    assert reload(session, out.social).reopened
    assert "är öppnat igen" in officer.get(reopened.location).text
    assert {m["To"] for m in smtp.messages} >= {"sara@kommun.example", "sn@kommun.example"}
    assert any("Svaret är öppnat igen" in m["Subject"] for m in smtp.to("sara@kommun.example"))
    assert LOCKED_MESSAGE not in secretary.get(reply_url(out.social)).text

    submit(secretary, out, out.social, summary="Rättat efter sista svarsdag.")

    first, second = versions_of(session, out.social)
    assert second.content["summary"] == "Rättat efter sista svarsdag." and second.late
    assert not reload(session, out.social).reopened
    refused = save(secretary, out, out.social, summary="En gång till?")
    assert refused.status_code == 422 and LOCKED_MESSAGE in refused.text
    assert response_of(session, out.social).summary == "Rättat efter sista svarsdag."


def test_only_an_answered_reply_can_be_reopened(client, out, session):
    client.sign_in(out.officer.email)

    response = client.post(f"/referrals/{out.social.id}/reopen")

    assert response.status_code == 302
    assert "behöver inte öppnas" in client.get(response.location).text
    assert not reload(session, out.social).reopened


def test_an_anstand_moves_the_lock_and_the_lateness_with_the_deadline(client, out, session, frozen_clock):
    extension_requests.grant_extension(session, out.officer, NOW, out.social, deadline=date(2021, 4, 16))
    session.commit()
    client.sign_in(out.sara.email)
    submit(client, out, out.social, summary="Första.")
    frozen_clock.set(AFTER_DEADLINE)

    assert save(client, out, out.social, summary="Efter beviljat anstånd.").status_code == 302
    confirm_and_send(client, out.social)

    first, second = versions_of(session, out.social)
    assert second.content["summary"] == "Efter beviljat anstånd." and not second.late


# ---------------------------------------------------------------- avstår

@pytest.mark.parametrize("reason", ["Remissen berör inte nämndens ansvarsområde.", ""], ids=["reason", "none"])
def test_declining_is_one_step_with_an_optional_reason_and_counts_as_answered(client, out, session, runner,
                                                                              smtp, reason):
    client.sign_in(out.sara.email)
    page = client.get(f"/referrals/{out.social.id}/decline")

    declined = client.post(f"/referrals/{out.social.id}/decline", {"reason": reason})
    deliver(runner)

    assert page.status_code == 200 and "Det räknas som ett svar." in page.text
    assert declined.status_code == 302
    assert "avstår från att yttra sig är inskickat" in client.get(declined.location).text
    referral = reload(session, out.social)
    assert referral.state == ReferralState.DECLINED and referral.answered_at == NOW
    (version,) = versions_of(session, out.social)
    assert version.content["stance"] == Stance.ABSTAINS and version.content["summary"] == reason
    (receipt,) = smtp.to("sara@kommun.example")
    assert "avstår från att yttra sig" in mail_text(receipt)
    assert "avstår från att yttra sig" in mail_text(smtp.to("stina.strateg@kommun.example")[0])
    client.sign_out()
    client.sign_in(out.officer.email)
    board = show_board(client, out)
    assert board_status(board, "Socialnämnden") == "declined"
    assert "avstår" in board_row(board, "Socialnämnden")
    assert "1 av 2 har svarat." in board
    version_page = client.get(f"/referrals/{out.social.id}/versions/1").text
    assert "avstår från att yttra sig" in version_page
    if reason:
        assert reason in version_page


def test_a_body_that_declined_is_not_sent_its_unsent_comments_as_part_of_the_decline(client, out, session):
    client.sign_in(out.sara.email)
    save(client, out, out.social, summary="Ett halvfärdigt utkast.", comments={"Ansvar": "Osänd kommentar."})

    client.post(f"/referrals/{out.social.id}/decline", {"reason": "Nämnden avstår."})

    (version,) = versions_of(session, out.social)
    assert version.content["stance"] == Stance.ABSTAINS
    assert version.content["summary"] == "Nämnden avstår."
    assert version.content["comments"] == [] and version.content["general_comments"] == ""
    kept = response_of(session, out.social)
    assert kept.summary == "Ett halvfärdigt utkast." and [c.text for c in kept.comments] == ["Osänd kommentar."], \
        "declining loses none of the words drafted"
    client.sign_out()
    client.sign_in(out.officer.email)
    page = client.get(f"/referrals/{out.social.id}/versions/1").text
    assert "Osänd kommentar." not in page and "Ett halvfärdigt utkast." not in page


# ---------------------------------------------------------------- no lost words

def test_two_secretaries_saving_at_once_see_both_texts_and_nothing_is_overwritten(client, out, session, app):
    sara, sven = Client(app), Client(app)
    sara.sign_in(out.sara.email)
    sven.sign_in(out.sven.email)
    sara_version, sven_version = open_form(sara, out.social), open_form(sven, out.social)

    saved = save(sara, out, out.social, version=sara_version, summary="Saras sammanfattning.",
                 comments={"Ansvar": "Saras kommentar om ansvar."})
    conflict = save(sven, out, out.social, version=sven_version, summary="Svens sammanfattning.",
                    comments={"Ansvar": "Svens kommentar om ansvar."}, signatory_name="Sven Svensson")

    assert saved.status_code == 302
    assert conflict.status_code == 409
    assert "Två versioner av svaret" in conflict.text
    compared = text_of_page(conflict_section(conflict.text))
    assert "Sara Sekreterare sparade svaret medan du skrev." in compared
    assert "Saras sammanfattning." in compared and "Svens sammanfattning." in compared
    assert "Saras kommentar om ansvar." in compared and "Svens kommentar om ansvar." in compared
    values = form_values(conflict.text)
    assert values["summary"] == "Svens sammanfattning.", "Sven's text is still in the form"
    assert values[f"comment_{out.sections['Ansvar'].id}"] == "Svens kommentar om ansvar."
    assert values["signatory_name"] == "Sven Svensson"
    kept = response_of(session, out.social)
    assert kept.summary == "Saras sammanfattning." and kept.signatory_name == "Siv Ordförande"
    assert [c.text for c in kept.comments] == ["Saras kommentar om ansvar."]

    again = sven.post(reply_url(out.social), {**values, "action": "save"})

    assert again.status_code == 302
    kept = response_of(session, out.social)
    assert kept.summary == "Svens sammanfattning." and kept.signatory_name == "Sven Svensson"
    assert [c.text for c in kept.comments] == ["Svens kommentar om ansvar."]


def test_a_conflict_is_found_even_when_the_other_save_changed_only_a_comment(client, out, session, app):
    sara, sven = Client(app), Client(app)
    sara.sign_in(out.sara.email)
    sven.sign_in(out.sven.email)
    assert save(sara, out, out.social, summary="Gemensam sammanfattning.").status_code == 302
    sara_version, sven_version = open_form(sara, out.social), open_form(sven, out.social)

    # The same instant (the clock is frozen): only the comment differs from what is stored.
    saved = save(sara, out, out.social, version=sara_version, summary="Gemensam sammanfattning.",
                 comments={"Inledning": "Saras enda ändring."})
    conflict = save(sven, out, out.social, version=sven_version, summary="Gemensam sammanfattning.",
                    comments={"Syfte och mål": "Svens enda ändring."})

    assert saved.status_code == 302
    assert conflict.status_code == 409
    assert "Saras enda ändring." in text_of_page(conflict_section(conflict.text))
    assert [c.text for c in response_of(session, out.social).comments] == ["Saras enda ändring."]


def test_two_secretaries_starting_the_first_draft_at_once_do_not_overwrite_each_other(client, out, session,
                                                                                        app):
    sara, sven = Client(app), Client(app)
    sara.sign_in(out.sara.email)
    sven.sign_in(out.sven.email)
    assert open_form(sara, out.social) == open_form(sven, out.social) == ""

    assert save(sara, out, out.social, version="", summary="Sara var först.").status_code == 302
    conflict = save(sven, out, out.social, version="", summary="Sven kom sedan.")

    assert conflict.status_code == 409
    assert form_values(conflict.text)["summary"] == "Sven kom sedan."
    assert response_of(session, out.social).summary == "Sara var först."


def test_sending_a_reply_someone_changed_after_the_confirmation_page_was_opened_is_refused(
        client, out, session, app):
    sara, sven = Client(app), Client(app)
    sara.sign_in(out.sara.email)
    sven.sign_in(out.sven.email)
    save(sara, out, out.social, action="submit", summary="Det Sara granskade.")
    confirmation = sara.get(f"/referrals/{out.social.id}/reply/confirm").text
    save(sven, out, out.social, summary="Sven ändrade under tiden.")

    refused = sara.post(f"/referrals/{out.social.id}/reply/confirm", {"version": version_in(confirmation)})

    assert refused.status_code in (409, 422)
    assert "Någon annan har sparat svaret" in refused.text
    assert "Sven ändrade under tiden." in refused.text, "the page shows what would now be sent"
    assert versions_of(session, out.social) == []


# ---------------------------------------------------------------- the officer registers

def test_the_officer_registers_a_reply_that_came_by_mail(client, out, session, runner, smtp):
    client.sign_in(out.officer.email)
    form = client.get(f"/referrals/{out.environment.id}/register")

    registered = client.post(f"/referrals/{out.environment.id}/register", {
        **reply_fields(out, stance="approves", summary="Inkom per e-post.", case_reference="MN 2021/9"),
        "received_on": "2021-01-25"})
    deliver(runner)

    assert form.status_code == 200
    assert registered.status_code == 302 and registered.location.endswith(f"/rounds/{out.round.id}")
    assert "Svaret från Miljönämnden är registrerat (version 1)." in client.get(registered.location).text
    referral = reload(session, out.environment)
    assert referral.state == ReferralState.SUBMITTED
    (version,) = versions_of(session, out.environment)
    assert version.submitted_by_id == out.officer.id
    assert version.content["registered_by_officer"] is True
    assert version.content["received_on"] == "2021-01-25"
    assert version.content["summary"] == "Inkom per e-post."
    page = client.get(f"/referrals/{out.environment.id}/versions/1").text
    assert "<dt>Inkom</dt><dd>måndag 25 januari 2021</dd>" in page  # the day it came in, not when registered
    assert "<dt>Registrerat</dt><dd>av kommunen onsdag 27 januari 2021 kl. 10.00</dd>" in page
    row = board_row(show_board(client, out), "Miljönämnden")
    assert "tillstyrker" in row and "MN 2021/9" in row
    assert {m["To"] for m in smtp.messages} >= {"mn@kommun.example", "mia@kommun.example"}


def test_the_officer_registers_a_decline_that_came_by_mail(client, out, session):
    client.sign_in(out.officer.email)

    registered = client.post(f"/referrals/{out.environment.id}/register", {
        **reply_fields(out, stance="", summary="Avstår, enligt mejl."), "received_on": "2021-01-26",
        "declined": "y"})

    assert registered.status_code == 302
    assert reload(session, out.environment).state == ReferralState.DECLINED
    (version,) = versions_of(session, out.environment)
    assert version.content["stance"] == Stance.ABSTAINS and version.content["registered_by_officer"] is True


def test_a_registration_needs_the_date_received_and_not_one_in_the_future(client, out, session):
    client.sign_in(out.officer.email)

    missing = client.post(f"/referrals/{out.environment.id}/register",
                          {**reply_fields(out, summary="Utan datum."), "received_on": ""})
    future = client.post(f"/referrals/{out.environment.id}/register",
                         {**reply_fields(out, summary="Från framtiden."), "received_on": "2021-02-15"})

    assert missing.status_code == 422 and form_values(missing.text)["summary"] == "Utan datum."
    assert future.status_code == 422 and "Ange när svaret kom in" in future.text
    assert form_values(future.text)["summary"] == "Från framtiden."
    assert versions_of(session, out.environment) == []


def test_the_officers_registration_form_never_shows_the_bodys_unsent_working_copy(client, out, session):
    client.sign_in(out.sara.email)
    save(client, out, out.social, summary="Nämndens hemliga utkast.", case_reference="SN HEMLIG",
         comments={"Ansvar": "Intern kommentar."})
    client.sign_out()
    client.sign_in(out.officer.email)

    form = client.get(f"/referrals/{out.social.id}/register")
    refused = client.post(f"/referrals/{out.social.id}/register",
                          {**reply_fields(out, stance="", summary="Officerens text."), "received_on": "2021-01-26"})

    assert form.status_code == 200
    values = form_values(form.text)
    assert values["summary"] == "" and values["case_reference"] == ""
    assert values[f"comment_{out.sections['Ansvar'].id}"] == ""
    for page in (form.text, refused.text):
        assert "Nämndens hemliga utkast." not in page and "SN HEMLIG" not in page
        assert "Intern kommentar." not in page
    assert refused.status_code == 422
    assert response_of(session, out.social).summary == "Nämndens hemliga utkast.", "a refusal changes nothing"


def test_a_body_amending_a_registered_reply_is_no_longer_recorded_as_registered_by_the_officer(
        client, out, session):
    officer, secretary = Client(client.app), Client(client.app)
    officer.sign_in(out.officer.email)
    officer.post(f"/referrals/{out.social.id}/register", {
        **reply_fields(out, summary="Kom på papper."), "received_on": "2021-01-25"})
    secretary.sign_in(out.sara.email)

    submit(secretary, out, out.social, summary="Nämnden rättar själv.")

    first, second = versions_of(session, out.social)
    assert first.content["registered_by_officer"] is True
    assert second.content["registered_by_officer"] is False and second.content["received_on"] is None
    assert second.submitted_by_id == out.sara.id
    page = officer.get(f"/referrals/{out.social.id}/versions/2").text
    assert "av kommunen" not in page


# ---------------------------------------------------------------- who sees what

def test_the_officer_cannot_open_a_bodys_working_copy_or_its_attachments(client, out, session):
    client.sign_in(out.sara.email)
    save(client, out, out.social, summary="Bara för nämnden.")
    client.post(f"{reply_url(out.social)}/attachments", {"file": (io.BytesIO(PDF), "utkast.pdf")})
    (attachment,) = session.scalars(select(ResponseAttachment)).all()
    client.sign_out()
    client.sign_in(out.officer.email)

    for method, url in [("GET", reply_url(out.social)), ("POST", reply_url(out.social)),
                        ("GET", f"{reply_url(out.social)}/confirm"), ("POST", f"{reply_url(out.social)}/confirm"),
                        ("GET", f"{reply_url(out.social)}/attachments/{attachment.id}"),
                        ("POST", f"{reply_url(out.social)}/attachments/{attachment.id}/delete"),
                        ("POST", f"{reply_url(out.social)}/attachments"),
                        ("GET", f"/referrals/{out.social.id}/decline"), ("GET", f"{reply_url(out.social)}/import")]:
        response = client.get(url) if method == "GET" else client.post(url, {"summary": "Strategen skriver."})
        assert response.status_code == 404, f"{method} {url}: {response.status_code}"
        assert "Bara för nämnden." not in response.text
    assert "Bara för nämnden." not in client.get(f"/referrals/{out.social.id}").text
    assert response_of(session, out.social).summary == "Bara för nämnden."
    assert session.scalar(select(ResponseAttachment.id)) == attachment.id


def test_a_secretary_of_another_body_gets_404_on_every_reply_route(client, out, session, app):
    sara = Client(app)
    sara.sign_in(out.sara.email)
    submit(sara, out, out.social, summary="Socialnämndens svar.")
    save(sara, out, out.social, summary="Socialnämndens nya utkast.")
    sara.post(f"{reply_url(out.social)}/attachments", {"file": (io.BytesIO(PDF), "protokoll.pdf")})
    (attachment,) = session.scalars(select(ResponseAttachment)).all()
    client.sign_in(out.mia.email)
    base = f"/referrals/{out.social.id}"

    wrong = []
    for method, url in [
            ("GET", f"{base}/reply"), ("POST", f"{base}/reply"), ("GET", f"{base}/reply/confirm"),
            ("POST", f"{base}/reply/confirm"), ("GET", f"{base}/decline"), ("POST", f"{base}/decline"),
            ("GET", f"{base}/reply/import"), ("POST", f"{base}/reply/import"), ("POST", f"{base}/reply/attachments"),
            ("POST", f"{base}/reply/attachments/{attachment.id}/delete"),
            ("GET", f"{base}/reply/attachments/{attachment.id}"), ("GET", f"{base}/versions/1"),
            ("GET", f"{base}/versions/1/document"), ("GET", f"{base}/register"), ("POST", f"{base}/register"),
            ("POST", f"{base}/reopen"),
            # Through Mia's own referral, the other body's attachment is still out of reach.
            ("GET", f"/referrals/{out.environment.id}/reply/attachments/{attachment.id}"),
            ("POST", f"/referrals/{out.environment.id}/reply/attachments/{attachment.id}/delete")]:
        data = {**reply_fields(out, summary="Mia skriver över."), "version": "99", "received_on": "2021-01-26",
                "reason": "Mia avstår."}
        response = client.get(url) if method == "GET" else client.post(url, data)
        if response.status_code != 404:
            wrong.append(f"{method} {url}: {response.status_code}")
        assert "Socialnämndens" not in response.text, url
    assert not wrong, "\n".join(wrong)
    kept = response_of(session, out.social)
    assert kept.summary == "Socialnämndens nya utkast." and len(kept.attachments) == 1
    assert reload(session, out.social).state == ReferralState.SUBMITTED
    assert [v.number for v in versions_of(session, out.social)] == [1]
    assert reload(session, out.environment).state == ReferralState.INVITED


def test_a_secretary_reads_the_versions_of_their_own_body(client, out, session):
    client.sign_in(out.sara.email)
    submit(client, out, out.social, summary="Vårt svar.")

    page = client.get(f"/referrals/{out.social.id}/versions/1")

    assert page.status_code == 200 and "Vårt svar." in page.text
    assert client.get(f"/referrals/{out.social.id}/versions/2").status_code == 404


def test_the_officer_gets_404_for_a_version_that_does_not_exist(client, out, session):
    client.sign_in(out.sara.email)
    submit(client, out, out.social)
    client.sign_out()
    client.sign_in(out.officer.email)

    assert client.get(f"/referrals/{out.social.id}/versions/1").status_code == 200
    assert client.get(f"/referrals/{out.environment.id}/versions/1").status_code == 404
    assert client.get(f"/referrals/{out.social.id}/versions/2").status_code == 404
    assert client.get(f"/referrals/{out.social.id}/versions/{2**40}").status_code == 404


# ---------------------------------------------------------------- attachments

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def word_file(text="Protokollsutdrag, Socialnämnden 2021-03-17 § 42.") -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def macro_file() -> bytes:
    """A Word file with a VBA project, as Word saves a .docm."""
    import zipfile

    data = io.BytesIO(word_file())
    out = io.BytesIO()
    with zipfile.ZipFile(data) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0macro")
    return out.getvalue()


def attach(client, referral, data: bytes, filename: str, description=""):
    return client.post(f"{reply_url(referral)}/attachments",
                       {"file": (io.BytesIO(data), filename), "description": description})


def test_a_pdf_and_a_word_file_are_attached_downloaded_sent_along_and_removed(client, out, session):
    client.sign_in(out.sara.email)

    pdf = attach(client, out.social, PDF, "protokollsutdrag.pdf", "Justerat protokoll")
    word = attach(client, out.social, word_file(), "tjänsteskrivelse.docx")

    assert pdf.status_code == 302 and word.status_code == 302
    assert pdf.location.endswith("/reply#bilagor")
    assert reload(session, out.social).state == ReferralState.IN_PROGRESS
    attachments = {a.file.filename: a for a in response_of(session, out.social).attachments}
    assert attachments["protokollsutdrag.pdf"].file.content_type == "application/pdf"
    assert attachments["tjänsteskrivelse.docx"].file.content_type == DOCX_TYPE
    assert attachments["protokollsutdrag.pdf"].description == "Justerat protokoll"
    page = client.get(reply_url(out.social)).text
    assert "protokollsutdrag.pdf" in page and "tjänsteskrivelse.docx" in page
    download = client.get(f"{reply_url(out.social)}/attachments/{attachments['protokollsutdrag.pdf'].id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.mimetype == "application/pdf"
    assert "attachment" in download.headers["Content-Disposition"]

    submit(client, out, out.social)
    (version,) = versions_of(session, out.social)
    assert {a["filename"] for a in version.content["attachments"]} == {"protokollsutdrag.pdf",
                                                                        "tjänsteskrivelse.docx"}

    removed = client.post(f"{reply_url(out.social)}/attachments/{attachments['tjänsteskrivelse.docx'].id}/delete")
    assert removed.status_code == 302
    assert [a.file.filename for a in response_of(session, out.social).attachments] == ["protokollsutdrag.pdf"]
    assert len(versions_of(session, out.social)[0].content["attachments"]) == 2, "a sent version stays as sent"


@pytest.mark.parametrize("data, filename, message", [
    (b"Det h\xc3\xa4r \xc3\xa4r bara text.\n", "beslut.pdf", "Filen är inte ett Word-dokument"),
    (b"Det h\xc3\xa4r \xc3\xa4r bara text.\n", "beslut.docx", "Filen är inte ett Word-dokument"),
    (b"", "tom.pdf", "Filen är tom."),
    (None, "med-makron.docm", "Filen innehåller makron"),
    (None, "med-makron.docx", "Filen innehåller makron"),
], ids=["text-as-pdf", "text-as-docx", "empty", "docm", "macros-named-docx"])
def test_an_attachment_that_is_not_a_clean_pdf_or_word_file_is_refused(client, out, session, data, filename,
                                                                       message):
    client.sign_in(out.sara.email)
    save(client, out, out.social, summary="Texten finns kvar.")

    refused = attach(client, out.social, macro_file() if data is None else data, filename)

    assert refused.status_code == 422
    assert message in refused.text
    assert form_values(refused.text)["summary"] == "Texten finns kvar."
    assert session.scalars(select(ResponseAttachment)).all() == []


def test_an_attachment_larger_than_the_limit_is_refused(client, out, session, app):
    app.config["MAX_UPLOAD_SIZE"] = 1024
    client.sign_in(out.sara.email)

    refused = attach(client, out.social, PDF + b"0" * 2048, "stor.pdf")

    assert refused.status_code in (413, 422)
    assert "Filen är större än" in refused.text
    assert session.scalars(select(ResponseAttachment)).all() == []


def test_an_upload_without_a_file_is_refused_with_a_message(client, out, session):
    client.sign_in(out.sara.email)

    refused = client.post(f"{reply_url(out.social)}/attachments", {"description": "Ingen fil"})

    assert refused.status_code == 422 and "Välj en fil att bifoga." in refused.text


def test_no_attachment_can_be_added_or_removed_once_the_reply_is_locked(client, out, session, frozen_clock):
    client.sign_in(out.sara.email)
    attach(client, out.social, PDF, "protokoll.pdf")
    submit(client, out, out.social)
    (attachment,) = session.scalars(select(ResponseAttachment)).all()
    frozen_clock.set(AFTER_DEADLINE)

    added = attach(client, out.social, PDF, "sent.pdf")
    removed = client.post(f"{reply_url(out.social)}/attachments/{attachment.id}/delete")

    assert added.status_code == 422 and LOCKED_MESSAGE in added.text
    assert removed.status_code == 302 and LOCKED_MESSAGE in client.get(removed.location).text
    assert [a.file.filename for a in response_of(session, out.social).attachments] == ["protokoll.pdf"]


# ---------------------------------------------------------------- hostile input

RTL = "\u202eevil.exe\u200f"
LONG = ("Lång text. " * 1819)[:19996] + "Slut"  # 20,000 characters


def hostile_fields(out) -> dict:
    """Every text field of the reply with markup, a script, direction marks and, in the long ones,
    20,000 characters — each within the field's length."""
    return {
        "summary": f"<b>fet</b> <script>alert('s')</script> {RTL}\n{LONG}",
        "proposed_decision": f"<img src=x onerror=alert(1)> {RTL}\n{LONG}",
        "general_comments": f"</textarea><script>alert('g')</script> & {RTL}\n{LONG}",
        f"comment_{out.sections['Ansvar'].id}": f"<iframe src=//evil></iframe> {RTL}\n{LONG}",
        "case_reference": "<i>SN</i> 2021/1 \u202e",
        "deciding_body": "<script>alert('d')</script> \u200fnämnden",
        "decision_paragraph": "<u>4</u>2 \u202e",
        "signatory_name": '"><svg onload=alert(1)> \u202eSiv',
        "signatory_title": "<marquee>Ordförande</marquee> \u200f",
        "contact": "<a href=javascript:alert(1)>ring</a> \u202e 0480-450 000",
    }


def test_hostile_text_in_every_field_is_stored_as_typed_and_shown_escaped(client, out, session):
    assert len(LONG) == 20_000
    typed = hostile_fields(out)
    client.sign_in(out.sara.email)

    saved = save(client, out, out.social, **typed)
    form = client.get(reply_url(out.social)).text
    confirmation = client.get(f"/referrals/{out.social.id}/reply/confirm").text
    confirm_and_send(client, out.social)

    assert saved.status_code == 302
    stored = response_of(session, out.social)
    comments = {c.section_id: c.text for c in stored.comments}
    for name, value in typed.items():
        if name.startswith("comment_"):
            assert comments[int(name.removeprefix("comment_"))] == value
        elif name == "general_comments":
            assert comments[None] == value
        else:
            assert getattr(stored, name) == value, name
    values = form_values(form)
    for name, value in typed.items():
        assert values[name] == value, f"the form shows {name} as typed"
    (version,) = versions_of(session, out.social)
    assert version.content["summary"] == typed["summary"] and version.content["contact"] == typed["contact"]
    client.sign_out()
    client.sign_in(out.officer.email)
    page = client.get(f"/referrals/{out.social.id}/versions/1").text
    for html in (form, confirmation, page):
        assert "<script>" not in html and "<iframe" not in html and "<svg" not in html
        assert "<img src=x" not in html and "<marquee>" not in html and "<b>fet</b>" not in html
    for name in ("summary", "proposed_decision", "general_comments", "case_reference", "deciding_body",
                 "decision_paragraph", "signatory_name", "signatory_title", "contact"):
        assert unescape(typed[name].split("\n")[0]) in unescape(page), f"{name} is shown on the version page"
    assert "&lt;script&gt;alert(&#39;s&#39;)&lt;/script&gt;" in page
    assert "\u202eevil.exe\u200f" in page
    assert LONG in unescape(page)
    assert "<iframe src=//evil></iframe>" in unescape(page)
    document = client.get(f"/referrals/{out.social.id}/versions/1/document")
    assert document.status_code == 200 and "<script>alert('s')</script>" in docx_text(document.data)


@pytest.mark.parametrize("name", ["summary", "proposed_decision", "general_comments", "comment", "case_reference",
                                  "deciding_body", "decision_paragraph", "signatory_name", "signatory_title",
                                  "contact"])
def test_control_characters_are_refused_with_a_message_and_the_typed_text_kept(client, out, session, name):
    if name == "comment":
        name = f"comment_{out.sections['Inledning'].id}"
    client.sign_in(out.sara.email)
    save(client, out, out.social, summary="Sparad tidigare.")

    refused = save(client, out, out.social, **{"general_comments": "Detta ska finnas kvar.",
                                                name: "Inklistrat\x0bmed\x00styrtecken"})

    assert refused.status_code == 422
    assert CONTROL_MESSAGE in refused.text
    values = form_values(refused.text)
    if name != "general_comments":
        assert values["general_comments"] == "Detta ska finnas kvar."
    assert "Inklistrat" in values[name] and "styrtecken" in values[name]
    assert response_of(session, out.social).summary == "Sparad tidigare."


def test_a_decline_reason_with_control_characters_is_refused(client, out, session):
    client.sign_in(out.sara.email)

    refused = client.post(f"/referrals/{out.social.id}/decline", {"reason": "Avstår\x07 pip"})

    assert refused.status_code == 422 and CONTROL_MESSAGE in refused.text
    assert "Avstår" in form_values(refused.text)["reason"]
    assert reload(session, out.social).state == ReferralState.INVITED


def test_text_longer_than_a_field_holds_is_refused_and_kept(client, out, session):
    client.sign_in(out.sara.email)

    refused = save(client, out, out.social, case_reference="X" * 51, summary="Behålls.")

    assert refused.status_code == 422
    assert form_values(refused.text)["case_reference"] == "X" * 51
    assert form_values(refused.text)["summary"] == "Behålls."
    assert response_of(session, out.social) is None


# ---------------------------------------------------------------- the board stays cheap

def round_with_replies(session, officer, n: int):
    """A round to `n` bodies where, through the workflow, some submitted (some twice), some declined, some
    only drafted, and some asked for anstånd."""
    strategy = builders.create_strategy(session, officer=officer)
    recipients = [builders.create_body(session) for _ in range(n)]
    secretaries = {body.id: builders.create_secretary(session, body, password=None) for body in recipients}
    round_ = builders.create_round(session, strategy, recipients)
    section = round_.draft.sections[0]
    for i, referral in enumerate(round_.referrals):
        secretary = secretaries[referral.body_id]
        draft = responses.ReplyDraft(responses.ReplyFields(stance=Stance.APPROVES, case_reference=f"D {i}",
                                                           summary="Svar."), {section.id: f"Kommentar {i}."})
        if i % 5 in (1, 2):
            saved = responses.save_reply(session, secretary, NOW, referral, version=None, draft=draft)
            responses.submit_reply(session, secretary, NOW, referral, version=saved.lock_version)
            if i % 5 == 2:
                draft.fields.stance = Stance.REJECTS
                saved = responses.save_reply(session, secretary, NOW + timedelta(hours=1), referral,
                                             version=saved.lock_version, draft=draft)
                responses.submit_reply(session, secretary, NOW + timedelta(hours=1), referral,
                                       version=saved.lock_version)
        elif i % 5 == 3:
            responses.decline(session, secretary, NOW, referral, "Berör inte oss.")
        elif i % 5 == 4:
            responses.save_reply(session, secretary, NOW, referral, version=None, draft=draft)
        else:
            session.add(ExtensionRequest(referral_id=referral.id, state=ExtensionState.REQUESTED, reason="Tid.",
                                         requested_deadline=date(2021, 4, 16), requested_at=NOW))
    session.commit()
    return round_


@pytest.mark.parametrize("page", ["", "/board.csv"], ids=["board", "csv"])
def test_the_board_with_replies_runs_the_same_number_of_queries_for_5_and_for_200_bodies(
        client, session, count_queries, frozen_clock, monkeypatch, page):
    officer = builders.create_officer(session)
    with monkeypatch.context() as quick:  # the receipts' Word files are not what this test is about
        quick.setattr(receipts, "reply_document", lambda referral, version: b"PK")
        small, large = round_with_replies(session, officer, 5), round_with_replies(session, officer, 200)
    client.sign_in(officer.email)
    counts = {}
    for round_ in (small, large):
        assert client.get(f"/rounds/{round_.id}{page}").status_code == 200  # warm up
        with count_queries() as counted:
            response = client.get(f"/rounds/{round_.id}{page}")
        assert response.status_code == 200
        counts[len(round_.referrals)] = counted.count

    assert counts[5] == counts[200], counts
    assert counts[5] <= 15, counts
    board = client.get(f"/rounds/{large.id}").text
    assert "120 av 200 har svarat." in board
    assert board.count("/versions/2\"") == 40 and board.count("/versions/1\"") == 80


# ---------------------------------------------------------------- the board's own Word reply

KALMAR_REPLY = builders.KALMAR_DRAFT.with_name("kalmar-social-board-reply.docx")


@pytest.fixture
def kalmar_out(session, frozen_clock):
    """The Kalmar draft (as uploaded in Word) sent to the social board."""
    officer = builders.create_officer(session)
    strategy = builders.create_strategy(session, officer=officer, case_reference="KS 2020/0946")
    builders.create_docx_draft(session, strategy)
    social = builders.create_body(session, name="Socialnämnden", code="SN", mailbox="sn@kommun.example")
    sara = builders.create_secretary(session, social, email="sara@kommun.example")
    round_ = builders.create_round(session, strategy, [social])
    session.commit()
    return SimpleNamespace(referral=round_.referrals[0], sara=sara,
                           sections={s.heading: s for s in round_.draft.sections})


def test_importing_the_boards_word_reply_prefills_the_form_and_saves_nothing(client, session, kalmar_out):
    client.sign_in(kalmar_out.sara.email)
    referral_id = kalmar_out.referral.id

    from .test_reply_import import review_form

    review = client.post(f"/referrals/{referral_id}/reply/import",
                         {"file": (io.BytesIO(KALMAR_REPLY.read_bytes()), KALMAR_REPLY.name)},
                         content_type="multipart/form-data")
    assert review.status_code == 200, review.text
    page = client.post(f"/referrals/{referral_id}/reply/import/review", review_form(review.text).values,
                       content_type="multipart/form-data")

    assert page.status_code == 200, page.text
    values = form_values(page.text)
    assert values["case_reference"] == "SN 2021/0163.02.10"
    assert values["proposed_decision"].startswith("Socialnämnden överlämnar upprättat förslag till yttrande")
    filled = {name for name, text in values.items() if name.startswith("comment_") and text.strip()}
    expected = {f"comment_{kalmar_out.sections[h].id}"
                for h in ("Verksamhetsutveckling och extern finansiering", "Ansvar och organisation")}
    assert filled == expected
    assert "centralt placerad stödfunktion" in values[f"comment_{kalmar_out.sections['Verksamhetsutveckling och extern finansiering'].id}"]
    assert session.scalar(select(Response.id).where(Response.referral_id == referral_id)) is None

    values["action"] = "save"
    saved = client.post(f"/referrals/{referral_id}/reply", values)

    assert saved.status_code == 302
    session.expire_all()
    response = session.scalar(select(Response).where(Response.referral_id == referral_id))
    assert response.case_reference == "SN 2021/0163.02.10"
    assert {c.section.heading for c in response.comments if c.section} == {
        "Verksamhetsutveckling och extern finansiering", "Ansvar och organisation"}


def test_importing_a_file_that_is_not_word_keeps_the_form_and_says_why(client, session, kalmar_out):
    client.sign_in(kalmar_out.sara.email)

    page = client.post(f"/referrals/{kalmar_out.referral.id}/reply/import",
                       {"file": (io.BytesIO(b"%PDF-1.7 not word"), "svar.docx")}, content_type="multipart/form-data")

    assert page.status_code == 422
    assert "inte ett Word-dokument" in page.text


RACE_ONLY_ON_POSTGRESQL = "two transactions at once need PostgreSQL: SQLite serialises writers, so there is no race"


def _while_sara_saves_first(app, out, sven_acts):
    """Sara's first save of the social board's reply is made but not committed when Sven acts on the
    same untouched reply in another transaction; what Sven's action gave, once Sara commits."""
    import threading

    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from remiss.extensions import db
    from remiss.models import Referral, User

    first, second = Session(db.engine), Session(db.engine)
    outcome = {}

    def sven():
        with app.app_context():
            try:
                second.execute(text("SET lock_timeout = '10s'"))
                sven_acts(second, second.get(User, out.sven.id), second.get(Referral, out.social.id))
                second.commit()
                outcome["done"] = True
            except responses.EditConflict as conflict:  # what the form would show, read while in session
                outcome["conflict"] = (conflict.theirs.fields.summary, conflict.by.email if conflict.by else None)
            except Exception as error:  # anything else is the failure these tests are for
                outcome["error"] = error
            finally:
                second.rollback()

    try:
        responses.save_reply(first, first.get(User, out.sara.id), NOW, first.get(Referral, out.social.id),
                             version=None, draft=responses.ReplyDraft(responses.ReplyFields(summary="Saras.")))
        thread = threading.Thread(target=sven)
        thread.start()
        thread.join(1.0)
        assert thread.is_alive(), f"Sven did not wait for Sara's save to commit: {outcome}"
        first.commit()
        thread.join(15)
    finally:
        first.close()
        second.close()
    return outcome


def test_two_first_saves_at_once_make_one_working_copy_and_the_later_saver_is_told(app, database_url, session,
                                                                                    out):
    """Sara and Sven both open an empty reply and save at the same moment: neither found a working
    copy, so both insert one. The database lets one in; the other gets the edit conflict, with Sara's
    words, instead of an error page."""
    if not database_url.startswith("postgresql"):
        pytest.skip(RACE_ONLY_ON_POSTGRESQL)
    outcome = _while_sara_saves_first(app, out, lambda s, sven, referral: responses.save_reply(
        s, sven, NOW, referral, version=None, draft=responses.ReplyDraft(responses.ReplyFields(summary="Svens."))))
    assert set(outcome) == {"conflict"}, outcome
    assert outcome["conflict"] == ("Saras.", "sara@kommun.example")
    session.expire_all()
    (working,) = session.scalars(select(Response)).all()
    assert working.summary == "Saras."


def test_a_decline_while_another_makes_the_first_save_declines_on_that_working_copy(app, database_url, session,
                                                                                    out):
    if not database_url.startswith("postgresql"):
        pytest.skip(RACE_ONLY_ON_POSTGRESQL)
    outcome = _while_sara_saves_first(app, out, lambda s, sven, referral: responses.decline(
        s, sven, NOW, referral, "Berör inte nämnden."))
    assert set(outcome) == {"done"}, outcome
    session.expire_all()
    (working,) = session.scalars(select(Response)).all()
    assert working.summary == "Saras."  # the working copy is Sara's, untouched by the decline
    assert [v.content["stance"] for v in working.versions] == ["abstains"]
    assert session.get(Referral, out.social.id).state == ReferralState.DECLINED
