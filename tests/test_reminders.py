"""Reminders: which are due, when they go out (08:00 local on business days, across Easter and the
DST switches), who gets them and in how many mails. Planning runs through jobs.plan, as the
scheduler's tick does, and through `flask remiss reminders --now …`."""
from datetime import date, datetime, time, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from remiss import extension_requests, jobs, reminders, responses, rounds
from remiss.models import OutboxMessage, PlannedReminder, ReferralState, Stance

from . import builders

STOCKHOLM = ZoneInfo("Europe/Stockholm")
EASTER_DEADLINE = date(2021, 4, 6)  # the Tuesday after Easter Monday


def local(day: date, at: time = time(8, 0)) -> datetime:
    return datetime.combine(day, at, tzinfo=STOCKHOLM)


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


@pytest.fixture
def office(session, frozen_clock):
    officer = builders.create_officer(session, name="Stina Strateg", email="stina.strateg@kommun.example")
    strategy = builders.create_strategy(session, officer=officer, title="Internationell strategi",
                                        case_reference="KS 2020/0946")
    session.commit()
    return SimpleNamespace(officer=officer, strategy=strategy)


def a_round(session, office, bodies, *, deadline=date(2021, 3, 26), offsets="-14,-7,-2,0,1,7", strategy=None):
    round_ = builders.create_round(session, strategy or office.strategy, bodies, deadline=deadline)
    round_.reminder_offsets = offsets
    session.commit()
    return round_


def planned_rows(session, referral=None) -> list[tuple[int, date, datetime]]:
    """(offset, deadline, due_at in UTC) of the planned reminders, in order of due time."""
    query = select(PlannedReminder).order_by(PlannedReminder.due_at, PlannedReminder.id)
    if referral is not None:
        query = query.where(PlannedReminder.referral_id == referral.id)
    session.expire_all()
    return [(p.offset_days, p.deadline, p.due_at) for p in session.scalars(query)]


def reminder_mails(session) -> list[OutboxMessage]:
    session.expire_all()
    return session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reminder")
                           .order_by(OutboxMessage.id)).all()


def sweep(session, first: date, last: date) -> list[tuple[datetime, int, int, date, datetime]]:
    """The scheduler every day from `first` to `last`, a minute before 08:00 local and at 08:00:
    what each run planned, as (when it ran, referral id, offset, deadline, due_at)."""
    found = []
    for day in days(first, last):
        for at in (time(7, 59), time(8, 0)):
            now = local(day, at)
            found += [(now, d.referral.id, d.offset, d.deadline, d.due_at) for d in jobs.plan(session, now)]
    return found


# ---------------------------------------------------------------- the calendar

def test_a_reminder_on_a_holiday_moves_to_the_business_day_before_the_deadline_or_after_it():
    # Deadline Tuesday 6 April 2021, right after Easter (Good Friday 2, Easter Sunday 4, Easter Monday 5).
    assert reminders.reminder_day(EASTER_DEADLINE, -2) == date(2021, 4, 1)  # Easter Sunday → Maundy Thursday
    assert reminders.reminder_day(EASTER_DEADLINE, 0) == date(2021, 4, 6)
    assert reminders.reminder_day(EASTER_DEADLINE, 1) == date(2021, 4, 7)
    assert reminders.reminder_day(date(2021, 4, 2), 0) == date(2021, 4, 1)  # a deadline on Good Friday
    assert reminders.reminder_day(date(2021, 3, 26), 7) == date(2021, 4, 6)  # overdue on Good Friday → Tuesday
    assert reminders.reminder_day(date(2021, 3, 26), 1) == date(2021, 3, 29)  # a Saturday → Monday
    # 08:00 local is 07:00 UTC in winter and 06:00 UTC in summer (from 28 March to 31 October 2021).
    assert reminders.due_at(EASTER_DEADLINE, -14, STOCKHOLM) == utc(2021, 3, 23, 7, 0)
    assert reminders.due_at(EASTER_DEADLINE, -2, STOCKHOLM) == utc(2021, 4, 1, 6, 0)
    assert reminders.due_at(date(2021, 11, 2), -2, STOCKHOLM) == utc(2021, 10, 29, 6, 0)
    assert reminders.due_at(date(2021, 11, 2), 0, STOCKHOLM) == utc(2021, 11, 2, 7, 0)


