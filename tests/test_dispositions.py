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
    at = paragraphs.index("Socialnämnden (tillstyrker med synpunkter): Ansvaret behöver förtydligas.")
    assert paragraphs[at + 1] == "Kommentar: beaktas delvis – Texten förtydligas."
    at = paragraphs.index("Socialnämnden (tillstyrker med synpunkter): Tack för möjligheten.")
    assert paragraphs[at + 1] == "Kommentar: noteras"
    at = paragraphs.index("Kulturnämnden (tillstyrker med synpunkter): Kulturen saknas.")
    assert paragraphs[at + 1] == "Kommentar: Ej kommenterad"


# ------------------------------------------------------------------ the filter

def _shown(sections):
    return [(s.heading, [r.body_name for r in s.rows]) for s in sections]


def test_the_filter_by_body_shows_its_comments_and_leaves_out_the_sections_left_empty(session, out):
    sections = dispositions.handling_rows(session, out.round, LATER, ZONE)
    assert {r.body_id for s in sections for r in s.rows} == {out.social.body_id, out.culture.body_id}
    assert _shown(dispositions.filter_sections(sections, body_id=out.culture.body_id)) == \
        [("Ansvar", ["Kulturnämnden"])]
    assert _shown(dispositions.filter_sections(sections, body_id=out.social.body_id)) == \
        [("Inledning", ["Socialnämnden"]), ("Ansvar", ["Socialnämnden"]), ("", ["Socialnämnden"])]
    unfiltered = dispositions.filter_sections(sections)
    assert [s.heading for s in unfiltered] == ["Inledning", "Syfte och mål", "Ansvar", ""]  # empty ones too
    assert len(sections[2].rows) == 2  # the rows it was given are left as they were


def test_the_filter_by_section_or_by_the_general_comments(session, out):
    sections = dispositions.handling_rows(session, out.round, LATER, ZONE)
    assert _shown(dispositions.filter_sections(sections, section_key=out.sections["Ansvar"].key)) == \
        [("Ansvar", ["Kulturnämnden", "Socialnämnden"])]
    assert [(s.key, [r.text for r in s.rows]) for s in dispositions.filter_sections(
        sections, section_key=dispositions.GENERAL)] == [("", ["Tack för möjligheten."])]
    assert dispositions.filter_sections(sections, body_id=out.culture.body_id,
                                        section_key=out.sections["Inledning"].key) == []


def test_the_filters_combine_with_unhandled_and_the_kept_row_stays(session, out):
    ansvar = out.sections["Ansvar"].key
    dispositions.set_disposition(session, out.officer, NOW, out.social, ansvar, "considered", "")
    session.commit()
    sections = dispositions.handling_rows(session, out.round, LATER, ZONE)
    assert _shown(dispositions.filter_sections(sections, section_key=ansvar, unhandled=True)) == \
        [("Ansvar", ["Kulturnämnden"])]
    assert _shown(dispositions.filter_sections(sections, body_id=out.social.body_id, unhandled=True)) == \
        [("Inledning", ["Socialnämnden"]), ("", ["Socialnämnden"])]
    assert dispositions.filter_sections(sections, body_id=out.social.body_id, section_key=ansvar,
                                        unhandled=True) == []
    kept = dispositions.filter_sections(sections, body_id=out.culture.body_id, unhandled=True,
                                        keep=(out.social.id, ""))
    assert [(s.key, [r.body_name for r in s.rows]) for s in kept] == \
        [(ansvar, ["Kulturnämnden"]), ("", ["Socialnämnden"])]


def test_the_filter_offers_the_bodies_in_swedish_order_and_the_sections_with_comments(session, out):
    sections = dispositions.handling_rows(session, out.round, LATER, ZONE)
    chosen = dispositions.read_filter(sections, body=str(out.social.body_id), section="_general", unhandled="1")
    assert chosen.bodies == [(out.culture.body_id, "Kulturnämnden"), (out.social.body_id, "Socialnämnden")]
    assert [s.heading for s in chosen.sections] == ["Inledning", "Ansvar", ""]  # "Syfte och mål" has none
    assert (chosen.body_id, chosen.section_key, chosen.unhandled, chosen.active) == \
        (out.social.body_id, "", True, True)
    assert chosen.query == {"body": str(out.social.body_id), "section": "_general", "unhandled": "1"}
    none = dispositions.read_filter(sections)
    assert (none.active, none.query, none.unknown_body, none.unknown_section) == (False, {}, False, False)


