"""The database itself keeps the rules: unique keys, check constraints, foreign keys and UTC time.

Rows are written past the workflow on purpose (raw SQL or bare ORM objects): these tests show
what holds even when Python code gets it wrong.
"""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from remiss.mail import Rendered, queue_mail
from remiss.models import (
    Body,
    Draft,
    ExtensionRequest,
    OutboxMessage,
    Referral,
    ReferralState,
    Response,
    Section,
    Strategy,
)

from . import builders

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def a_referral(session):
    body = builders.create_body(session)
    strategy = builders.create_strategy(session)
    round_ = builders.create_round(session, strategy, [body])
    return round_.referrals[0]


def an_outbox_message(key: str, **fields) -> OutboxMessage:
    return OutboxMessage(key=key, kind="test", to_address="namnd@kommun.example", subject="Remiss",
                         body_text="Hej", created_at=builders.BUILT_AT, next_attempt_at=builders.BUILT_AT, **fields)


# ---------------------------------------------------------------- unique keys

def test_a_body_is_sent_only_one_referral_per_round(session):
    referral = a_referral(session)
    session.commit()

    session.add(Referral(round_id=referral.round_id, body_id=referral.body_id, state=ReferralState.INVITED,
                         deadline=referral.deadline))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()

    assert count(session, Referral) == 1


