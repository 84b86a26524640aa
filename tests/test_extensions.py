"""Anstånd: a secretary asks for a later deadline with a reason; the officer grants (the asked date or
another) or refuses with a reason, or grants unasked. Each step is mailed and logged, and a grant moves
that one referral's deadline."""
import re
from datetime import date, datetime, timezone
from html import unescape
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from remiss import extension_requests, rounds
from remiss.models import AuditEvent, ExtensionRequest, ExtensionState, Referral, ReferralState

from . import builders

NOW = datetime(2021, 1, 27, 9, 0, tzinfo=timezone.utc)  # the frozen clock's default
SOCIAL_ADDRESSES = {"sn@kommun.example", "sara@kommun.example", "sven@kommun.example"}


@pytest.fixture
def out(session, frozen_clock):
    """A round out to the social board (two secretaries) and the environment board (one), due 26 March."""
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
    return SimpleNamespace(officer=officer, strategy=strategy, round=round_, social=by_body[social.id],
                           environment=by_body[environment.id], sara=sara, sven=sven, mia=mia)


def ask(client, referral, deadline="2021-04-16", reason="Nämnden sammanträder först den 14 april."):
    return client.post(f"/referrals/{referral.id}/extension", {"requested_deadline": deadline, "reason": reason})


def decide(client, referral, **fields):
    return client.post(f"/referrals/{referral.id}/extension-decision", fields)


def deliver(runner) -> None:
    result = runner.invoke("remiss", "outbox", "send")
    assert result.exit_code == 0, result.output


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def calendar_events(message) -> list:
    return [event for part in message.iter_attachments() if part.get_content_type() == "text/calendar"
            for event in Calendar.from_ical(part.get_content()).walk("VEVENT")]


def requests_of(session, referral) -> list[ExtensionRequest]:
    session.expire_all()
    return list(session.scalars(select(ExtensionRequest).where(ExtensionRequest.referral_id == referral.id)))


def reload(session, referral) -> Referral:
    session.expire_all()
    return session.get(Referral, referral.id)


def audit(session, action) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def board_row(html: str, name: str) -> str:
    """The text of the status board's row for one body."""
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        if re.search(rf'<th scope="row">{re.escape(name)}</th>', row):
            return " ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split())
    raise AssertionError(f"no row for {name}")


def pending_request(session, out, deadline=date(2021, 4, 16)) -> ExtensionRequest:
    request = builders.create_extension_request(session, out.social, out.sara, deadline=deadline,
                                                reason="Nämnden sammanträder först den 14 april.")
    session.commit()
    return request


# ---------------------------------------------------------------- the secretary asks

def test_the_secretary_reads_the_referral_with_its_deadline_and_a_form_to_ask_for_more_time(client, out):
    client.sign_in(out.sara.email)

    page = client.get(f"/referrals/{out.social.id}")

    assert page.status_code == 200
    assert "Remiss till Socialnämnden" in page.text
    assert "fredag 26 mars 2021 kl. 23.59" in page.text
    assert "Stina Strateg" in page.text
    assert f'action="/referrals/{out.social.id}/extension"' in page.text
    assert "Begär anstånd" in page.text


def test_secretary_asks_for_anstand_and_the_officer_is_mailed_a_link_to_decide(client, out, runner, smtp,
                                                                                 session):
    client.sign_in(out.sara.email)

    response = ask(client, out.social)
    deliver(runner)

    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert "Er begäran om anstånd är skickad till Stina Strateg." in page
    assert "Er begäran väntar på beslut." in page
    (request,) = requests_of(session, out.social)
    assert request.state == ExtensionState.REQUESTED and request.requested_deadline == date(2021, 4, 16)
    assert request.requested_by_id == out.sara.id and request.requested_at == NOW
    assert reload(session, out.social).deadline == date(2021, 3, 26), "asking moves nothing"
    (mail,) = smtp.messages
    assert mail["To"] == "stina.strateg@kommun.example"
    assert "Begäran om anstånd från Socialnämnden" in mail["Subject"]
    assert "16 april 2021" in text_of(mail) and "Nämnden sammanträder först den 14 april." in text_of(mail)
    (event,) = audit(session, "extension.requested")
    assert event.actor_id == out.sara.id and event.round_id == out.round.id and event.after == "2021-04-16"

    link = re.search(r"http://remiss\.test(/\S+)", text_of(mail)).group(1)
    client.sign_out()
    client.sign_in(out.officer.email)
    decision_page = client.get(urlsplit(link).path)
    assert decision_page.status_code == 200
    assert "Anstånd för Socialnämnden" in decision_page.text
    assert "Nämnden sammanträder först den 14 april." in decision_page.text
    assert 'value="2021-04-16"' in decision_page.text, "the asked date is filled in"


