"""Referral rounds as the officer runs them: prepare from a draft, review, launch, and every change after
launch (add a body, withdraw, move the deadline), each logged and mailed; the CLI and the demo."""
import re
from datetime import date, datetime, timezone
from html import unescape
from types import SimpleNamespace

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from remiss import extension_requests, rounds
from remiss.models import (
    AuditEvent, ExtensionRequest, ExtensionState, OutboxMessage, Referral, ReferralRound, ReferralState,
    RoundState,
)
from remiss.reply_template import read_reply_template

from . import builders

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
NOW = datetime(2021, 1, 27, 9, 0, tzinfo=timezone.utc)  # the frozen clock's default


# ---------------------------------------------------------------- helpers

@pytest.fixture
def office(session, frozen_clock):
    """An officer with a strategy and a draft; three boards, two companies, and their secretaries."""
    officer = builders.create_officer(session, name="Stina Strateg", email="stina.strateg@kommun.example")
    strategy = builders.create_strategy(session, officer=officer, title="Internationell strategi",
                                        case_reference="KS 2020/0946")
    draft = builders.create_draft(session, strategy)
    social = builders.create_body(session, name="Socialnämnden", code="SN", mailbox="sn@kommun.example")
    environment = builders.create_body(session, name="Miljönämnden", code="MN", mailbox="mn@kommun.example")
    culture = builders.create_body(session, name="Kultur- och fritidsnämnden", code="KFN",
                                   mailbox="kfn@kommun.example")
    housing = builders.create_body(session, name="Kalmarhem AB", kind="company", code="KHEM",
                                   mailbox="kalmarhem@kommun.example")
    water = builders.create_body(session, name="Kalmar Vatten AB", kind="company", code="KVAB",
                                 mailbox="kalmarvatten@kommun.example")
    sara = builders.create_secretary(session, social, email="sara@kommun.example", name="Sara Sekreterare")
    sven = builders.create_secretary(session, social, email="sven@kommun.example", name="Sven Sekreterare")
    karin = builders.create_secretary(session, housing, email="karin@kommun.example", name="Karin Bolagschef")
    vera = builders.create_secretary(session, water, email="vera@kommun.example", name="Vera Vatten")
    session.commit()
    return SimpleNamespace(officer=officer, strategy=strategy, draft=draft, social=social,
                           environment=environment, culture=culture, housing=housing, water=water,
                           sara=sara, sven=sven, karin=karin, vera=vera)


def round_form(office, bodies, **fields) -> dict:
    data = {
        "draft": str(office.draft.id), "deadline": "2021-03-26", "bodies": [str(b.id) for b in bodies],
        "reply_label": "Remissvar Internationell strategi",
        "cover_letter": "Kommunstyrelsens arbetsutskott önskar nämndernas och bolagens synpunkter.",
        "reminder_offsets": "-14,-7,-2,0,+1,+7", "contact": str(office.officer.id),
    }
    data.update(fields)
    return data


def prepare_round(client, office, bodies, **fields):
    return client.post(f"/strategies/{office.strategy.id}/rounds/new", round_form(office, bodies, **fields))


def round_id_of(response) -> int:
    assert response.status_code == 302, response.text
    return int(re.fullmatch(r".*/rounds/(\d+)", response.headers["Location"]).group(1))


def deliver(runner) -> str:
    result = runner.invoke("remiss", "outbox", "send")
    assert result.exit_code == 0, result.output
    return result.output


def recipients(smtp) -> set[str]:
    return {m["To"] for m in smtp.messages}


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def attachments(message, content_type):
    return [p for p in message.iter_attachments() if p.get_content_type() == content_type]


def deadline_event(message):
    """The VEVENT of the .ics attached to a mail, parsed back as a calendar would."""
    (ics,) = attachments(message, "text/calendar")
    assert ics.get_filename().endswith(".ics")
    (event,) = Calendar.from_ical(ics.get_content()).walk("VEVENT")
    return event


def checked_bodies(html: str) -> set[int]:
    """The ids of the bodies ticked in the round form's recipient list."""
    tags = re.findall(r"<input[^>]*name=\"bodies\"[^>]*>", html)
    return {int(re.search(r'value="(\d+)"', t).group(1)) for t in tags if re.search(r"\schecked[\s>=]", t)}