def test_round_the_easter_deadline_reminders_go_out_at_eight_on_business_days_only(session, office):
    body = builders.create_body(session, name="Socialnämnden")
    referral = a_round(session, office, [body], deadline=EASTER_DEADLINE).referrals[0]

    found = sweep(session, date(2021, 3, 1), date(2021, 4, 20))

    assert [(now, offset) for now, _id, offset, _deadline, _due in found] == [
        (local(date(2021, 3, 23)), -14),
        (local(date(2021, 3, 30)), -7),
        (local(date(2021, 4, 1)), -2),  # Easter Sunday's reminder, on Maundy Thursday
        (local(date(2021, 4, 6)), 0),
        (local(date(2021, 4, 7)), 1),
        (local(date(2021, 4, 13)), 7),
    ]
    assert {referral_id for _now, referral_id, *_ in found} == {referral.id}
    assert planned_rows(session, referral) == [
        (-14, EASTER_DEADLINE, utc(2021, 3, 23, 7, 0)),  # winter time
        (-7, EASTER_DEADLINE, utc(2021, 3, 30, 6, 0)),  # summer time
        (-2, EASTER_DEADLINE, utc(2021, 4, 1, 6, 0)),
        (0, EASTER_DEADLINE, utc(2021, 4, 6, 6, 0)),
        (1, EASTER_DEADLINE, utc(2021, 4, 7, 6, 0)),
        (7, EASTER_DEADLINE, utc(2021, 4, 13, 6, 0)),
    ]
    assert len(reminder_mails(session)) == 6  # one a time to the body's mailbox


def test_across_both_dst_switches_reminders_go_out_at_eight_local_time(session, office):
    spring_body = builders.create_body(session, name="Miljönämnden")
    autumn_body = builders.create_body(session, name="Kultur- och fritidsnämnden")
    spring = a_round(session, office, [spring_body], deadline=date(2021, 3, 26)).referrals[0]
    autumn_strategy = builders.create_strategy(session, officer=office.officer, title="Kulturstrategi")
    autumn = a_round(session, office, [autumn_body], deadline=date(2021, 11, 2),
                     strategy=autumn_strategy).referrals[0]

    found = sweep(session, date(2021, 3, 10), date(2021, 4, 7)) + sweep(session, date(2021, 10, 15),
                                                                         date(2021, 11, 10))

    assert all(now.time() == time(8, 0) and now == due for now, _id, _o, _d, due in found)
    assert planned_rows(session, spring) == [
        (-14, date(2021, 3, 26), utc(2021, 3, 12, 7, 0)),
        (-7, date(2021, 3, 26), utc(2021, 3, 19, 7, 0)),
        (-2, date(2021, 3, 26), utc(2021, 3, 24, 7, 0)),
        (0, date(2021, 3, 26), utc(2021, 3, 26, 7, 0)),
        (1, date(2021, 3, 26), utc(2021, 3, 29, 6, 0)),  # Saturday 27 → Monday 29, after the switch
        (7, date(2021, 3, 26), utc(2021, 4, 6, 6, 0)),  # Good Friday → Tuesday after Easter Monday
    ]
    assert planned_rows(session, autumn) == [
        (-14, date(2021, 11, 2), utc(2021, 10, 19, 6, 0)),
        (-7, date(2021, 11, 2), utc(2021, 10, 26, 6, 0)),
        (-2, date(2021, 11, 2), utc(2021, 10, 29, 6, 0)),  # Sunday 31 October → Friday 29, summer time
        (0, date(2021, 11, 2), utc(2021, 11, 2, 7, 0)),  # winter time again
        (1, date(2021, 11, 2), utc(2021, 11, 3, 7, 0)),
        (7, date(2021, 11, 2), utc(2021, 11, 9, 7, 0)),
    ]


# ---------------------------------------------------------------- the policy

