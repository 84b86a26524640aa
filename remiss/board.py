"""The officer's status board: one row per body in a round, read in a fixed number of queries.

Overdue is derived here from the clock and the deadline, never stored. The received date (inkom) of a
reply and whether that makes it late are decided here too, for every page and document that shows them.
"""
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from . import calendar
from .i18n import swedish_key
from .models import (
    Body, ExtensionRequest, ExtensionState, PlannedReminder, Referral, ReferralRound,
    ReferralState, Response, ResponseVersion, RoundState,
)

STATUSES = ("invited", "in_progress", "submitted", "declined", "overdue", "late", "withdrawn")
ANSWERED = frozenset(("submitted", "declined", "late"))


class BoardRow(NamedTuple):
    """One body on the board, as plain values: a board of 200 rows builds no ORM objects (and, being a
    tuple, costs little to build and to read from a template)."""

    referral_id: int
    body_name: str
    body_code: str
    status: str
    deadline: date
    days_left: int
    extension_state: str | None  # the latest request's, whatever its state
    extension_requested: date | None
    last_reminder: datetime | None
    stance: str | None  # only once answered
    case_reference: str  # theirs, only once answered
    latest_version: int | None  # the submitted version that counts
    answered: bool  # submitted, declined or late
    received_on: date | None  # inkom, once answered


_UNANSWERED = (None, None, "", None)
_NO_EXTENSION = (None, None)
_name_key = lru_cache(maxsize=4096)(swedish_key)  # the same names, sorted again on every board


def received_on(registered_on: str | date | None, submitted_at: datetime | None, zone: ZoneInfo) -> date | None:
    """Inkom: the date the municipality received a reply. The date the officer entered for a reply
    registered from e-mail or paper (`received_on` of the kept version), else the local date it was
    submitted in the app. None for a reply not submitted."""
    if isinstance(registered_on, str):
        try:
            registered_on = date.fromisoformat(registered_on)
        except ValueError:
            registered_on = None
    if isinstance(registered_on, date):
        return registered_on
    return calendar.local_date(submitted_at, zone) if submitted_at is not None else None


def received_late(received: date, deadline: date) -> bool:
    """A reply is late when it came in after its deadline day (the body's own, anstånd included)."""
    return received > deadline


def status_of(state: str, late: bool, deadline: date, round_open: bool, now: datetime, zone: ZoneInfo) -> str:
    """The state a board shows: the stored one, or overdue / late derived from the clock."""
    if state == ReferralState.SUBMITTED:
        return "late" if late else "submitted"
    if state in (ReferralState.DECLINED, ReferralState.WITHDRAWN):
        return state
    if round_open and now > calendar.deadline_instant(deadline, zone):
        return "overdue"
    return state


def referral_status(referral: Referral, response: Response | None, now: datetime, zone: ZoneInfo) -> str:
    return status_of(referral.state, bool(response and response.late), referral.deadline,
                     referral.round.state == RoundState.OPEN, now, zone)


@cache
def _board_statements() -> tuple:
    """The board's four statements, built once: building them costs more than running them on a round of 200."""
    round_id = bindparam("round_id")
    found = (select(Referral.id, Referral.state, Referral.deadline, Body.name, Body.code, Response.late)
             .join(Body, Body.id == Referral.body_id)
             .outerjoin(Response, Response.referral_id == Referral.id)
             .where(Referral.round_id == round_id))
    extensions = (select(ExtensionRequest.referral_id, ExtensionRequest.state, ExtensionRequest.requested_deadline)
                  .join(Referral).where(Referral.round_id == round_id)
                  .order_by(ExtensionRequest.requested_at, ExtensionRequest.id))
    reminders = (select(PlannedReminder.referral_id, func.max(PlannedReminder.planned_at))
                 .join(Referral, Referral.id == PlannedReminder.referral_id)
                 .where(Referral.round_id == round_id)
                 .group_by(PlannedReminder.referral_id))
    newer = aliased(ResponseVersion)
    latest = (select(Response.referral_id, ResponseVersion.number, ResponseVersion.content["stance"].as_string(),
                     ResponseVersion.content["case_reference"].as_string(),
                     ResponseVersion.content["received_on"].as_string(), ResponseVersion.submitted_at)
              .join(ResponseVersion, ResponseVersion.response_id == Response.id)
              .join(Referral, Referral.id == Response.referral_id)
              .where(Referral.round_id == round_id,
                     ~exists().where(newer.response_id == ResponseVersion.response_id,
                                     newer.number > ResponseVersion.number)))
    return found, extensions, reminders, latest