def audit_actions(session, round_id) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent.action).where(AuditEvent.round_id == round_id)
                                .order_by(AuditEvent.id)))


def get_round(session, round_id) -> ReferralRound:
    session.expire_all()
    return session.get(ReferralRound, round_id)


def referral_of(round_, body) -> Referral:
    return next(r for r in round_.referrals if r.body_id == body.id)


# ---------------------------------------------------------------- preparing a round

def test_the_new_round_form_suggests_a_deadline_the_reminders_the_label_and_the_officer(client, office):
    client.sign_in(office.officer.email)

    page = client.get(f"/strategies/{office.strategy.id}/rounds/new")

    assert page.status_code == 200
    # Six weeks (REFERRAL_MIN_WEEKS) from Wednesday 27 January, on a business day.
    assert 'value="2021-03-10"' in page.text
    assert 'value="-14,-7,-2,0,+1,+7"' in page.text
    assert 'value="Remissvar Internationell strategi"' in page.text
    assert re.search(rf'<option selected value="{office.officer.id}">Stina Strateg', page.text)
    assert "Alla nämnder" in page.text and "Alla bolag" in page.text


def test_officer_prepares_a_round_as_a_draft_and_nothing_is_sent(client, office, runner, smtp, session):
    client.sign_in(office.officer.email)

    round_id = round_id_of(prepare_round(client, office, [office.social, office.housing]))

    round_ = get_round(session, round_id)
    assert round_.state == RoundState.DRAFT and round_.launched_at is None
    assert round_.deadline == date(2021, 3, 26)
    assert round_.reply_label == "Remissvar Internationell strategi"
    assert round_.reminder_offsets == "-14,-7,-2,0,1,7"
    assert round_.contact_id == office.officer.id
    assert {r.body_id for r in round_.referrals} == {office.social.id, office.housing.id}
    assert audit_actions(session, round_id) == ["round.created"]
    assert "sent 0" in deliver(runner)
    assert smtp.messages == []
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_the_review_page_shows_the_cover_letter_the_recipients_and_the_launch_button(client, office):
    client.sign_in(office.officer.email)
    round_id = round_id_of(prepare_round(client, office, [office.social, office.housing]))

    page = client.get(f"/rounds/{round_id}")

    assert page.status_code == 200
    assert "Granska och skicka" in page.text
    assert "Remissen går till 2 remissinstanser." in page.text
    assert "Kommunstyrelsens arbetsutskott önskar nämndernas och bolagens synpunkter." in page.text
    assert "Socialnämnden" in page.text and "Kalmarhem AB" in page.text
    assert "fredag 26 mars 2021 kl. 23.59" in page.text
    assert f'action="/rounds/{round_id}/launch"' in page.text


def test_preparing_a_round_with_a_deadline_that_has_passed_is_refused(client, office, session):
    client.sign_in(office.officer.email)

    page = prepare_round(client, office, [office.social], deadline="2021-01-27", reply_label="Mitt eget")

    assert page.status_code == 422
    assert "Sista svarsdag måste ligga efter i dag." in page.text
    assert 'value="Mitt eget"' in page.text
    assert session.scalar(select(func.count()).select_from(ReferralRound)) == 0


def test_preparing_a_round_with_a_date_that_cannot_be_read_is_refused_in_swedish(client, office, session):
    client.sign_in(office.officer.email)

    page = prepare_round(client, office, [office.social], deadline="26/3")

    assert page.status_code == 422
    assert "Skriv datumet som ÅÅÅÅ-MM-DD" in page.text
    assert 'value="26/3"' in page.text
    assert session.scalar(select(func.count()).select_from(ReferralRound)) == 0


def test_quick_pick_all_boards_ticks_the_boards_and_keeps_what_was_typed(client, office, session):
    client.sign_in(office.officer.email)

    page = prepare_round(client, office, [], quick_pick="boards", deadline="2021-03-19",
                         reply_label="Remissvar märkt av mig", cover_letter="Mitt eget missiv.",
                         reminder_offsets="-7,0")

    assert page.status_code == 200
    assert checked_bodies(page.text) == {office.social.id, office.environment.id, office.culture.id}
    assert 'value="2021-03-19"' in page.text
    assert 'value="Remissvar märkt av mig"' in page.text
    assert "Mitt eget missiv." in page.text
    assert 'value="-7,0"' in page.text
    assert session.scalar(select(func.count()).select_from(ReferralRound)) == 0, "a quick pick saves nothing"