def test_a_secretary_of_another_body_gets_404_for_the_referral_and_the_request(client, out, session):
    client.sign_in(out.mia.email)

    assert client.get(f"/referrals/{out.social.id}").status_code == 404
    assert ask(client, out.social).status_code == 404
    assert requests_of(session, out.social) == []
    assert client.get(f"/referrals/{out.environment.id}").status_code == 200


def test_anstand_to_a_date_not_after_the_deadline_is_refused_keeping_what_was_typed(client, out, runner, smtp,
                                                                                      session):
    client.sign_in(out.sara.email)

    page = ask(client, out.social, deadline="2021-03-19", reason="Vi vill svara tidigare, men i lugn och ro.")

    assert page.status_code == 422
    assert "Begär ett datum efter nuvarande sista svarsdag." in page.text
    assert 'value="2021-03-19"' in page.text
    assert "Vi vill svara tidigare, men i lugn och ro." in page.text
    assert requests_of(session, out.social) == []
    deliver(runner)
    assert smtp.messages == []


@pytest.mark.parametrize("reason, message", [
    ("", "Fyll i fältet."),
    ("   ", "Skriv varför ni behöver mer tid"),
], ids=["empty", "blank"])
def test_anstand_without_a_reason_is_refused_in_swedish(client, out, session, reason, message):
    client.sign_in(out.sara.email)

    page = ask(client, out.social, deadline="2021-04-23", reason=reason)

    assert page.status_code == 422
    assert message in page.text
    assert 'value="2021-04-23"' in page.text
    assert requests_of(session, out.social) == []


def test_a_second_request_while_one_is_pending_is_refused(client, out, session):
    client.sign_in(out.sara.email)
    assert ask(client, out.social).status_code == 302

    page = ask(client, out.social, deadline="2021-04-30")

    assert page.status_code == 422
    assert "Det finns redan en begäran om anstånd som väntar på beslut." in page.text
    assert "Er begäran väntar på beslut." in page.text
    assert [r.requested_deadline for r in requests_of(session, out.social)] == [date(2021, 4, 16)]


def test_a_withdrawn_referral_needs_no_anstand(client, out, session):
    rounds.withdraw_referral(session, out.officer, NOW, out.social, "Fel mottagare.")
    session.commit()
    client.sign_in(out.sara.email)

    page = ask(client, out.social)

    assert page.status_code == 422
    assert "Remissen är redan besvarad eller avslutad; anstånd behövs inte." in page.text
    assert requests_of(session, out.social) == []


def test_an_officer_cannot_ask_for_anstand_on_a_bodys_behalf(client, out, session):
    client.sign_in(out.officer.email)

    page = ask(client, out.social)

    assert page.status_code == 422
    assert "Du kan bara begära anstånd för dina egna remissinstanser." in page.text
    assert requests_of(session, out.social) == []


# ---------------------------------------------------------------- the officer decides

