"""The officer's weekly digest, and the pages that show what mail did: the round's mail log and
the admin's outbox."""
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from remiss import extension_requests, jobs
from remiss.compilation import record_compilation
from remiss.models import OutboxMessage, OutboxState, RoundState

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


# ---------------------------------------------------------------- the nudge to compile

def test_the_digest_asks_the_officer_to_compile_once_the_last_deadline_has_passed(session, smtp, frozen_clock):
    officer, round_ = an_open_round(session)
    monday = local(date(2021, 3, 29))

    jobs.plan(session, monday)
    jobs.drain_outbox(session, monday)

    [mail] = smtp.to(officer.email)
    text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = mail.get_body(("html",)).get_content()
    assert "Dags att sammanställa" in text
    assert f"{round_.strategy.title} (KS 2020/0946)" in text
    assert "Sista svarsdag var 26 mars 2021. 0 av 2 har svarat." in text
    link = f"http://remiss.test/rounds/{round_.id}#compilation"
    assert f"Sammanställ remissvaren:\n{link}\n" in text
    assert f'<a href="{link}">' in html
    assert "<p>Dags att sammanställa<br>" in html


def test_no_nudge_in_the_digest_while_an_anstand_runs_or_for_another_officers_round(session, frozen_clock):
    officer, round_ = an_open_round(session)
    colleague = builders.create_officer(session, email="olle@kommun.example")
    other = builders.create_round(session, builders.create_strategy(session, officer=colleague),
                                  [builders.create_body(session)], deadline=date(2021, 3, 19))
    extension_requests.grant_extension(session, officer, local(date(2021, 3, 1)), round_.referrals[0],
                                       deadline=date(2021, 4, 9))
    session.commit()

    jobs.plan(session, local(date(2021, 3, 29)))

    mine = next(d for d in digests(session) if d.to_address == officer.email)
    theirs = next(d for d in digests(session) if d.to_address == colleague.email)
    assert "Dags att sammanställa" not in mine.body_text
    assert f"/rounds/{round_.id}#compilation" not in mine.body_text
    assert f"/rounds/{other.id}#compilation" in theirs.body_text


def test_a_round_awaiting_compilation_alone_still_brings_a_digest_until_it_is_compiled(session, frozen_clock):
    officer, round_ = an_open_round(session)
    round_.state = RoundState.CLOSED  # nothing under way any more: the nudge is the digest's only news
    session.commit()

    jobs.plan(session, local(date(2021, 3, 29)))

    [digest] = digests(session)
    assert digest.to_address == officer.email
    assert digest.key == f"digest:{officer.id}:2021-W13"
    assert "Dags att sammanställa" in digest.body_text
    assert f"/rounds/{round_.id}\n" not in digest.body_text, "a closed round has no line of its own"

    record_compilation(session, officer, local(date(2021, 3, 30)), round_, STOCKHOLM)
    session.commit()
    jobs.plan(session, local(date(2021, 4, 5)))

    assert len(digests(session)) == 1, "a compiled round that is closed gives nothing to report"