def test_quick_pick_all_companies_adds_to_the_bodies_already_ticked(client, office):
    client.sign_in(office.officer.email)

    page = prepare_round(client, office, [office.environment], quick_pick="companies")

    assert page.status_code == 200
    assert checked_bodies(page.text) == {office.environment.id, office.housing.id, office.water.id}


def test_quick_pick_as_an_earlier_round_ticks_its_recipients_and_then_saves(client, office, session):
    earlier_strategy = builders.create_strategy(session, officer=office.officer, case_reference="KS 2019/0100")
    earlier = builders.create_round(session, earlier_strategy, [office.culture, office.water])
    session.commit()
    client.sign_in(office.officer.email)

    form = client.get(f"/strategies/{office.strategy.id}/rounds/new")
    assert f'value="round-{earlier.id}"' in form.text and "Som remissen KS 2019/0100" in form.text
    page = prepare_round(client, office, [], quick_pick=f"round-{earlier.id}", cover_letter="Samma som förra.")

    assert checked_bodies(page.text) == {office.culture.id, office.water.id}
    assert "Samma som förra." in page.text
    saved = round_id_of(prepare_round(client, office, [office.culture, office.water],
                                      cover_letter="Samma som förra."))
    assert {r.body_id for r in get_round(session, saved).referrals} == {office.culture.id, office.water.id}


def test_officer_edits_a_prepared_round_before_launch(client, office, session):
    client.sign_in(office.officer.email)
    round_id = round_id_of(prepare_round(client, office, [office.social, office.housing]))

    page = client.get(f"/rounds/{round_id}/edit")
    assert page.status_code == 200
    assert checked_bodies(page.text) == {office.social.id, office.housing.id}
    response = client.post(f"/rounds/{round_id}/edit",
                           round_form(office, [office.social, office.water], deadline="2021-04-09",
                                      cover_letter="Ett bättre missiv."))

    assert response.status_code == 302
    round_ = get_round(session, round_id)
    assert round_.state == RoundState.DRAFT
    assert round_.deadline == date(2021, 4, 9) and round_.cover_letter == "Ett bättre missiv."
    assert {r.body_id for r in round_.referrals} == {office.social.id, office.water.id}
    assert all(r.deadline == date(2021, 4, 9) for r in round_.referrals)
    assert audit_actions(session, round_id) == ["round.created", "round.updated"]


# ---------------------------------------------------------------- deadline warnings (warn, never block)

@pytest.mark.parametrize("today, deadline, warning", [
    (NOW, "2021-03-27", "Sista svarsdag är inte en arbetsdag"),  # a Saturday
    (NOW, "2021-04-05", "Sista svarsdag är inte en arbetsdag"),  # Easter Monday
    (NOW, "2021-02-26", "Remisstiden är kortare än 6 veckor"),
    (datetime(2021, 11, 15, 9, tzinfo=timezone.utc), "2022-01-14", "Remisstiden går över jul och nyår"),
    (datetime(2021, 5, 31, 9, tzinfo=timezone.utc), "2021-08-27", "Remisstiden går över juli"),
], ids=["saturday", "holiday", "short", "christmas", "july"])
def test_a_doubtful_deadline_warns_but_the_round_still_launches(client, office, frozen_clock, session, today,
                                                                 deadline, warning):
    frozen_clock.set(today)
    client.sign_in(office.officer.email)

    round_id = round_id_of(prepare_round(client, office, [office.social], deadline=deadline))
    review = client.get(f"/rounds/{round_id}")
    launched = client.post(f"/rounds/{round_id}/launch")

    assert warning in review.text
    assert launched.status_code == 302
    assert get_round(session, round_id).state == RoundState.OPEN


def test_a_good_deadline_gets_no_warning(client, office):
    client.sign_in(office.officer.email)

    round_id = round_id_of(prepare_round(client, office, [office.social], deadline="2021-03-26"))

    assert "Tänk på" not in client.get(f"/rounds/{round_id}").text


def test_the_minimum_referral_period_is_configurable(app, client, office):
    app.config["REFERRAL_MIN_WEEKS"] = 10
    client.sign_in(office.officer.email)

    round_id = round_id_of(prepare_round(client, office, [office.social], deadline="2021-03-26"))

    assert "Remisstiden är kortare än 10 veckor" in client.get(f"/rounds/{round_id}").text


