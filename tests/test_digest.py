"""The officer's weekly digest, and the pages that show what mail did: the round's mail log and
the admin's outbox."""
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from remiss import jobs
from remiss.models import OutboxMessage, OutboxState

from . import builders

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def local(day: date, at: time = time(8, 0)) -> datetime:
    return datetime.combine(day, at, tzinfo=STOCKHOLM)


def digests(session) -> list[OutboxMessage]:
    session.expire_all()
    return session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "digest")).all()


def an_open_round(session):
    officer = builders.create_officer(session, email="stina@kommun.example")
    strategy = builders.create_strategy(session, officer=officer, case_reference="KS 2020/0946")
    bodies = [builders.create_body(session, name=name) for name in ("Socialnämnden", "Miljönämnden")]
    round_ = builders.create_round(session, strategy, bodies, deadline=date(2021, 3, 26))
    session.commit()
    return officer, round_


def test_each_officer_gets_one_digest_on_monday_morning(session, frozen_clock):
    officer, round_ = an_open_round(session)

    jobs.plan(session, local(date(2021, 3, 28), time(23, 0)))  # Sunday evening: not yet
    jobs.plan(session, local(date(2021, 3, 29), time(7, 59)))  # Monday, a minute early
    assert digests(session) == []

    jobs.plan(session, local(date(2021, 3, 29), time(8, 0)))
    jobs.plan(session, local(date(2021, 3, 29), time(8, 1)))  # every tick that morning: still one

    [digest] = digests(session)
    assert digest.to_address == officer.email
    assert "vecka 13" in digest.subject
    assert "0 av 2 har svarat." in digest.body_text
    assert "2 försenade." in digest.body_text  # the deadline, 26 March, has passed
    assert f"/rounds/{round_.id}" in digest.body_text

    jobs.plan(session, local(date(2021, 4, 5), time(8, 0)))  # next Monday (annandag påsk): next week's
    assert len(digests(session)) == 2


def test_the_round_mail_log_shows_each_bodys_mail_and_failures(client, session, frozen_clock):
    officer, round_ = an_open_round(session)
    referral = round_.referrals[0]
    session.add(OutboxMessage(key="x", kind="invitation", to_address="sn@kommun.example", subject="Remiss: test",
                              body_text="...", referral_id=referral.id, state=OutboxState.FAILED, attempts=1,
                              created_at=local(date(2021, 1, 27)), next_attempt_at=local(date(2021, 1, 27)),
                              last_error="550 mailbox unavailable"))
    session.commit()
    client.sign_in(officer.email)

    page = client.get(f"/rounds/{round_.id}/mail")

    assert page.status_code == 200
    assert "550 mailbox unavailable" in page.text
    assert "misslyckades" in page.text
    assert "Nästa påminnelse" in page.text


def test_the_admin_sees_failed_mail_in_the_outbox(client, session, frozen_clock):
    admin = builders.create_admin(session)
    session.add(OutboxMessage(key="y", kind="reminder", to_address="mn@kommun.example", subject="Påminnelse",
                              body_text="...", state=OutboxState.FAILED, attempts=1, last_error="550 no such user",
                              created_at=local(date(2021, 3, 19)), next_attempt_at=local(date(2021, 3, 19))))
    session.commit()
    client.sign_in(admin.email)

    page = client.get("/admin/outbox?state=failed")

    assert page.status_code == 200
    assert "550 no such user" in page.text
    assert "mn@kommun.example" in page.text