def test_only_unanswered_referrals_get_reminders(session, office):
    names = ["Invited", "In progress", "Submitted", "Declined", "Withdrawn"]
    found = {name: builders.create_body(session, name=name) for name in names}
    secretaries = {name: builders.create_secretary(session, body) for name, body in found.items()}
    round_ = a_round(session, office, list(found.values()))
    referral = {r.body.name: r for r in round_.referrals}
    at = local(date(2021, 3, 10), time(10, 0))
    draft = responses.ReplyDraft(fields=responses.ReplyFields(stance=Stance.APPROVES_WITH_COMMENTS,
                                                              summary="Bra."))
    responses.save_reply(session, secretaries["In progress"], at, referral["In progress"], version=None,
                         draft=draft)
    saved = responses.save_reply(session, secretaries["Submitted"], at, referral["Submitted"], version=None,
                                 draft=draft)
    responses.submit_reply(session, secretaries["Submitted"], at, referral["Submitted"],
                           version=saved.lock_version)
    responses.decline(session, secretaries["Declined"], at, referral["Declined"], "Inga synpunkter.")
    rounds.withdraw_referral(session, office.officer, at, referral["Withdrawn"], "Fel mottagare.")
    session.commit()
    assert referral["In progress"].state == ReferralState.IN_PROGRESS

    planned = jobs.plan(session, local(date(2021, 3, 19)))

    assert sorted(d.referral.body.name for d in planned) == ["In progress", "Invited"]
    assert {m.to_address for m in reminder_mails(session)} == {
        found["Invited"].mailbox, secretaries["Invited"].email,
        found["In progress"].mailbox, secretaries["In progress"].email}


def test_nothing_is_planned_before_the_round_was_sent_or_for_a_round_not_open(session, office):
    body = builders.create_body(session)
    referral = a_round(session, office, [body]).referrals[0]
    referral.invited_at = local(date(2021, 3, 20), time(12, 0))  # invited after the -7 reminder's time
    session.commit()

    assert jobs.plan(session, local(date(2021, 3, 22))) == []
    assert [d.offset for d in jobs.plan(session, local(date(2021, 3, 24)))] == [-2]

    rounds.cancel_round(session, office.officer, local(date(2021, 3, 25)), referral.round, "Strategin dras tillbaka.")
    session.commit()
    assert jobs.plan(session, local(date(2021, 3, 26))) == []  # the 0 reminder of a cancelled round
    assert reminders.due_reminders(session, local(date(2021, 4, 6)), STOCKHOLM) == []


def test_a_granted_anstand_moves_the_reminders_to_the_new_deadline(session, office):
    body = builders.create_body(session, name="Kalmarhem AB", kind="company")
    secretary = builders.create_secretary(session, body, email="vd@kalmarhem.example")
    referral = a_round(session, office, [body], deadline=date(2021, 3, 26)).referrals[0]
    assert [d.offset for d in jobs.plan(session, local(date(2021, 3, 19)))] == [-7]

    extension_requests.grant_extension(session, office.officer, local(date(2021, 3, 20), time(10, 0)), referral,
                                       deadline=date(2021, 4, 16), reason="Styrelsen sammanträder 15 april.")
    session.commit()
    found = sweep(session, date(2021, 3, 20), date(2021, 4, 25))

    new = date(2021, 4, 16)
    assert [(now, offset, deadline) for now, _id, offset, deadline, _due in found] == [
        (local(date(2021, 4, 1)), -14, new),  # 2 April is Good Friday: the Thursday before
        (local(date(2021, 4, 9)), -7, new),  # the old deadline's -7 does not block the new one's
        (local(date(2021, 4, 14)), -2, new),
        (local(date(2021, 4, 16)), 0, new),
        (local(date(2021, 4, 19)), 1, new),  # Saturday 17 → Monday 19
        (local(date(2021, 4, 23)), 7, new),
    ]
    assert [(o, d) for o, d, _ in planned_rows(session, referral)][:2] == [(-7, date(2021, 3, 26)), (-14, new)]
    to_secretary = [m for m in reminder_mails(session) if m.to_address == secretary.email]
    assert "svar senast 26 mars 2021" in to_secretary[0].subject
    assert "svar senast 16 april 2021" in to_secretary[1].subject


def test_a_short_anstand_does_not_send_the_new_deadlines_passed_reminders_at_once(session, office):
    body = builders.create_body(session, name="Miljönämnden")
    referral = a_round(session, office, [body], deadline=date(2021, 3, 26)).referrals[0]
    assert [d.offset for d in jobs.plan(session, local(date(2021, 3, 19)))] == [-7]

    extension_requests.grant_extension(session, office.officer, local(date(2021, 3, 22), time(10, 0)), referral,
                                       deadline=date(2021, 3, 30), reason="Nämnden sammanträder 29 mars.")
    session.commit()

    # The new deadline's -14 (16 March) and -7 (23 March, not yet) : nothing already passed goes out now.
    assert jobs.plan(session, local(date(2021, 3, 22), time(10, 1))) == []
    assert [(d.offset, d.deadline) for d in jobs.plan(session, local(date(2021, 3, 23)))] == [
        (-7, date(2021, 3, 30))]