def test_the_form_warns_while_the_officer_is_still_choosing(client, office):
    client.sign_in(office.officer.email)

    page = prepare_round(client, office, [], quick_pick="boards", deadline="2021-03-27")

    assert page.status_code == 200
    assert "Sista svarsdag är inte en arbetsdag" in page.text


# ---------------------------------------------------------------- launching

@pytest.fixture
def kalmar_draft(session, office):
    """The real Kalmar draft (.docx), as a second version of the strategy."""
    draft = builders.create_docx_draft(session, office.strategy)
    session.commit()
    return draft


def test_launching_mails_each_body_and_its_secretaries_the_draft_the_letter_and_a_calendar_event(
        client, office, kalmar_draft, runner, smtp, session):
    client.sign_in(office.officer.email)
    round_id = round_id_of(prepare_round(client, office, [office.social, office.housing, office.environment],
                                         draft=str(kalmar_draft.id)))

    launched = client.post(f"/rounds/{round_id}/launch")
    deliver(runner)

    assert launched.status_code == 302
    assert "Remissen är utskickad till 3 remissinstanser." in client.get(launched.headers["Location"]).text
    assert recipients(smtp) == {"sn@kommun.example", "sara@kommun.example", "sven@kommun.example",
                                "kalmarhem@kommun.example", "karin@kommun.example", "mn@kommun.example"}
    assert len(smtp.messages) == 6, "one invitation per address"
    round_ = get_round(session, round_id)
    docx = kalmar_draft.outgoing_file.data  # the clean copy: the Kalmar file names its author
    for message in smtp.messages:
        text = text_of(message)
        assert message["Reply-To"] == "stina.strateg@kommun.example"
        assert "KS 2020/0946" in message["Subject"]
        assert "fredag 26 mars 2021 kl. 23.59" in text
        assert "Remissvar Internationell strategi" in text
        assert "Kommunstyrelsens arbetsutskott önskar nämndernas och bolagens synpunkter." in text
        attached, template = attachments(message, DOCX_TYPE)
        assert attached.get_filename() == "kalmar-strategy-draft.docx"
        assert attached.get_content() == docx
        # The svarsmall made for this body: it names the body and reads back as a template.
        assert template.get_filename().startswith("svarsmall-KS-2020-0946-")
        filled = read_reply_template(template.get_content())
        assert filled is not None and filled.draft_version == kalmar_draft.version
        event = deadline_event(message)
        assert event["DTSTART"].dt == date(2021, 3, 26)
        assert event["SEQUENCE"] == 0
    expected = {office.social: {"sn@kommun.example", "sara@kommun.example", "sven@kommun.example"},
                office.housing: {"kalmarhem@kommun.example", "karin@kommun.example"},
                office.environment: {"mn@kommun.example"}}
    for body, addresses in expected.items():
        referral = referral_of(round_, body)
        to_body = [m for m in smtp.messages if m["To"] in addresses]
        assert all(f"Till {body.name}" in text_of(m) for m in to_body)
        assert all(f"http://remiss.test/referrals/{referral.id}" in text_of(m) for m in to_body)
        assert {str(deadline_event(m)["UID"]) for m in to_body} == {f"referral-{referral.id}@remiss.test"}


def test_replies_to_an_invitation_go_to_the_contact_person_chosen_for_the_round(client, office, runner, smtp,
                                                                               session):
    colleague = builders.create_officer(session, name="Kalle Kollega", email="kalle@kommun.example")
    session.commit()
    client.sign_in(office.officer.email)
    round_id = round_id_of(prepare_round(client, office, [office.environment], contact=str(colleague.id)))

    client.post(f"/rounds/{round_id}/launch")
    deliver(runner)

    (message,) = smtp.messages
    assert message["Reply-To"] == "kalle@kommun.example"
    assert "Kalle Kollega, kalle@kommun.example" in text_of(message)


