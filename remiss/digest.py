"""The officer's weekly digest, Monday from 08:00 local time: open rounds, who is overdue,
anstånd requests waiting, and rounds whose replies are in but not yet compiled. Queued once per
officer and week (the outbox key says which week)."""
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from . import board, calendar
from .compilation import rounds_awaiting_compilation
from .mail import external_url, queue_mail, render_mail
from .models import Referral, ReferralRound, ReferralState, User

SEND_FROM = time(8, 0)
COMPILATION_ANCHOR = "compilation"  # the round page's section where the compilation is made


@dataclass(frozen=True)
class AwaitingCompilation:
    """A round to nudge the officer about, with what the nudge says of it."""

    round: ReferralRound
    last_deadline: date  # the latest effective deadline, anstånd included
    answered: int
    total: int


def awaiting_compilation(session: Session, now: datetime, zone: ZoneInfo,
                         officer: User | None = None) -> list[AwaitingCompilation]:
    """compilation.rounds_awaiting_compilation (which decides), with each round's last deadline and
    answers counted; three queries however many rounds and bodies."""
    rounds = rounds_awaiting_compilation(session, now, zone, officer)
    if not rounds:
        return []
    answered = Referral.state.in_([ReferralState.SUBMITTED, ReferralState.DECLINED])
    tally = {round_id: (last, count, total) for round_id, last, count, total in session.execute(
        select(Referral.round_id, func.max(Referral.deadline), func.count(case((answered, 1))), func.count())
        .where(Referral.round_id.in_([r.id for r in rounds]), Referral.state != ReferralState.WITHDRAWN)
        .group_by(Referral.round_id))}
    return [AwaitingCompilation(r, *tally[r.id]) for r in rounds]


def compilation_link(round_: ReferralRound) -> str:
    """The absolute link to the round page's compilation section (a mail has no request to build on)."""
    return f"{external_url('rounds.show', round_id=round_.id)}#{COMPILATION_ANCHOR}"


def queue_weekly_digests(session: Session, now: datetime, zone: ZoneInfo) -> int:
    """Queue this week's digest for every officer with an open round or a round awaiting its
    compilation, if it is Monday 08:00 or later."""
    local = now.astimezone(zone)
    if local.weekday() != 0 or local.time() < SEND_FROM:
        return 0
    summaries = board.open_round_summaries(session, now, zone)
    pending = board.pending_extension_requests(session)
    by_officer: dict = {}
    for summary in summaries:
        officer = summary.round.contact or summary.round.strategy.officer
        by_officer.setdefault(officer, []).append(summary)
    # The nudge goes to the strategy's officer, as on the start page: compiling is the officer's
    # work, whoever the round named as its contact.
    to_compile: dict = {}
    for waiting in awaiting_compilation(session, now, zone):
        to_compile.setdefault(waiting.round.strategy.officer, []).append(waiting)
    year, week, _ = calendar.local_date(now, zone).isocalendar()
    queued = 0
    for officer in list(by_officer) + [o for o in to_compile if o not in by_officer]:
        rounds = by_officer.get(officer, [])
        awaiting = to_compile.get(officer, [])
        round_ids = {s.round.id for s in rounds}
        rendered = render_mail("weekly_digest", officer.locale, officer=officer, summaries=rounds, week=week,
                               requests=[r for r in pending if r.referral.round_id in round_ids],
                               links={s.round.id: external_url("rounds.show", round_id=s.round.id) for s in rounds},
                               awaiting=awaiting, compile_links={a.round.id: compilation_link(a.round)
                                                                 for a in awaiting})
        queued += queue_mail(session, now, key=f"digest:{officer.id}:{year}-W{week:02d}", kind="digest",
                             to=officer.email, rendered=rendered)
    return queued