def test_officer_grants_the_asked_date_which_moves_that_referral_only_and_mails_the_body(
        client, out, runner, smtp, session):
    request = pending_request(session, out)
    deliver(runner)
    smtp.clear()
    client.sign_in(out.officer.email)

    response = decide(client, out.social, decision="grant", deadline="2021-04-16", reason="")
    deliver(runner)

    assert response.status_code == 302 and response.headers["Location"].endswith(f"/rounds/{out.round.id}")
    social, environment = reload(session, out.social), reload(session, out.environment)
    assert social.deadline == date(2021, 4, 16) and social.deadline_sequence == 1
    assert environment.deadline == date(2021, 3, 26) and environment.deadline_sequence == 0
    assert session.get(ExtensionRequest, request.id).state == ExtensionState.GRANTED
    assert session.get(ExtensionRequest, request.id).granted_deadline == date(2021, 4, 16)
    assert session.get(ExtensionRequest, request.id).decided_by_id == out.officer.id
    assert {m["To"] for m in smtp.messages} == SOCIAL_ADDRESSES
    for mail in smtp.messages:
        assert "Anstånd beviljat" in mail["Subject"]
        assert "fredag 16 april 2021 kl. 23.59" in text_of(mail)
        (event,) = calendar_events(mail)
        assert event["DTSTART"].dt == date(2021, 4, 16)
        assert event["SEQUENCE"] == 1
        assert str(event["UID"]) == f"referral-{out.social.id}@remiss.test"
    (event,) = audit(session, "extension.granted")
    assert (event.before, event.after) == ("2021-03-26", "2021-04-16") and event.actor_id == out.officer.id
    client.sign_out()
    client.sign_in(out.sara.email)
    assert "fredag 16 april 2021 kl. 23.59" in client.get(f"/referrals/{out.social.id}").text


def test_officer_grants_another_date_than_the_one_asked_and_says_why(client, out, runner, smtp, session):
    pending_request(session, out)
    deliver(runner)
    smtp.clear()
    client.sign_in(out.officer.email)

    decide(client, out.social, decision="grant", deadline="2021-04-09",
           reason="Vi behöver svaren före beredningen den 12 april.")
    deliver(runner)

    assert reload(session, out.social).deadline == date(2021, 4, 9)
    assert {m["To"] for m in smtp.messages} == SOCIAL_ADDRESSES
    assert all("fredag 9 april 2021 kl. 23.59" in text_of(m) for m in smtp.messages)
    assert all("Vi behöver svaren före beredningen den 12 april." in text_of(m) for m in smtp.messages)


def test_officer_refuses_with_a_reason_and_the_body_is_told(client, out, runner, smtp, session):
    request = pending_request(session, out)
    deliver(runner)
    smtp.clear()
    client.sign_in(out.officer.email)

    response = decide(client, out.social, decision="refuse", deadline="",
                      reason="Kommunstyrelsen behandlar strategin i maj.")
    deliver(runner)

    assert response.status_code == 302
    session.expire_all()
    assert session.get(ExtensionRequest, request.id).state == ExtensionState.REFUSED
    social = reload(session, out.social)
    assert social.deadline == date(2021, 3, 26) and social.deadline_sequence == 0
    assert {m["To"] for m in smtp.messages} == SOCIAL_ADDRESSES
    for mail in smtp.messages:
        assert "Anstånd avslaget" in mail["Subject"]
        assert "Kommunstyrelsen behandlar strategin i maj." in text_of(mail)
        assert "fredag 26 mars 2021 kl. 23.59" in text_of(mail)
        assert calendar_events(mail) == [], "the deadline did not move"
    (event,) = audit(session, "extension.refused")
    assert (event.before, event.after) == ("requested", "refused")


def test_refusing_needs_a_reason(client, out, runner, smtp, session):
    request = pending_request(session, out)
    deliver(runner)
    smtp.clear()
    client.sign_in(out.officer.email)

    page = decide(client, out.social, decision="refuse", deadline="", reason="")

    assert page.status_code == 422
    assert "Skriv varför anståndet avslås" in page.text
    session.expire_all()
    assert session.get(ExtensionRequest, request.id).state == ExtensionState.REQUESTED
    deliver(runner)
    assert smtp.messages == []


