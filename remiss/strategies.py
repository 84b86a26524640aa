"""Strategies and their draft versions."""
import hashlib
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit
from .errors import WorkflowError
from .models import Draft, Role, StoredFile, Strategy, User

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def create_strategy(session: Session, actor: User, now: datetime, *, title: str, case_reference: str,
                    officer: User, description: str = "") -> Strategy:
    """Open a matter. Raises WorkflowError when the case reference is taken or the officer is not one."""
    case_reference = " ".join(case_reference.split())
    if not officer.has_role(Role.OFFICER, Role.ADMIN):
        raise WorkflowError(_l("Ansvarig måste vara strateg eller administratör."), "officer")
    if session.scalar(select(Strategy.id).where(Strategy.case_reference == case_reference)) is not None:
        raise WorkflowError(_l("Diarienumret används redan av ett annat ärende."), "case_reference")
    strategy = Strategy(title=title.strip(), case_reference=case_reference, description=description,
                        officer_id=officer.id, created_at=now)
    session.add(strategy)
    session.flush()
    audit.record(session, actor, now, "strategy.created", strategy, strategy_id=strategy.id)
    return strategy


def store_file(session: Session, actor: User | None, now: datetime, *, filename: str, content_type: str,
               data: bytes) -> StoredFile:
    stored = StoredFile(filename=filename, content_type=content_type, size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(), data=data,
                        uploaded_by_id=actor.id if actor else None, uploaded_at=now)
    session.add(stored)
    session.flush()
    return stored


def add_draft_file(session: Session, actor: User | None, now: datetime, strategy: Strategy, *,
                   filename: str, data: bytes, title: str = "") -> Draft:
    """Store an uploaded .docx as the strategy's next version (1, 2, …)."""
    latest = session.scalar(select(func.max(Draft.version)).where(Draft.strategy_id == strategy.id)) or 0
    stored = store_file(session, actor, now, filename=filename, content_type=DOCX_TYPE, data=data)
    draft = Draft(strategy_id=strategy.id, version=latest + 1, title=title or strategy.title, file_id=stored.id,
                  created_by_id=actor.id if actor else None, created_at=now)
    session.add(draft)
    session.flush()
    audit.record(session, actor, now, "draft.added", draft, after=str(draft.version), strategy_id=strategy.id)
    return draft
