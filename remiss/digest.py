"""The officer's weekly digest, Monday from 08:00 local time: open rounds, who is overdue,
anstånd requests waiting. Queued once per officer and week (the outbox key says which week)."""
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from . import board, calendar
from .mail import external_url, queue_mail, render_mail

SEND_FROM = time(8, 0)


def queue_weekly_digests(session: Session, now: datetime, zone: ZoneInfo) -> int:
    """Queue this week's digest for every officer with an open round, if it is Monday 08:00 or later."""
    local = now.astimezone(zone)
    if local.weekday() != 0 or local.time() < SEND_FROM:
        return 0
    summaries = board.open_round_summaries(session, now, zone)
    pending = board.pending_extension_requests(session)
    by_officer: dict = {}
    for summary in summaries:
        officer = summary.round.contact or summary.round.strategy.officer
        by_officer.setdefault(officer, []).append(summary)
    year, week, _ = calendar.local_date(now, zone).isocalendar()
    queued = 0
    for officer, rounds in by_officer.items():
        round_ids = {s.round.id for s in rounds}
        rendered = render_mail("weekly_digest", officer.locale, officer=officer, summaries=rounds, week=week,
                               requests=[r for r in pending if r.referral.round_id in round_ids],
                               links={s.round.id: external_url("rounds.show", round_id=s.round.id) for s in rounds})
        queued += queue_mail(session, now, key=f"digest:{officer.id}:{year}-W{week:02d}", kind="digest",
                             to=officer.email, rendered=rendered)
    return queued