def test_granting_a_date_not_after_the_current_deadline_is_refused(client, out, runner, smtp, session):
    pending_request(session, out)
    client.sign_in(out.officer.email)

    page = decide(client, out.social, decision="grant", deadline="2021-03-26", reason="")

    assert page.status_code == 422
    assert "Det nya datumet måste ligga efter nuvarande sista svarsdag." in page.text
    assert reload(session, out.social).deadline == date(2021, 3, 26)
    assert audit(session, "extension.granted") == []


def test_officer_grants_anstand_without_a_request(client, out, runner, smtp, session):
    client.sign_in(out.officer.email)

    form = client.get(f"/referrals/{out.environment.id}/extension-decision")
    response = decide(client, out.environment, deadline="2021-04-09", reason="Nämnden bad om det per telefon.")
    deliver(runner)

    assert form.status_code == 200 and "Ge anstånd" in form.text and 'name="decision"' not in form.text
    assert response.status_code == 302
    assert reload(session, out.environment).deadline == date(2021, 4, 9)
    assert reload(session, out.social).deadline == date(2021, 3, 26)
    (granted,) = requests_of(session, out.environment)
    assert granted.state == ExtensionState.GRANTED and granted.requested_by_id is None
    assert [m["To"] for m in smtp.messages] == ["mn@kommun.example", "mia@kommun.example"]
    assert "Nämnden bad om det per telefon." in text_of(smtp.messages[0])
    assert calendar_events(smtp.messages[0])[0]["SEQUENCE"] == 1
    assert len(audit(session, "extension.granted")) == 1


def test_a_secretary_cannot_decide_on_anstand(client, out, session):
    pending_request(session, out)
    client.sign_in(out.sara.email)

    assert client.get(f"/referrals/{out.social.id}/extension-decision").status_code == 404
    assert decide(client, out.social, decision="grant", deadline="2021-04-16").status_code == 404
    assert reload(session, out.social).deadline == date(2021, 3, 26)


def test_the_board_shows_pending_and_granted_anstand(client, out, session):
    pending_request(session, out)
    extension_requests.grant_extension(session, out.officer, NOW, out.environment, deadline=date(2021, 4, 9))
    session.commit()
    client.sign_in(out.officer.email)

    board = client.get(f"/rounds/{out.round.id}").text

    assert "begärt (16 april 2021)" in board_row(board, "Socialnämnden")
    assert "Besluta om anstånd" in board_row(board, "Socialnämnden")
    assert "beviljat" in board_row(board, "Miljönämnden")
    assert "9 april 2021" in board_row(board, "Miljönämnden")


def test_a_granted_anstand_keeps_the_body_from_being_overdue(client, out, frozen_clock, session):
    extension_requests.grant_extension(session, out.officer, NOW, out.social, deadline=date(2021, 4, 16))
    session.commit()
    frozen_clock.set(datetime(2021, 3, 29, 9, tzinfo=timezone.utc))
    client.sign_in(out.officer.email)

    board = client.get(f"/rounds/{out.round.id}").text

    assert "inbjuden" in board_row(board, "Socialnämnden") and "18 dagar kvar" in board_row(board, "Socialnämnden")
    assert "försenad" in board_row(board, "Miljönämnden") and "3 dagar sen" in board_row(board, "Miljönämnden")


def test_every_anstand_step_is_in_the_rounds_history(client, out, session):
    client.sign_in(out.sara.email)
    ask(client, out.social)
    client.sign_out()
    client.sign_in(out.officer.email)
    decide(client, out.social, decision="refuse", reason="Inte nu.")
    decide(client, out.environment, deadline="2021-04-09")

    history = unescape(client.get(f"/rounds/{out.round.id}/history").text)

    assert "Anstånd begärdes: Socialnämnden" in history
    assert "Anstånd avslogs: Socialnämnden" in history
    assert "Anstånd beviljades: Miljönämnden" in history
    assert "Sara Sekreterare" in history and "Stina Strateg" in history
    assert session.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action.like("extension.%"))) == 3
    assert session.scalar(select(func.count()).select_from(Referral)
                          .where(Referral.state == ReferralState.INVITED)) == 2