def test_the_outbox_refuses_a_second_mail_with_the_same_key(session):
    session.add(an_outbox_message("reminder:1:-7:2021-03-26"))
    session.commit()

    session.add(an_outbox_message("reminder:1:-7:2021-03-26"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()

    assert count(session, OutboxMessage) == 1


def test_queueing_the_same_mail_twice_leaves_one_mail_in_the_outbox(session):
    now = builders.BUILT_AT
    first = queue_mail(session, now, key="invitation:7", kind="invitation", to="sn@kommun.example",
                       rendered=Rendered(subject="Remiss: första", text="Hej", html=""))
    second = queue_mail(session, now + timedelta(minutes=1), key="invitation:7", kind="invitation",
                        to="sn@kommun.example", rendered=Rendered(subject="Remiss: andra", text="Hej", html=""))
    session.commit()

    assert (first, second) == (True, False)
    assert session.scalars(select(OutboxMessage.subject)).all() == ["Remiss: första"]


# ---------------------------------------------------------------- check constraints

def _body(session):
    return "bodies", builders.create_body(session).id


def _user(session):
    return "users", builders.create_officer(session).id


def _round(session):
    return "referral_rounds", a_referral(session).round_id


def _referral(session):
    return "referrals", a_referral(session).id


def _extension_request(session):
    request = ExtensionRequest(referral_id=a_referral(session).id, requested_at=builders.BUILT_AT,
                               requested_deadline=date(2021, 4, 9))
    session.add(request)
    session.flush()
    return "extension_requests", request.id


def _response(session):
    response = Response(referral_id=a_referral(session).id, updated_at=builders.BUILT_AT)
    session.add(response)
    session.flush()
    return "responses", response.id


@pytest.mark.parametrize("make_row, assignment, constraint", [
    (_referral, "state = 'bogus'", "ck_referrals_state"),
    (_round, "state = 'bogus'", "ck_referral_rounds_state"),
    (_round, "launched_at = NULL", "ck_referral_rounds_launched_at_when_launched"),
    (_extension_request, "state = 'bogus', decided_at = requested_at", "ck_extension_requests_state"),
    (_extension_request, "state = 'granted', decided_at = requested_at",
     "ck_extension_requests_granted_has_date"),
    (_response, "stance = 'bogus'", "ck_responses_stance"),
    (_body, "kind = 'bogus'", "ck_bodies_kind"),
    (_user, "role = 'bogus'", "ck_users_role"),
    (_user, "email = 'Stor.Bokstav@Kommun.example'", "ck_users_email_lowercase"),
], ids=[
    "referral-state", "round-state", "open-round-without-launch-time", "extension-state",
    "granted-extension-without-date", "stance", "body-kind", "user-role", "uppercase-email",
])
def test_the_database_refuses_a_value_outside_the_rules(session, make_row, assignment, constraint):
    table, row_id = make_row(session)
    session.commit()

    with pytest.raises(IntegrityError) as refused:
        session.execute(text(f"UPDATE {table} SET {assignment} WHERE id = :id"), {"id": row_id})
    session.rollback()

    assert constraint in str(refused.value)


def test_a_response_may_have_no_stance_yet(session):
    table, row_id = _response(session)
    session.commit()
    assert session.scalar(select(Response.stance).where(Response.id == row_id)) is None


# ---------------------------------------------------------------- foreign keys

def test_a_referral_to_a_body_that_does_not_exist_is_refused(session):
    """SQLite enforces foreign keys only when each connection asks for it; the app does."""
    referral = a_referral(session)
    session.commit()

    with pytest.raises(IntegrityError):
        session.execute(text("UPDATE referrals SET body_id = :missing WHERE id = :id"),
                        {"missing": referral.body_id + 1000, "id": referral.id})
    session.rollback()


def test_a_body_that_has_been_sent_a_referral_cannot_be_deleted(session):
    referral = a_referral(session)
    body_id = referral.body_id
    session.commit()

    with pytest.raises(IntegrityError):
        session.execute(text("DELETE FROM bodies WHERE id = :id"), {"id": body_id})
    session.rollback()

    assert session.get(Body, body_id) is not None


def test_deleting_a_body_that_was_never_referred_takes_its_memberships_along(session):
    body = builders.create_body(session)
    other = builders.create_body(session)
    secretary = builders.create_user(session, bodies=[body, other])
    session.commit()

    session.execute(text("DELETE FROM bodies WHERE id = :id"), {"id": body.id})
    session.commit()

    session.expire_all()
    assert secretary.body_ids == {other.id}


def test_deleting_a_strategy_deletes_its_drafts_and_their_sections(session):
    strategy = builders.create_strategy(session)
    kept = builders.create_strategy(session)
    kept_draft = builders.create_draft(session, kept)
    builders.create_draft(session, strategy)
    builders.create_draft(session, strategy)
    session.commit()
    kept_sections = sorted(s.id for s in kept_draft.sections)
    assert kept_sections and count(session, Section) > len(kept_sections)

    session.execute(text("DELETE FROM strategies WHERE id = :id"), {"id": strategy.id})
    session.commit()

    assert session.scalars(select(Strategy.id)).all() == [kept.id]
    assert session.scalars(select(Draft.id)).all() == [kept_draft.id]
    assert sorted(session.scalars(select(Section.id))) == kept_sections


def test_a_strategy_that_has_been_out_on_referral_cannot_be_deleted(session):
    body = builders.create_body(session)
    strategy = builders.create_strategy(session)
    builders.create_round(session, strategy, [body])
    session.commit()

    with pytest.raises(IntegrityError):
        session.execute(text("DELETE FROM strategies WHERE id = :id"), {"id": strategy.id})
    session.rollback()

    assert session.get(Strategy, strategy.id) is not None


# ---------------------------------------------------------------- time

@pytest.mark.parametrize("local, utc", [
    (datetime(2021, 3, 26, 23, 59, tzinfo=STOCKHOLM), datetime(2021, 3, 26, 22, 59, tzinfo=timezone.utc)),  # CET
    (datetime(2021, 6, 25, 8, 0, tzinfo=STOCKHOLM), datetime(2021, 6, 25, 6, 0, tzinfo=timezone.utc)),  # CEST
])
def test_a_stockholm_time_is_stored_and_read_back_as_the_same_instant_in_utc(session, local, utc):
    body = builders.create_body(session)
    body.created_at = local
    session.commit()
    body_id = body.id
    session.expunge_all()

    stored = session.get(Body, body_id).created_at

    assert stored.utcoffset() == timedelta(0)
    assert stored.tzinfo == timezone.utc
    assert (stored.year, stored.month, stored.day, stored.hour, stored.minute) == (
        utc.year, utc.month, utc.day, utc.hour, utc.minute)
    # Comparisons in SQL are by instant too, whatever zone the bound value is in.
    assert session.scalar(select(Body.id).where(Body.created_at == local)) == body_id
    assert session.scalar(select(Body.id).where(Body.created_at > utc - timedelta(seconds=1))) == body_id
    assert session.scalar(select(Body.id).where(Body.created_at > utc)) is None


def test_a_naive_time_is_refused_before_it_reaches_the_database(session):
    body = builders.create_body(session)
    session.commit()

    body.created_at = datetime(2021, 1, 27, 9, 0)
    with pytest.raises(StatementError) as refused:
        session.flush()
    session.rollback()

    assert isinstance(refused.value.orig, ValueError)
    assert "naive" in str(refused.value.orig)
    assert session.get(Body, body.id).created_at == builders.BUILT_AT