def test_after_downtime_only_the_latest_missed_reminder_goes_out(session, office):
    body = builders.create_body(session, name="Överförmyndarnämnden")
    referral = a_round(session, office, [body], deadline=date(2021, 3, 26)).referrals[0]

    # The scheduler was down from 1 March until Saturday 27 March at noon: -14, -7, -2 and 0 were missed.
    planned = jobs.plan(session, local(date(2021, 3, 27), time(12, 0)))

    assert [(d.offset, d.due_at) for d in planned] == [(0, local(date(2021, 3, 26)))]
    assert len(reminder_mails(session)) == 1
    assert sweep(session, date(2021, 3, 27), date(2021, 3, 28)) == []  # the earlier ones never follow
    assert [d.offset for d in jobs.plan(session, local(date(2021, 3, 29)))] == [1]
    # Down again until mid-April: only +7 (due 6 April) goes out.
    assert [d.offset for d in jobs.plan(session, local(date(2021, 4, 15), time(9, 30)))] == [7]
    assert [o for o, _d, _at in planned_rows(session, referral)] == [0, 1, 7]
    assert len(reminder_mails(session)) == 3


def test_a_secretary_of_two_bodies_gets_one_mail_listing_both(session, office, smtp):
    social = builders.create_body(session, name="Socialnämnden", mailbox="social@kommun.example")
    environment = builders.create_body(session, name="Miljönämnden", mailbox="miljo@kommun.example")
    builders.create_user(session, bodies=[social, environment], email="sara@kommun.example",
                                name="Sara Sekreterare")
    first = a_round(session, office, [social]).referrals[0]
    other_strategy = builders.create_strategy(session, officer=office.officer, title="Kulturstrategi",
                                              case_reference="KS 2021/0100")
    second = a_round(session, office, [environment], strategy=other_strategy).referrals[0]

    now = local(date(2021, 3, 19))
    planned = jobs.plan(session, now)
    outcome = jobs.drain_outbox(session, now)

    assert sorted(d.referral.id for d in planned) == sorted([first.id, second.id])
    assert outcome == {"sent": 3, "retry": 0, "failed": 0}
    [to_sara] = smtp.to("sara@kommun.example")
    assert to_sara["Subject"] == "Påminnelse om 2 remisser"
    text = to_sara.get_body(("plain",)).get_content()
    assert "Internationell strategi (KS 2020/0946)" in text and "Kulturstrategi (KS 2021/0100)" in text
    assert "Till Socialnämnden" in text and "Till Miljönämnden" in text
    assert f"http://remiss.test/referrals/{first.id}" in text
    assert f"http://remiss.test/referrals/{second.id}" in text
    assert len(smtp.to("social@kommun.example")) == 1
    assert len(smtp.to("miljo@kommun.example")) == 1
    assert len(smtp.messages) == 3


def test_running_the_planner_twice_plans_nothing_new(session, office):
    found = [builders.create_body(session) for _ in range(3)]
    builders.create_secretary(session, found[0])
    a_round(session, office, found)
    now = local(date(2021, 3, 19))

    first = jobs.plan(session, now)
    mails = len(reminder_mails(session))

    assert len(first) == 3 and mails == 4  # three mailboxes and one secretary
    assert jobs.plan(session, now) == []
    assert jobs.plan(session, now + timedelta(hours=6)) == []
    assert jobs.plan(session, now, dry_run=True) == []
    assert session.scalar(select(func.count()).select_from(PlannedReminder)) == 3
    assert len(reminder_mails(session)) == mails


# ---------------------------------------------------------------- the mail

def test_the_reminder_mail_says_what_is_due_by_when_and_where_to_answer(session, office, smtp):
    body = builders.create_body(session, name="Kalmar Vatten AB", kind="company", mailbox="vatten@kalmar.example")
    referral = a_round(session, office, [body]).referrals[0]
    link = f"http://remiss.test/referrals/{referral.id}"

    for day in (date(2021, 3, 19), date(2021, 3, 26), date(2021, 3, 29)):
        jobs.plan(session, local(day))
        jobs.drain_outbox(session, local(day))

    before, on_the_day, overdue = smtp.to("vatten@kalmar.example")
    assert before["Subject"] == "Påminnelse: Remissvar Internationell strategi (KS 2020/0946), svar senast 26 mars 2021"
    assert before["Reply-To"] == "stina.strateg@kommun.example"
    text = before.get_body(("plain",)).get_content()
    assert "Internationell strategi (KS 2020/0946)" in text
    assert "Till Kalmar Vatten AB" in text
    assert 'Svara senast fredag 26 mars 2021 kl. 23.59, märkt "Remissvar Internationell strategi".' in text
    assert link in text
    assert "begära anstånd" in text
    assert link in before.get_body(("html",)).get_content()
    assert on_the_day["Subject"] == "I dag är sista svarsdag: Remissvar Internationell strategi (KS 2020/0946)"
    assert "I dag är sista svarsdag: fredag 26 mars 2021 kl. 23.59." in on_the_day.get_body(("plain",)).get_content()
    assert overdue["Subject"] == "Försenat remissvar: Remissvar Internationell strategi (KS 2020/0946)"
    assert "Sista svarsdag var fredag 26 mars 2021 kl. 23.59 och vi har inte fått något svar" in \
        overdue.get_body(("plain",)).get_content()