def test_launching_creates_one_invited_referral_per_body_and_logs_it(client, office, runner, smtp, session):
    client.sign_in(office.officer.email)
    round_id = round_id_of(prepare_round(client, office, [office.social, office.housing]))

    client.post(f"/rounds/{round_id}/launch")

    round_ = get_round(session, round_id)
    assert round_.state == RoundState.OPEN and round_.launched_at == NOW
    assert sorted(r.body_id for r in round_.referrals) == sorted([office.social.id, office.housing.id])
    assert all(r.state == ReferralState.INVITED and r.invited_at == NOW and r.deadline == date(2021, 3, 26)
               for r in round_.referrals)
    assert audit_actions(session, round_id) == ["round.created", "round.launched"]
    assert "sent 5" in deliver(runner)


def test_launch_refuses_a_round_without_recipients(client, office, runner, smtp, session):
    client.sign_in(office.officer.email)
    round_id = round_id_of(prepare_round(client, office, []))

    page = client.post(f"/rounds/{round_id}/launch")

    assert page.status_code == 422
    assert "Välj minst en remissinstans innan du skickar remissen." in page.text
    assert get_round(session, round_id).state == RoundState.DRAFT
    deliver(runner)
    assert smtp.messages == []


def test_launch_refuses_a_deadline_that_has_passed_meanwhile(client, office, frozen_clock, runner, smtp, session):
    client.sign_in(office.officer.email)
    round_id = round_id_of(prepare_round(client, office, [office.social], deadline="2021-02-26"))
    frozen_clock.set(datetime(2021, 2, 27, 9, tzinfo=timezone.utc))

    page = client.post(f"/rounds/{round_id}/launch")

    assert page.status_code == 422
    assert "Sista svarsdag måste ligga efter i dag." in page.text
    assert get_round(session, round_id).state == RoundState.DRAFT
    deliver(runner)
    assert smtp.messages == []


def test_launching_twice_sends_the_invitations_once(client, office, runner, smtp, session):
    client.sign_in(office.officer.email)
    round_id = round_id_of(prepare_round(client, office, [office.environment]))
    assert client.post(f"/rounds/{round_id}/launch").status_code == 302

    again = client.post(f"/rounds/{round_id}/launch")
    deliver(runner)

    assert again.status_code == 422
    assert "Remissen är redan utskickad." in again.text
    assert [m["To"] for m in smtp.messages] == ["mn@kommun.example"]
    assert audit_actions(session, round_id).count("round.launched") == 1


def test_a_launched_round_cannot_be_edited(client, office, session):
    round_ = builders.create_round(session, office.strategy, [office.social])
    session.commit()
    client.sign_in(office.officer.email)

    page = client.get(f"/rounds/{round_.id}/edit", follow_redirects=True)
    posted = client.post(f"/rounds/{round_.id}/edit",
                         round_form(office, [office.social, office.water], deadline="2021-04-30"),
                         follow_redirects=True)

    for response in (page, posted):
        assert "Remissen är redan utskickad" in response.text
        assert "Spara och granska" not in response.text
    round_ = get_round(session, round_.id)
    assert round_.deadline == date(2021, 3, 26)
    assert [r.body_id for r in round_.referrals] == [office.social.id]
    assert "round.updated" not in audit_actions(session, round_.id)


def test_a_secretary_cannot_reach_the_officers_round_pages(client, office, session):
    round_ = builders.create_round(session, office.strategy, [office.social])
    session.commit()
    client.sign_in(office.sara.email)

    assert client.get(f"/rounds/{round_.id}").status_code == 404
    assert client.get(f"/strategies/{office.strategy.id}/rounds/new").status_code == 404
    assert client.post(f"/rounds/{round_.id}/deadline", {"deadline": "2021-04-30"}).status_code == 404
    assert client.post(f"/rounds/{round_.id}/bodies", {"body": str(office.water.id)}).status_code == 404
    assert client.get(f"/rounds/{round_.id}/board.csv").status_code == 404


# ---------------------------------------------------------------- after launch: add, withdraw, move

@pytest.fixture
def launched(session, office):
    """A round already out to the social board, the environment board and Kalmarhem, due 26 March."""
    round_ = builders.create_round(session, office.strategy, [office.social, office.environment, office.housing])
    session.commit()
    return round_


