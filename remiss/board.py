"""The officer's status board: one row per body in a round, read in a fixed number of queries.

Overdue and late are derived here from the clock and the deadline, never stored.
"""
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from . import calendar
from .i18n import swedish_key
from .models import (
    Body, ExtensionRequest, ExtensionState, OutboxMessage, OutboxState, Referral, ReferralRound,
    ReferralState, Response, RoundState,
)

STATUSES = ("invited", "in_progress", "submitted", "declined", "overdue", "late", "withdrawn")


@dataclass(frozen=True)
class BoardRow:
    referral: Referral
    body: Body
    response: Response | None
    status: str
    deadline: date
    days_left: int
    extension: ExtensionRequest | None  # the latest request, whatever its state
    last_reminder: datetime | None

    @property
    def answered(self) -> bool:
        return self.status in ("submitted", "declined", "late")


def referral_status(referral: Referral, response: Response | None, now: datetime, zone: ZoneInfo) -> str:
    if referral.state == ReferralState.WITHDRAWN:
        return "withdrawn"
    if referral.state == ReferralState.SUBMITTED:
        return "late" if response is not None and response.late else "submitted"
    if referral.state == ReferralState.DECLINED:
        return "declined"
    if referral.round.state == RoundState.OPEN and now > calendar.deadline_instant(referral.deadline, zone):
        return "overdue"
    return referral.state


def board_rows(session: Session, round_: ReferralRound, now: datetime, zone: ZoneInfo) -> list[BoardRow]:
    """Every referral of the round with what the board shows; three queries whatever the size."""
    found = session.execute(
        select(Referral, Body, Response)
        .join(Body, Body.id == Referral.body_id)
        .outerjoin(Response, Response.referral_id == Referral.id)
        .where(Referral.round_id == round_.id)
    ).all()
    extensions: dict[int, ExtensionRequest] = {}
    for request in session.scalars(
        select(ExtensionRequest).join(Referral).where(Referral.round_id == round_.id)
        .order_by(ExtensionRequest.requested_at, ExtensionRequest.id)
    ):
        extensions[request.referral_id] = request
    reminders = dict(session.execute(
        select(OutboxMessage.referral_id, func.max(OutboxMessage.sent_at))
        .join(Referral, Referral.id == OutboxMessage.referral_id)
        .where(Referral.round_id == round_.id, OutboxMessage.kind == "reminder",
               OutboxMessage.state == OutboxState.SENT)
        .group_by(OutboxMessage.referral_id)
    ).all())
    rows = [
        BoardRow(referral=referral, body=body, response=response,
                 status=referral_status(referral, response, now, zone), deadline=referral.deadline,
                 days_left=calendar.days_left(referral.deadline, now, zone),
                 extension=extensions.get(referral.id), last_reminder=reminders.get(referral.id))
        for referral, body, response in found
    ]
    return sorted(rows, key=lambda row: swedish_key(row.body.name))


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
            overdue=sum(1 for r in waiting if r.deadline < today),
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
