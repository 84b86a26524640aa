"""What the scheduler does each minute, and what `flask remiss reminders` and `flask remiss outbox send`
run once: plan due reminders, drain the outbox, then make the PDFs officers asked for. Like a view, this
layer commits; the workflow functions it calls never do."""
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from . import compilation, digest, reminders
from .errors import WorkflowError
from .models import Compilation
from .invitations import zone
from .mail import claim_due, connected, deliver

# pg_try_advisory_xact_lock key: one planner at a time across every host (released at commit).
PLANNER_LOCK = 0x52454D49  # "REMI"
MAX_BATCHES = 50
# A conversion takes seconds (up to pdf.TIMEOUT_SECONDS): a few per tick, so reminders are not held up.
PDFS_PER_TICK = 3


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


def make_pending_pdfs(session: Session, now: datetime, limit: int = PDFS_PER_TICK) -> dict[str, int]:
    """Make the PDFs asked for on the compilation page, oldest first, each committed on its own. A failure
    (LibreOffice missing, crashed or too slow) is kept on the compilation for the page to show."""
    outcome = {"made": 0, "failed": 0}
    for _ in range(limit):
        kept = compilation.next_pending_pdf(session)
        if kept is None:
            session.rollback()  # ends the read (and, on PostgreSQL, nothing is locked)
            break
        kept_id = kept.id
        try:
            compilation.make_pdf(session, None, now, kept)
            outcome["made"] += 1
        except WorkflowError as error:
            session.rollback()  # nothing of the attempt is kept but why it failed
            compilation.pdf_failed(session, session.get(Compilation, kept_id), error)
            outcome["failed"] += 1
        session.commit()
    return outcome


def tick(session: Session, now: datetime, sender=None) -> tuple[list, dict[str, int]]:
    """One minute's work."""
    planned = plan(session, now)
    outcome = drain_outbox(session, now, sender)
    make_pending_pdfs(session, now)
    return planned, outcome