def test_officer_adds_a_body_with_its_own_deadline_and_only_that_body_is_mailed(
        client, office, launched, runner, smtp, session):
    client.sign_in(office.officer.email)

    response = client.post(f"/rounds/{launched.id}/bodies", {"body": str(office.water.id), "deadline": "2021-04-09"})
    deliver(runner)

    assert response.status_code == 302
    assert recipients(smtp) == {"kalmarvatten@kommun.example", "vera@kommun.example"}
    for message in smtp.messages:
        assert "fredag 9 april 2021 kl. 23.59" in text_of(message)
        assert deadline_event(message)["DTSTART"].dt == date(2021, 4, 9)
    round_ = get_round(session, launched.id)
    added = referral_of(round_, office.water)
    assert added.state == ReferralState.INVITED and added.deadline == date(2021, 4, 9) and added.invited_at == NOW
    assert round_.deadline == date(2021, 3, 26), "the others keep the round's deadline"
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "referral.added"))
    assert event.round_id == launched.id and event.after == "2021-04-09"
    assert event.detail["body"] == "Kalmar Vatten AB" and event.actor_id == office.officer.id


def test_a_body_added_without_its_own_deadline_gets_the_rounds(client, office, launched, runner, smtp, session):
    client.sign_in(office.officer.email)

    client.post(f"/rounds/{launched.id}/bodies", {"body": str(office.culture.id), "deadline": ""})
    deliver(runner)

    assert referral_of(get_round(session, launched.id), office.culture).deadline == date(2021, 3, 26)
    assert [m["To"] for m in smtp.messages] == ["kfn@kommun.example"]
    assert "fredag 26 mars 2021 kl. 23.59" in text_of(smtp.messages[0])


def test_adding_a_body_already_on_the_list_is_refused(client, office, launched, runner, smtp, session):
    client.sign_in(office.officer.email)

    page = client.post(f"/rounds/{launched.id}/bodies", {"body": str(office.social.id)})

    assert page.status_code == 422
    assert "Socialnämnden finns redan på sändlistan." in page.text
    deliver(runner)
    assert smtp.messages == []
    assert "referral.added" not in audit_actions(session, launched.id)


@pytest.mark.parametrize("chosen", ["", "987654"])
def test_adding_without_choosing_a_body_is_refused_and_the_deadline_typed_is_kept(client, office, launched, session,
                                                                                   chosen):
    client.sign_in(office.officer.email)

    page = client.post(f"/rounds/{launched.id}/bodies", {"body": chosen, "deadline": "2021-04-09"})

    assert page.status_code == 422
    assert "Välj en remissinstans." in page.text
    assert 'value="2021-04-09"' in page.text
    assert "referral.added" not in audit_actions(session, launched.id)


def test_officer_withdraws_a_referral_and_only_that_body_is_told_why(client, office, launched, runner, smtp,
                                                                       session):
    referral = referral_of(launched, office.social)
    client.sign_in(office.officer.email)

    form = client.get(f"/referrals/{referral.id}/withdraw")
    response = client.post(f"/referrals/{referral.id}/withdraw", {"reason": "Ärendet rör inte nämnden."})
    deliver(runner)

    assert "Återkalla remissen till Socialnämnden" in form.text
    assert response.status_code == 302
    assert recipients(smtp) == {"sn@kommun.example", "sara@kommun.example", "sven@kommun.example"}
    assert all("Ärendet rör inte nämnden." in text_of(m) for m in smtp.messages)
    assert all("återkallad" in m["Subject"] for m in smtp.messages)
    session.expire_all()
    assert session.get(Referral, referral.id).state == ReferralState.WITHDRAWN
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "referral.withdrawn"))
    assert (event.before, event.after) == ("invited", "withdrawn")
    assert event.detail == {"reason": "Ärendet rör inte nämnden.", "body": "Socialnämnden"}
    board = client.get(f"/rounds/{launched.id}").text
    assert "0 av 2 har svarat." in board


def test_withdrawing_needs_a_reason(client, office, launched, runner, smtp, session):
    referral = referral_of(launched, office.social)
    client.sign_in(office.officer.email)

    page = client.post(f"/referrals/{referral.id}/withdraw", {"reason": "   "})

    assert page.status_code == 422
    assert "Skriv varför remissen återkallas" in page.text
    session.expire_all()
    assert session.get(Referral, referral.id).state == ReferralState.INVITED
    deliver(runner)
    assert smtp.messages == []