def test_a_secretary_who_reads_english_gets_the_reminder_in_english(session, office, smtp):
    body = builders.create_body(session, name="Kalmar Energi AB", kind="company")
    builders.create_secretary(session, body, email="ceo@energi.example", locale="en")
    a_round(session, office, [body])

    jobs.plan(session, local(date(2021, 3, 19)))
    jobs.drain_outbox(session, local(date(2021, 3, 19)))

    [mail] = smtp.to("ceo@energi.example")
    assert mail["Subject"].startswith("Reminder: Remissvar Internationell strategi (KS 2020/0946), reply by ")
    assert "Påminnelse" not in mail["Subject"]


# ---------------------------------------------------------------- the command

def test_the_reminders_command_takes_local_time_and_plans_then_sends(runner, session, office, smtp):
    body = builders.create_body(session, name="Socialnämnden", mailbox="social@kommun.example")
    referral = a_round(session, office, [body]).referrals[0]

    early = runner.invoke("remiss", "reminders", "--now", "2021-03-12T07:59")  # -14 is due at 08:00
    dry = runner.invoke("remiss", "reminders", "--now", "2021-03-19T08:00", "--dry-run")

    assert early.exit_code == 0, early.output
    assert "0 reminder(s) planned" in early.output
    assert dry.exit_code == 0, dry.output
    assert f"{referral.id}\tSocialnämnden\t-7\t2021-03-26\t2021-03-19T08:00:00+01:00" in dry.output
    assert "1 reminder(s) due" in dry.output
    assert planned_rows(session) == [] and smtp.messages == []

    result = runner.invoke("remiss", "reminders", "--now", "2021-03-19T08:00")

    assert result.exit_code == 0, result.output
    assert f"{referral.id}\tSocialnämnden\t-7\t2021-03-26\t2021-03-19T08:00:00+01:00" in result.output
    assert "1 reminder(s) planned" in result.output
    assert "sent 1, to retry 0, failed 0" in result.output
    assert planned_rows(session) == [(-7, date(2021, 3, 26), utc(2021, 3, 19, 7, 0))]
    [mail] = smtp.to("social@kommun.example")
    assert "svar senast 26 mars 2021" in mail["Subject"]

    again = runner.invoke("remiss", "reminders", "--now", "2021-03-19T08:00")
    assert "0 reminder(s) planned" in again.output and len(smtp.messages) == 1

    summer = runner.invoke("remiss", "reminders", "--now", "2021-03-29T08:00")  # the day after the switch
    assert f"{referral.id}\tSocialnämnden\t+1\t2021-03-26\t2021-03-29T08:00:00+02:00" in summer.output
    assert planned_rows(session)[-1] == (1, date(2021, 3, 26), utc(2021, 3, 29, 6, 0))


def test_the_officer_changes_an_open_rounds_reminder_days(client, session, office):
    body = builders.create_body(session, name="Socialnämnden")
    round_ = a_round(session, office, [body])
    client.sign_in(office.officer.email)

    refused = client.post(f"/rounds/{round_.id}/reminders", {"reminder_offsets": "en vecka före"})
    changed = client.post(f"/rounds/{round_.id}/reminders", {"reminder_offsets": "-3, 0, +2"})

    assert refused.status_code == 422
    assert "till exempel -14,-7,-2,0,+1,+7" in refused.text
    assert 'value="en vecka före"' in refused.text
    assert changed.status_code == 302
    session.expire_all()
    assert session.get(type(round_), round_.id).reminder_offsets == "-3,0,2"
    assert [d.offset for d in jobs.plan(session, local(date(2021, 3, 23)))] == [-3]
