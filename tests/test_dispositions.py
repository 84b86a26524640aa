"""The officer handles every submitted comment: a decision and a reason per comment, on a page of their own
and in the compilation."""
import io
from datetime import datetime, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import docx
import pytest
from sqlalchemy import event, select

from remiss import dispositions, responses
from remiss.compilation import compile_round
from remiss.errors import WorkflowError
from remiss.extensions import db
from remiss.models import AuditEvent, Disposition
from remiss.responses import ReplyDraft, ReplyFields

from . import builders

NOW = datetime(2021, 1, 27, 9, 0, tzinfo=timezone.utc)
LATER = datetime(2021, 2, 3, 9, 0, tzinfo=timezone.utc)
ZONE = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def out(session, frozen_clock):
    """The social board comments on two sections and in general; the culture board on one section."""
    officer = builders.create_officer(session, name="Stina Strateg")
    strategy = builders.create_strategy(session, officer=officer, title="Internationell strategi")
    social = builders.create_body(session, name="Socialnämnden", code="SN")
    culture = builders.create_body(session, name="Kulturnämnden", code="KN")
    sara = builders.create_secretary(session, social)
    kim = builders.create_secretary(session, culture)
    round_ = builders.create_round(session, strategy, [social, culture])
    by_body = {r.body_id: r for r in round_.referrals}
    sections = {s.heading: s for s in round_.draft.sections}

    def reply(secretary, referral, comments, general=""):
        draft = ReplyDraft(fields=ReplyFields(stance="approves_with_comments"),
                           comments={sections[h].id: t for h, t in comments.items()}, general_comments=general)
        saved = responses.save_reply(session, secretary, NOW, referral, version=None, draft=draft)
        responses.submit_reply(session, secretary, NOW, referral, version=saved.lock_version)

    reply(sara, by_body[social.id], {"Ansvar": "Ansvaret behöver förtydligas.", "Inledning": "Bakgrunden är bra."},
          "Tack för möjligheten.")
    reply(kim, by_body[culture.id], {"Ansvar": "Kulturen saknas."})
    session.commit()
    return SimpleNamespace(round=round_, officer=officer, sara=sara, social=by_body[social.id],
                           culture=by_body[culture.id], sections=sections)


def test_the_officer_handles_a_comment_and_changes_it(session, out):
    key = out.sections["Ansvar"].key
    dispositions.set_disposition(session, out.officer, NOW, out.social, key, "partly_considered", "Delvis.")
    session.commit()
    dispositions.set_disposition(session, out.officer, LATER, out.social, key, "considered", " Helt. ")
    session.commit()
    (handled,) = session.scalars(select(Disposition)).all()
    assert (handled.referral_id, handled.section_key, handled.decision, handled.reason) == \
        (out.social.id, key, "considered", "Helt.")
    assert handled.decided_at == LATER and handled.decided_by_id == out.officer.id
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "comment.handled")
                             .order_by(AuditEvent.id)).all()
    assert [(e.before, e.after) for e in events] == [("", "partly_considered"), ("partly_considered", "considered")]


def test_the_general_comments_are_handled_under_the_empty_key(session, out):
    dispositions.set_disposition(session, out.officer, NOW, out.social, None, "noted", "")
    dispositions.set_disposition(session, out.officer, NOW, out.social, "", "considered", "")
    session.commit()
    assert [(d.section_key, d.decision) for d in session.scalars(select(Disposition))] == [("", "considered")]


@pytest.mark.parametrize("who, heading", [("officer", "Syfte och mål"), ("officer", None), ("secretary", "Ansvar")])
def test_a_comment_not_in_the_submitted_version_or_a_non_officer_is_refused(session, out, who, heading):
    referral = out.culture if heading is None else out.social  # the culture board made no general comment
    key = out.sections[heading].key if heading else ""
    actor = out.officer if who == "officer" else out.sara
    with pytest.raises(WorkflowError):
        dispositions.set_disposition(session, actor, NOW, referral, key, "noted", "")
    assert session.scalars(select(Disposition)).all() == []


def test_an_unknown_decision_is_refused(session, out):
    with pytest.raises(WorkflowError):
        dispositions.set_disposition(session, out.officer, NOW, out.social, out.sections["Ansvar"].key, "maybe")