def test_moving_the_deadline_mails_everyone_affected_a_new_date_and_an_updated_calendar_event(
        client, office, runner, smtp, session):
    client.sign_in(office.officer.email)
    round_id = round_id_of(prepare_round(client, office, [office.social, office.environment, office.housing]))
    client.post(f"/rounds/{round_id}/launch")
    deliver(runner)
    invitations = {m["To"]: deadline_event(m) for m in smtp.messages}
    withdrawn = referral_of(get_round(session, round_id), office.housing)
    client.post(f"/referrals/{withdrawn.id}/withdraw", {"reason": "Fel mottagare."})
    deliver(runner)
    smtp.clear()

    response = client.post(f"/rounds/{round_id}/deadline",
                           {"deadline": "2021-04-09", "reason": "Påsken kom emellan."})
    deliver(runner)

    assert response.status_code == 302
    assert recipients(smtp) == {"sn@kommun.example", "sara@kommun.example", "sven@kommun.example",
                                "mn@kommun.example"}, "not the withdrawn body"
    for message in smtp.messages:
        assert "fredag 9 april 2021 kl. 23.59" in text_of(message)
        assert "Påsken kom emellan." in text_of(message)
        event = deadline_event(message)
        assert event["DTSTART"].dt == date(2021, 4, 9)
        assert event["SEQUENCE"] == 1
        assert str(event["UID"]) == str(invitations[message["To"]]["UID"]), "the same event, updated"
    round_ = get_round(session, round_id)
    assert round_.deadline == date(2021, 4, 9)
    assert referral_of(round_, office.social).deadline == date(2021, 4, 9)
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "round.deadline_moved"))
    assert (event.before, event.after) == ("2021-03-26", "2021-04-09")


def test_moving_the_deadline_leaves_a_body_with_a_later_anstand_alone(client, office, launched, runner, smtp,
                                                                        session):
    social = referral_of(launched, office.social)
    extension_requests.grant_extension(session, office.officer, NOW, social, deadline=date(2021, 4, 16))
    session.commit()
    deliver(runner)
    smtp.clear()
    client.sign_in(office.officer.email)

    client.post(f"/rounds/{launched.id}/deadline", {"deadline": "2021-04-09"})
    deliver(runner)

    round_ = get_round(session, launched.id)
    assert referral_of(round_, office.social).deadline == date(2021, 4, 16)
    assert referral_of(round_, office.environment).deadline == date(2021, 4, 9)
    assert referral_of(round_, office.housing).deadline == date(2021, 4, 9)
    assert recipients(smtp) == {"mn@kommun.example", "kalmarhem@kommun.example", "karin@kommun.example"}


def test_moving_the_deadline_to_a_day_that_has_passed_is_refused(client, office, launched, runner, smtp, session):
    client.sign_in(office.officer.email)

    page = client.post(f"/rounds/{launched.id}/deadline", {"deadline": "2021-01-20"})

    assert page.status_code == 422
    assert "Sista svarsdag måste ligga efter i dag." in page.text
    assert get_round(session, launched.id).deadline == date(2021, 3, 26)
    deliver(runner)
    assert smtp.messages == []


def test_every_change_to_a_round_is_in_its_history_and_the_strategys(client, office, launched, runner, session):
    client.sign_in(office.officer.email)
    client.post(f"/rounds/{launched.id}/bodies", {"body": str(office.water.id)})
    client.post(f"/referrals/{referral_of(launched, office.environment).id}/withdraw", {"reason": "Fel mottagare."})
    client.post(f"/rounds/{launched.id}/deadline", {"deadline": "2021-04-09"})

    history = client.get(f"/rounds/{launched.id}/history")
    strategy_page = client.get(f"/strategies/{office.strategy.id}")

    assert history.status_code == 200
    for page in (unescape(history.text), unescape(strategy_page.text)):
        assert "Remissinstans lades till: Kalmar Vatten AB" in page
        assert "Remissen återkallades: Miljönämnden" in page
        assert "Sista svarsdag flyttades" in page
        assert "Stina Strateg" in page
    assert audit_actions(session, launched.id) == ["referral.added", "referral.withdrawn", "round.deadline_moved"]


# ---------------------------------------------------------------- the CLI

