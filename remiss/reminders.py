"""Reminders: what is due is a query over the database and the clock; planning one is an insert
that can happen only once (a unique key per referral, offset and deadline), and its mail goes
through the outbox in the same transaction.

A round's policy is a list of day offsets from each referral's effective deadline (negative
before, positive overdue), sent at 08:00 local time; a reminder that falls on a non-business
day goes out the business day before (up to the deadline) or after (overdue). After downtime
only the latest missed reminder of a referral is sent. A person due several at once gets one mail.
"""
import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from . import calendar, invitations
from .mail import external_url, queue_mail, render_mail
from .models import PlannedReminder, Referral, ReferralRound, ReferralState, RoundState

SEND_AT = time(8, 0)
# No policy reaches further than this from a deadline (rounds.parse_offsets enforces it),
# so the query only reads referrals whose deadline lies within this many days of today.
REACH_DAYS = 366
UNANSWERED = (ReferralState.INVITED, ReferralState.IN_PROGRESS)


def offsets(policy: str) -> list[int]:
    return sorted(int(part) for part in policy.split(",") if part.strip())


def reminder_day(deadline: date, offset: int) -> date:
    """The business day a reminder goes out: moved earlier up to the deadline, later when overdue."""
    day = deadline + timedelta(days=offset)
    return calendar.previous_business_day(day) if offset <= 0 else calendar.next_business_day(day)


def due_at(deadline: date, offset: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(reminder_day(deadline, offset), SEND_AT, tzinfo=zone)


@dataclass(frozen=True)
class DueReminder:
    referral: Referral
    offset: int
    deadline: date
    due_at: datetime


def due_reminders(session: Session, now: datetime, zone: ZoneInfo) -> list[DueReminder]:
    """For each unanswered referral of an open round: its latest reminder that is due and not yet
    planned. Reads only referrals near their deadline (the index on state and deadline)."""
    today = calendar.local_date(now, zone)
    candidates = session.scalars(
        select(Referral).join(ReferralRound, ReferralRound.id == Referral.round_id)
        .where(Referral.state.in_(UNANSWERED), ReferralRound.state == RoundState.OPEN,
               Referral.deadline.between(today - timedelta(days=REACH_DAYS), today + timedelta(days=REACH_DAYS)))
        .options(selectinload(Referral.round), selectinload(Referral.body))
    ).all()
    if not candidates:
        return []
    # The last reminder already planned for each referral: nothing timed before it goes out, so a
    # moved deadline (anstånd) does not send its earlier, already passed reminders at once.
    last_planned = dict(session.execute(
        select(PlannedReminder.referral_id, func.max(PlannedReminder.due_at))
        .where(PlannedReminder.referral_id.in_([r.id for r in candidates]))
        .group_by(PlannedReminder.referral_id)
    ).all())
    return [d for d in (_latest_due(r, now, zone, last_planned.get(r.id)) for r in candidates) if d is not None]


def _latest_due(referral: Referral, now: datetime, zone: ZoneInfo, after: datetime | None) -> DueReminder | None:
    """The latest reminder whose time has come and that is later than the referral's invitation and
    its last planned reminder."""
    floor = max((t for t in (referral.invited_at, after) if t is not None), default=None)
    due = [(due_at(referral.deadline, o, zone), o) for o in offsets(referral.round.reminder_offsets)]
    due = [(at, o) for at, o in due if at <= now and (floor is None or at > floor)]
    if not due:
        return None
    at, offset = max(due)
    return DueReminder(referral, offset, referral.deadline, at)


def plan_reminders(session: Session, now: datetime, zone: ZoneInfo) -> list[DueReminder]:
    """Record every due reminder and queue the mails, one per recipient listing theirs. Safe to run
    twice at once: the unique key lets one of them plan each reminder. The caller commits."""
    planned = [d for d in due_reminders(session, now, zone) if _claim(session, now, d)]
    by_address: dict[tuple[str, str], list[DueReminder]] = defaultdict(list)
    for due in planned:
        for address, locale in invitations.recipients(due.referral):
            by_address[(address, locale)].append(due)
    for (address, locale), items in by_address.items():
        items.sort(key=lambda d: (d.deadline, d.referral.body.name))
        key = hashlib.sha256("|".join(f"{d.referral.id}:{d.offset}:{d.deadline}" for d in items).encode())
        officer = invitations.officer_of(items[0].referral)
        queue_mail(session, now, key=f"reminders:{address}:{key.hexdigest()[:32]}", kind="reminder", to=address,
                   rendered=render_mail("reminders", locale, items=items, today=calendar.local_date(now, zone),
                                        links={d.referral.id: external_url(
                                            "referrals.show", referral_id=d.referral.id) for d in items}),
                   reply_to=officer.email, referral_id=items[0].referral.id if len(items) == 1 else None)
    return planned


def _claim(session: Session, now: datetime, due: DueReminder) -> bool:
    values = dict(referral_id=due.referral.id, offset_days=due.offset, deadline=due.deadline, due_at=due.due_at,
                  planned_at=now)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(PlannedReminder).values(values).on_conflict_do_nothing(
        index_elements=["referral_id", "offset_days", "deadline"]).returning(PlannedReminder.id)
    return session.execute(statement).first() is not None


def next_reminder(referral: Referral, now: datetime, zone: ZoneInfo) -> datetime | None:
    """When the next reminder of an unanswered referral will go out, for the round's page."""
    if referral.state not in UNANSWERED:
        return None
    upcoming = [due_at(referral.deadline, o, zone) for o in offsets(referral.round.reminder_offsets)]
    return min((at for at in upcoming if at > now), default=None)