def test_handling_rows_follow_the_draft_in_a_fixed_number_of_queries(app, session, out):
    dispositions.set_disposition(session, out.officer, NOW, out.culture, out.sections["Ansvar"].key, "noted", "")
    session.commit()
    session.expire_all()
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        sections = dispositions.handling_rows(session, out.round, LATER, ZONE)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) <= 6
    shown = [(s.heading, [(r.body_name, r.text, r.disposition.decision if r.disposition else None)
                          for r in s.rows]) for s in sections]
    assert shown == [
        ("Inledning", [("Socialnämnden", "Bakgrunden är bra.", None)]),
        ("Syfte och mål", []),
        ("Ansvar", [("Kulturnämnden", "Kulturen saknas.", "noted"),
                    ("Socialnämnden", "Ansvaret behöver förtydligas.", None)]),
        ("", [("Socialnämnden", "Tack för möjligheten.", None)]),
    ]
    assert sections[2].rows[1].stance == "approves_with_comments"


def _post(client, round_id, referral_id, key, decision, reason=""):
    prefix = f"c{referral_id}-{key}-" if key else f"c{referral_id}-"  # each comment's form has its own prefix
    return client.post(f"/rounds/{round_id}/handling", data={
        "comment": f"{referral_id}:{key}", f"{prefix}decision": decision, f"{prefix}reason": reason,
        f"{prefix}csrf_token": client.csrf_token()})


def test_the_page_lists_every_comment_with_progress_and_saves_one(client, session, out):
    client.sign_in(out.officer.email)
    page = client.get(f"/rounds/{out.round.id}/handling")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "0 av 4 hanterade" in html and "Kulturen saknas." in html and "Tack för möjligheten." in html
    assert f"/rounds/{out.round.id}/handling" in client.get(f"/rounds/{out.round.id}").get_data(as_text=True)
    key = out.sections["Ansvar"].key
    saved = _post(client, out.round.id, out.social.id, key, "partly_considered", "Vi förtydligar delvis.")
    assert saved.status_code == 302
    assert saved.headers["Location"].endswith(f"/rounds/{out.round.id}/handling#comment-{out.social.id}-{key}")
    assert _post(client, out.round.id, out.social.id, "", "noted").status_code == 302
    (one, general) = sorted(session.scalars(select(Disposition)), key=lambda d: d.section_key != key)
    assert (one.decision, one.reason, general.section_key) == ("partly_considered", "Vi förtydligar delvis.", "")
    html = client.get(f"/rounds/{out.round.id}/handling").get_data(as_text=True)
    assert "2 av 4 hanterade" in html and "Vi förtydligar delvis." in html
    unhandled = client.get(f"/rounds/{out.round.id}/handling?unhandled=1").get_data(as_text=True)
    assert "2 av 4 hanterade" in unhandled
    assert "Kulturen saknas." in unhandled and "Bakgrunden är bra." in unhandled
    assert "Ansvaret behöver förtydligas." not in unhandled and "Tack för möjligheten." not in unhandled


def test_the_page_refuses_a_missing_decision_or_an_absent_comment(client, session, out):
    client.sign_in(out.officer.email)
    assert _post(client, out.round.id, out.social.id, out.sections["Ansvar"].key, "").status_code == 422
    absent = _post(client, out.round.id, out.social.id, out.sections["Syfte och mål"].key, "noted")
    assert absent.status_code == 422
    assert "Synpunkten finns inte i det inskickade svaret." in absent.get_data(as_text=True)
    assert _post(client, out.round.id + 1000, out.social.id, "", "noted").status_code == 404
    assert session.scalars(select(Disposition)).all() == []


def test_a_secretary_gets_404_on_the_page_and_the_post(client, session, out):
    client.sign_in(out.sara.email)
    assert client.get(f"/rounds/{out.round.id}/handling").status_code == 404
    assert _post(client, out.round.id, out.social.id, out.sections["Ansvar"].key, "noted").status_code == 404
    assert session.scalars(select(Disposition)).all() == []


def test_the_compilation_shows_the_disposition_under_the_comment(session, out):
    dispositions.set_disposition(session, out.officer, NOW, out.social, out.sections["Ansvar"].key,
                                 "partly_considered", "Texten förtydligas.")
    dispositions.set_disposition(session, out.officer, NOW, out.social, "", "noted", "")
    session.commit()
    paragraphs = [p.text for p in docx.Document(io.BytesIO(compile_round(session, out.round, LATER, ZONE)))
                  .paragraphs]
    at = paragraphs.index("Socialnämnden: Ansvaret behöver förtydligas.")
    assert paragraphs[at + 1] == "Ställningstagande: beaktas delvis – Texten förtydligas."
    at = paragraphs.index("Socialnämnden: Tack för möjligheten.")
    assert paragraphs[at + 1] == "Ställningstagande: noteras"
    at = paragraphs.index("Kulturnämnden: Kulturen saknas.")
    assert not paragraphs[at + 1].startswith("Ställningstagande")
