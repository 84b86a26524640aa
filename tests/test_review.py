"""Defects found in review, each pinned by the test that failed before its fix."""
import io
from datetime import datetime, timezone

from sqlalchemy import select

from remiss.models import ResponseAttachment

from .test_replies import (  # noqa: F401  (out is a fixture)
    AFTER_DEADLINE, PDF, out, reply_fields, reply_url, response_of, save, versions_of,
)


# ---------------------------------------------------------------- registration by the officer

def test_registering_a_mailed_reply_publishes_none_of_the_bodys_unsent_attachments_nor_loses_its_words(
        client, out, session):
    client.sign_in(out.sara.email)
    save(client, out, out.social, summary="Nämndens eget utkast, inte skickat.")
    client.post(f"{reply_url(out.social)}/attachments", {"file": (io.BytesIO(PDF), "internt-pm.pdf")})
    (attachment,) = session.scalars(select(ResponseAttachment)).all()
    client.sign_out()
    client.sign_in(out.officer.email)

    registered = client.post(f"/referrals/{out.social.id}/register", {
        **reply_fields(out, stance="approves", summary="Inkom per e-post."), "received_on": "2021-01-26"})

    assert registered.status_code == 302
    (version,) = versions_of(session, out.social)
    assert version.content["summary"] == "Inkom per e-post."
    assert version.content["attachments"] == [], "the officer never saw the body's unsent attachment"
    client.sign_out()
    assert client.get(f"/public/files/{attachment.file_id}").status_code == 404
    assert response_of(session, out.social).summary == "Nämndens eget utkast, inte skickat."


def test_a_reply_that_came_in_on_time_but_is_registered_after_the_deadline_is_not_late(
        client, out, session, frozen_clock):
    frozen_clock.set(AFTER_DEADLINE)
    client.sign_in(out.officer.email)

    registered = client.post(f"/referrals/{out.environment.id}/register", {
        **reply_fields(out, stance="approves", summary="Kom med posten i tid."), "received_on": "2021-03-25"})

    assert registered.status_code == 302
    (version,) = versions_of(session, out.environment)
    assert version.late is False


# ---------------------------------------------------------------- one-line texts that end up in a mail's Subject

def test_a_strategy_title_with_a_pasted_line_separator_is_refused_and_never_reaches_a_subject(client, out, session):
    client.sign_in(out.officer.email)

    for title in ("Kulturstrategi\u2028Remissversion", "Kulturstrategi\rBcc: alla@example.com"):
        posted = client.post("/strategies/new", {"title": title, "case_reference": "KS 2021/0001",
                                                 "officer": str(out.officer.id)})
        assert posted.status_code == 422, title
        assert "osynliga styrtecken" in posted.text


def test_a_body_name_with_a_line_break_is_refused(client, session):
    from . import builders

    admin = builders.create_admin(session)
    session.commit()
    client.sign_in(admin.email)

    posted = client.post("/admin/bodies/new", {"name": "Socialnämnden\nBcc: alla@example.com", "kind": "board",
                                                "code": "SN", "mailbox": "sn@kommun.example"})

    assert posted.status_code == 422


# ---------------------------------------------------------------- the board as CSV

def test_the_csv_filename_is_a_header_every_server_can_send_whatever_the_case_reference(client, session):
    from . import builders

    officer = builders.create_officer(session)
    strategy = builders.create_strategy(session, officer=officer, case_reference="KS 2021/0946 – Łódź; x=\"y\"")
    round_ = builders.create_round(session, strategy, [builders.create_body(session)])
    session.commit()
    client.sign_in(officer.email)

    response = client.get(f"/rounds/{round_.id}/board.csv")

    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    disposition.encode("latin-1")  # WSGI servers (gunicorn, werkzeug) send headers as latin-1: else a 500
    assert ";" not in disposition.removeprefix("attachment;") and '"' not in disposition


