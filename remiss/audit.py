"""The audit log: one row per change of state, written by the workflow function that made it."""
from datetime import datetime

from sqlalchemy.orm import Session

from .models import AuditEvent, User


def record(session: Session, actor: User | None, now: datetime, action: str, subject, *,
           before: str = "", after: str = "", strategy_id: int | None = None,
           round_id: int | None = None, **detail) -> AuditEvent:
    """Log `action` on `subject` (a model instance, flushed so it has an id)."""
    event = AuditEvent(
        at=now, actor_id=actor.id if actor else None, action=action,
        subject_type=type(subject).__name__, subject_id=subject.id,
        strategy_id=strategy_id, round_id=round_id, before=str(before), after=str(after), detail=detail,
    )
    session.add(event)
    return event