@pytest.mark.parametrize("body, section", [
    ("abc", "nope"), ("9" * 10_000, "x" * 10_000), ("-1", "Syfte och mål"), ("1.0", "<script>"), (" 1", "_")])
def test_a_filter_naming_nothing_with_comments_is_dropped_and_flagged(session, out, body, section):
    sections = dispositions.handling_rows(session, out.round, LATER, ZONE)
    if section == "Syfte och mål":  # a section of the draft, but nobody commented on it
        section = out.sections[section].key
    chosen = dispositions.read_filter(sections, body=body, section=section, unhandled="yes")
    assert (chosen.body_id, chosen.section_key, chosen.unhandled) == (None, None, False)
    assert chosen.unknown_body and chosen.unknown_section and not chosen.active


def test_the_page_filters_by_body_and_section_and_keeps_the_choice_selected(client, session, out):
    client.sign_in(out.officer.email)
    url = f"/rounds/{out.round.id}/handling"
    page = client.get(f"{url}?body={out.culture.body_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Kulturen saknas." in html
    assert "Bakgrunden är bra." not in html and "Tack för möjligheten." not in html and "Syfte och mål" not in html
    assert f'<option value="{out.culture.body_id}" selected>Kulturnämnden</option>' in html
    assert "0 av 4 hanterade (i hela remissomgången, oavsett filter)" in html and "1 synpunkt matchar filtret." in html
    general = client.get(f"{url}?section=_general").get_data(as_text=True)
    assert "Tack för möjligheten." in general and "Kulturen saknas." not in general
    assert '<option value="_general" selected>Övriga synpunkter</option>' in general
    inledning = out.sections["Inledning"].key
    nothing = client.get(f"{url}?body={out.culture.body_id}&section={inledning}&unhandled=1").get_data(as_text=True)
    assert "Inga synpunkter matchar filtret." in nothing and "Kulturen saknas." not in nothing
    assert f'<option value="{inledning}" selected>' in nothing and 'name="unhandled" value="1" checked' in nothing


def test_saving_a_disposition_keeps_the_filter(client, session, out):
    client.sign_in(out.officer.email)
    key = out.sections["Ansvar"].key
    filtered = f"/rounds/{out.round.id}/handling?body={out.social.body_id}&unhandled=1"
    html = client.get(filtered).get_data(as_text=True)
    assert f'action="/rounds/{out.round.id}/handling?body={out.social.body_id}&amp;unhandled=1"' in html
    saved = client.post(filtered, data={
        "comment": f"{out.social.id}:{key}", f"c{out.social.id}-{key}-decision": "noted",
        f"c{out.social.id}-{key}-csrf_token": client.csrf_token()})
    assert saved.status_code == 302
    assert saved.headers["Location"].endswith(
        f"/rounds/{out.round.id}/handling?body={out.social.body_id}&unhandled=1#comment-{out.social.id}-{key}")
    after = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "1 av 4 hanterade" in after and "Bakgrunden är bra." in after and "Tack för möjligheten." in after
    assert "Ansvaret behöver förtydligas." not in after and "Kulturen saknas." not in after


def test_a_refused_save_of_a_comment_the_filter_hides_stays_in_sight(client, session, out):
    client.sign_in(out.officer.email)
    key = out.sections["Ansvar"].key
    refused = client.post(f"/rounds/{out.round.id}/handling?section=_general", data={
        "comment": f"{out.social.id}:{key}", f"c{out.social.id}-{key}-decision": "",
        f"c{out.social.id}-{key}-csrf_token": client.csrf_token()})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Välj ett ställningstagande." in html
    assert "Ansvaret behöver förtydligas." in html and "Tack för möjligheten." in html
    assert "Kulturen saknas." not in html
    assert session.scalars(select(Disposition)).all() == []


@pytest.mark.parametrize("query, message", [
    ("body=abc", "Den valda remissinstansen har inga synpunkter"),
    ("body=" + "9" * 10_000, "Den valda remissinstansen har inga synpunkter"),
    ("body=%3Cscript%3Ealert(1)%3C%2Fscript%3E&unhandled=%00", "Den valda remissinstansen har inga synpunkter"),
    ("section=finns-inte", "Det valda avsnittet har inga synpunkter"),
    ("section=" + "x" * 10_000 + "&body=" + "%C3%A5" * 100, "Det valda avsnittet har inga synpunkter"),
])
def test_a_hostile_filter_shows_every_comment_with_a_message_not_an_error(client, session, out, query, message):
    client.sign_in(out.officer.email)
    page = client.get(f"/rounds/{out.round.id}/handling?{query}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and message in html
    assert "Kulturen saknas." in html and "Tack för möjligheten." in html and "<script>alert" not in html
    assert f'action="/rounds/{out.round.id}/handling"' in html  # the forms carry no filter that names nothing


def test_a_save_with_a_hostile_filter_redirects_without_the_overlong_values(client, session, out):
    client.sign_in(out.officer.email)
    saved = client.post(f"/rounds/{out.round.id}/handling?section={'x' * 10_000}&body=abc", data={
        "comment": f"{out.social.id}:", f"c{out.social.id}-decision": "noted",
        f"c{out.social.id}--csrf_token": client.csrf_token(), f"c{out.social.id}-csrf_token": client.csrf_token()})
    assert saved.status_code == 302 and "x" * 65 not in saved.headers["Location"]
    assert client.get(saved.headers["Location"]).status_code == 200


def test_a_decision_on_words_the_body_has_since_changed_is_unhandled_again(client, session, out):
    ansvar, inledning = out.sections["Ansvar"], out.sections["Inledning"]
    dispositions.set_disposition(session, out.officer, NOW, out.social, ansvar.key, "considered", "Förtydligas.")
    dispositions.set_disposition(session, out.officer, NOW, out.social, inledning.key, "noted", "")
    session.commit()
    # Before the deadline the social board sends its reply again, the comment on Ansvar in other words.
    working = responses.response_of(session, out.social)
    amended = ReplyDraft(fields=ReplyFields(stance="approves_with_comments"),
                         comments={ansvar.id: "Ansvaret för uppföljningen saknas helt.",
                                   inledning.id: "Bakgrunden är bra."},
                         general_comments="Tack för möjligheten.")
    saved = responses.save_reply(session, out.sara, LATER, out.social, version=working.lock_version, draft=amended)
    responses.submit_reply(session, out.sara, LATER, out.social, version=saved.lock_version)
    session.commit()

    rows = {(r.referral_id, r.section_key): r for s in dispositions.handling_rows(session, out.round, LATER, ZONE)
            for r in s.rows}
    changed, same = rows[(out.social.id, ansvar.key)], rows[(out.social.id, inledning.key)]
    assert changed.disposition is None and changed.earlier.comment_text == "Ansvaret behöver förtydligas."
    assert same.disposition is not None and same.earlier is None
    paragraphs = [p.text for p in docx.Document(io.BytesIO(compile_round(session, out.round, LATER, ZONE))).paragraphs]
    at = paragraphs.index("Socialnämnden (tillstyrker med synpunkter): Ansvaret för uppföljningen saknas helt.")
    assert paragraphs[at + 1] == "Kommentar: Ej kommenterad"  # the old decision is not put under new words
    assert "Kommentar: noteras" in paragraphs

    client.sign_in(out.officer.email)
    page = client.get(f"/rounds/{out.round.id}/handling?unhandled=1").get_data(as_text=True)
    assert "1 av 4 hanterade" in page and "Ansvaret för uppföljningen saknas helt." in page
    assert "sedan du tog ställning (Beaktas). Ta ställning igen." in page
    dispositions.set_disposition(session, out.officer, LATER, out.social, ansvar.key, "partly_considered", "")
    session.commit()
    rows = {(r.referral_id, r.section_key): r for s in dispositions.handling_rows(session, out.round, LATER, ZONE)
            for r in s.rows}
    assert rows[(out.social.id, ansvar.key)].disposition.decision == "partly_considered"