def test_the_csv_neutralises_a_body_code_a_spreadsheet_would_read_as_a_formula(client, session):
    from . import builders

    officer = builders.create_officer(session)
    strategy = builders.create_strategy(session, officer=officer)
    round_ = builders.create_round(session, strategy, [builders.create_body(session, code="=1+2")])
    session.commit()
    client.sign_in(officer.email)

    text = client.get(f"/rounds/{round_.id}/board.csv").data.decode("utf-8")

    assert ";=1+2;" not in text and ";'=1+2;" in text


# ---------------------------------------------------------------- deadlines beyond what the calendar knows

def test_a_deadline_years_ahead_is_refused_with_a_message_not_a_server_error(client, out, session):
    client.sign_in(out.officer.email)
    round_form = {"draft": str(out.strategy.drafts[-1].id), "bodies": [str(out.social.body_id)],
                  "reply_label": "Remissvar", "cover_letter": "Missiv.", "reminder_offsets": "-7,0",
                  "contact": str(out.officer.id)}

    for deadline in ("3000-06-01", "9999-12-31"):
        created = client.post(f"/strategies/{out.strategy.id}/rounds/new", {**round_form, "deadline": deadline})
        moved = client.post(f"/rounds/{out.round.id}/deadline", {"deadline": deadline})
        granted = client.post(f"/referrals/{out.environment.id}/extension-decision", {"deadline": deadline})

        for response in (created, moved, granted):
            assert response.status_code == 422, (deadline, response.status_code)
            assert "högst 5 år fram i tiden" in response.text
    assert client.get(f"/rounds/{out.round.id}").status_code == 200


def test_a_secretary_cannot_ask_for_an_anstand_to_the_year_9999(client, out, session):
    client.sign_in(out.sara.email)

    asked = client.post(f"/referrals/{out.social.id}/extension",
                        {"requested_deadline": "9999-12-31", "reason": "Nämnden sammanträder sällan."})

    assert asked.status_code == 422 and "högst 5 år fram i tiden" in asked.text


# ---------------------------------------------------------------- rules that lived only in a view

def test_a_round_cannot_name_a_secretary_as_its_contact_whoever_calls_the_workflow(session, out):
    import pytest

    from remiss import rounds
    from remiss.errors import WorkflowError

    with pytest.raises(WorkflowError) as refused:
        rounds.create_round(session, out.officer, datetime(2021, 1, 27, 9, 0, tzinfo=timezone.utc), out.strategy,
                            draft=out.strategy.drafts[-1], deadline=out.round.deadline, body_ids=[],
                            reply_label="Remissvar", cover_letter="Missiv.", reminder_offsets="-7,0",
                            contact=out.sara)
    assert refused.value.field == "contact"


def test_an_answered_referral_cannot_be_withdrawn_and_its_reply_stays_public(client, out, session):
    from .test_replies import submit

    client.sign_in(out.sara.email)
    submit(client, out, out.social, summary="Socialnämndens svar.")
    client.sign_out()
    client.sign_in(out.officer.email)

    refused = client.post(f"/referrals/{out.social.id}/withdraw", {"reason": "Fel mottagare."})

    assert refused.status_code == 422 and "allmän handling" in refused.text
    client.sign_out()
    public = client.get(f"/public/rounds/{out.round.id}/replies/{out.social.id}")
    assert public.status_code == 200 and "Socialnämndens svar." in public.text


# ---------------------------------------------------------------- files

def test_an_attachment_keeps_a_name_that_says_what_it_is(client, out, session):
    from remiss.models import StoredFile

    client.sign_in(out.sara.email)
    save(client, out, out.social, summary="Med bilaga.")

    client.post(f"{reply_url(out.social)}/attachments", {"file": (io.BytesIO(PDF + b"<script>alert(1)</script>"),
                                                                  "protokoll.html")})
    client.post(f"{reply_url(out.social)}/attachments", {"file": (io.BytesIO(PDF), "p" * 240 + ".pdf")})

    names = sorted(session.scalars(select(StoredFile.filename)).all(), key=len)
    assert names[0] == "protokoll.html.pdf"
    assert names[1].endswith(".pdf") and len(names[1]) <= 200