def board_rows(session: Session, round_: ReferralRound, now: datetime, zone: ZoneInfo) -> list[BoardRow]:
    """Every referral of the round with what the board shows; four queries whatever the size.
    Stance and case reference are the latest submitted version's: the working copy is the body's own."""
    found_query, extensions_query, reminders_query, latest_query = _board_statements()
    asked = {"round_id": round_.id}
    found = session.execute(found_query, asked).all()
    extensions = {referral_id: (state, requested)
                  for referral_id, state, requested in session.execute(extensions_query, asked)}
    reminders = dict(session.execute(reminders_query, asked).all())
    latest = session.execute(latest_query, asked).all()
    versions = {referral_id: (number, stance, case_reference, received_on(registered_on, submitted_at, zone))
                for referral_id, number, stance, case_reference, registered_on, submitted_at in latest}
    round_open = round_.state == RoundState.OPEN
    # A round has a handful of distinct deadlines and states: each rule is asked once per combination.
    statuses: dict[tuple, str] = {}
    days: dict[date, int] = {}
    rows = []
    for referral_id, state, deadline, name, code, late in found:
        late = bool(late)
        status = statuses.get((state, late, deadline))
        if status is None:
            status = statuses[state, late, deadline] = status_of(state, late, deadline, round_open, now, zone)
        days_left = days.get(deadline)
        if days_left is None:
            days_left = days[deadline] = calendar.days_left(deadline, now, zone)
        answered = status in ANSWERED
        latest_version, stance, case_reference, received = versions.get(referral_id, _UNANSWERED)
        extension_state, requested = extensions.get(referral_id, _NO_EXTENSION)
        rows.append(BoardRow(
            referral_id, name, code, status, deadline, days_left, extension_state, requested,
            reminders.get(referral_id), stance if answered else None, (case_reference or "") if answered else "",
            latest_version, answered, received if answered else None))
    return sorted(rows, key=lambda row: _name_key(row.body_name))


def counts(rows: list[BoardRow]) -> Counter:
    tally = Counter(row.status for row in rows)
    tally["total"] = sum(1 for row in rows if row.status != "withdrawn")
    tally["answered"] = sum(1 for row in rows if row.answered)
    return tally


@dataclass(frozen=True)
class RoundSummary:
    round: ReferralRound
    total: int
    answered: int
    overdue: int
    pending_extensions: int
    next_deadline: date | None


def open_round_summaries(session: Session, now: datetime, zone: ZoneInfo) -> list[RoundSummary]:
    """The officer's start page: every open round with its progress; a fixed number of queries."""
    rounds = session.scalars(
        select(ReferralRound).where(ReferralRound.state == RoundState.OPEN)
        .options(selectinload(ReferralRound.strategy), selectinload(ReferralRound.referrals))
        .order_by(ReferralRound.deadline)
    ).all()
    pending = dict(session.execute(
        select(Referral.round_id, func.count(ExtensionRequest.id))
        .join(ExtensionRequest, ExtensionRequest.referral_id == Referral.id)
        .where(ExtensionRequest.state == ExtensionState.REQUESTED)
        .group_by(Referral.round_id)
    ).all())
    today = calendar.local_date(now, zone)
    summaries = []
    for round_ in rounds:
        active = [r for r in round_.referrals if r.state != ReferralState.WITHDRAWN]
        waiting = [r for r in active if r.state not in (ReferralState.SUBMITTED, ReferralState.DECLINED)]
        summaries.append(RoundSummary(
            round=round_, total=len(active), answered=len(active) - len(waiting),
            overdue=sum(1 for r in waiting if now > calendar.deadline_instant(r.deadline, zone)),
            pending_extensions=pending.get(round_.id, 0),
            next_deadline=min((r.deadline for r in waiting if r.deadline >= today), default=None),
        ))
    return summaries


def pending_extension_requests(session: Session) -> list[ExtensionRequest]:
    return list(session.scalars(
        select(ExtensionRequest).where(ExtensionRequest.state == ExtensionState.REQUESTED)
        .options(selectinload(ExtensionRequest.referral).selectinload(Referral.body),
                 selectinload(ExtensionRequest.referral).selectinload(Referral.round)
                 .selectinload(ReferralRound.strategy))
        .order_by(ExtensionRequest.requested_at)
    ))