def test_rounds_list_prints_one_line_per_round_with_its_id_first(runner, office, launched, session):
    other = builders.create_strategy(session, officer=office.officer, case_reference="KS 2021/0007")
    prepared = builders.create_round(session, other, [office.water], state=RoundState.DRAFT)
    session.commit()

    result = runner.invoke("remiss", "rounds", "list")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{launched.id}\t") and "open" in lines[0] and "0/3" in lines[0]
    assert "KS 2020/0946" in lines[0] and "2021-03-26" in lines[0]
    assert lines[1].startswith(f"{prepared.id}\t") and "draft" in lines[1] and "KS 2021/0007" in lines[1]


def test_rounds_show_prints_the_round_and_one_line_per_body(runner, office, launched, frozen_clock):
    frozen_clock.set(datetime(2021, 3, 29, 9, tzinfo=timezone.utc))

    result = runner.invoke("remiss", "rounds", "show", str(launched.id))

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "KS 2020/0946" in lines[0]
    assert "0/3 answered, 3 overdue" in lines[1]
    body_lines = lines[2:]
    assert len(body_lines) == 3
    assert [line.split()[0] for line in body_lines] == ["Kalmarhem", "Miljönämnden", "Socialnämnden"]
    assert all("overdue" in line and "2021-03-26" in line for line in body_lines)


def test_rounds_show_for_an_unknown_round_fails(runner, office):
    result = runner.invoke("remiss", "rounds", "show", "999")

    assert result.exit_code == 1
    assert "no round with id 999" in result.output


# ---------------------------------------------------------------- the demo

def test_the_demo_launches_the_kalmar_round_to_every_demo_body_live_relative_to_today(runner, session):
    from remiss.demo import BODIES, CASE_REFERENCE

    result = runner.invoke("remiss", "demo", "--today", "2021-02-01")

    assert result.exit_code == 0, result.output
    session.expire_all()
    (round_,) = session.scalars(select(ReferralRound)).all()
    assert round_.strategy.case_reference == CASE_REFERENCE
    assert round_.state == RoundState.OPEN
    # Launched eight weeks before "today", due a few days before it, so the replies can be compiled.
    assert round_.launched_at.date() == date(2020, 12, 7)
    assert date(2021, 1, 25) <= round_.deadline < date(2021, 2, 1)
    assert round_.draft.file is not None and round_.draft.file.filename == "kalmar-strategy-draft.docx"
    assert len(round_.draft.sections) > 5
    assert {r.body.code for r in round_.referrals} == {code for _name, _kind, code in BODIES}
    assert len(round_.referrals) == 13
    states = {r.body.code: r.state for r in round_.referrals}
    assert states["SN"] == ReferralState.SUBMITTED and states["ÖFN"] == ReferralState.DECLINED
    assert all(r.answered_at < datetime(2021, 2, 1, tzinfo=timezone.utc) for r in round_.referrals if r.answered_at)
    extensions = {e.referral.body.code: e for e in session.scalars(select(ExtensionRequest))}
    assert extensions["KFN"].state == ExtensionState.REQUESTED
    assert extensions["KFN"].requested_deadline > round_.deadline
    assert extensions["SBN"].state == ExtensionState.GRANTED
    assert [r.deadline > date(2021, 2, 1) for r in round_.referrals if r.body.code == "SBN"] == [True]
    assert session.scalar(select(func.count()).select_from(OutboxMessage)
                          .where(OutboxMessage.kind == "invitation")) >= 13


def test_loading_the_demo_twice_does_not_launch_a_second_round(runner, session):
    assert runner.invoke("remiss", "demo", "--today", "2021-02-01").exit_code == 0
    outbox = session.scalar(select(func.count()).select_from(OutboxMessage))

    again = runner.invoke("remiss", "demo", "--today", "2021-02-03")

    assert again.exit_code == 0, again.output
    assert session.scalar(select(func.count()).select_from(ReferralRound)) == 1
    assert session.scalar(select(func.count()).select_from(ExtensionRequest)) == 2
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == outbox


def test_the_workflow_refuses_to_edit_a_sent_round_whoever_asks(session, office, launched):
    # The rule lives in the workflow: the view, the CLI and the scheduler all meet the same refusal.
    from remiss.errors import WorkflowError

    with pytest.raises(WorkflowError, match="redan utskickad"):
        rounds.update_round(session, office.officer, NOW, launched, deadline=date(2021, 4, 30), body_ids=[],
                            reply_label="x", cover_letter="x", reminder_offsets="0", contact=office.officer)
