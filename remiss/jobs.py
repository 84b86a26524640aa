"""What the scheduler does each minute, and what `flask remiss reminders` and `flask remiss outbox send`
run once: plan due reminders, then drain the outbox. Like a view, this layer commits; the workflow
functions it calls never do."""
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from . import digest, reminders
from .invitations import zone
from .mail import claim_due, connected, deliver

# pg_try_advisory_xact_lock key: one planner at a time across every host (released at commit).
PLANNER_LOCK = 0x52454D49  # "REMI"
MAX_BATCHES = 50


def plan(session: Session, now: datetime, *, dry_run: bool = False) -> list[reminders.DueReminder]:
    """Plan the due reminders and commit (or, dry run, report them and change nothing)."""
    if dry_run:
        return reminders.due_reminders(session, now, zone())
    if not _planner_lock(session):
        session.rollback()
        return []
    planned = reminders.plan_reminders(session, now, zone())
    digest.queue_weekly_digests(session, now, zone())
    session.commit()
    return planned


def _planner_lock(session: Session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite serialises writers itself
    return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": PLANNER_LOCK}).scalar())


def drain_outbox(session: Session, now: datetime, sender=None, batch: int = 100) -> dict[str, int]:
    """Send what is due, a batch at a time: the claim is committed before any mail leaves, and each
    outcome right after its mail, so a crash loses nothing and repeats at most the one in flight."""
    outcome = {"sent": 0, "retry": 0, "failed": 0}
    for _ in range(MAX_BATCHES):
        rows = claim_due(session, now, batch)
        session.commit()
        if not rows:
            break
        with connected(sender) as connection:
            for row in rows:
                outcome[deliver(session, now, row, connection)] += 1
                session.commit()
    return outcome


def tick(session: Session, now: datetime, sender=None) -> tuple[list, dict[str, int]]:
    """One minute's work."""
    planned = plan(session, now)
    return planned, drain_outbox(session, now, sender)
