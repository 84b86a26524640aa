"""What the system remembers of what it did: mail to send (the outbox) and the audit log."""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, check_in


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(db.Model):
    """A mail waiting to leave. `key` is unique so the same mail is never queued twice."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(check_in("state", list(OutboxState)), name="state"),
        CheckConstraint("attempts >= 0", name="attempts"),
        # The sender only ever reads pending rows that are due: keep that index small.
        Index(
            "ix_outbox_messages_pending_due",
            "next_attempt_at",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(254))
    reply_to: Mapped[str] = mapped_column(String(254), default="")
    subject: Mapped[str] = mapped_column(String(400))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")
    # Files to attach, by StoredFile id, read when the mail leaves.
    attachment_ids: Mapped[list] = mapped_column(JSON, default=list)
    # Small generated files (an .ics event): [{"filename", "content_type", "text"}].
    inline_attachments: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id", ondelete="SET NULL"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")


class AuditEvent(db.Model):
    """One change of state: who, when, what, before → after."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(Integer)
    strategy_id: Mapped[int | None] = mapped_column(ForeignKey("strategies.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("referral_rounds.id", ondelete="CASCADE"), index=True)
    before: Mapped[str] = mapped_column(String(200), default="")
    after: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class PlannedReminder(db.Model):
    """A reminder decided for one referral. Unique per (referral, offset, deadline): whatever runs the
    planner, and however often, a reminder is planned once — and again only if the deadline moves."""

    __tablename__ = "planned_reminders"
    __table_args__ = (UniqueConstraint("referral_id", "offset_days", "deadline"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"))
    offset_days: Mapped[int] = mapped_column(Integer)
    deadline: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime)


compilation_versions = db.Table(
    "compilation_versions",
    db.Column("compilation_id", ForeignKey("compilations.id", ondelete="CASCADE"), primary_key=True),
    db.Column("response_version_id", ForeignKey("response_versions.id", ondelete="CASCADE"), primary_key=True),
)


class Compilation(db.Model):
    """A remissammanställning as it was made: who, when, the .docx, and the submitted versions it covered.
    Kept for ever, so what went to the executive board can be downloaded again exactly."""

    __tablename__ = "compilations"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("referral_rounds.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id", ondelete="RESTRICT"))
    # The officer's own texts for the chapter "Inledning", as they were when this one was made.
    background: Mapped[str] = mapped_column(Text, default="", server_default="")
    assessment: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The PDF (tagged PDF/A) of the .docx: asked for on the page, made by the scheduler outside any request.
    pdf_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id", ondelete="RESTRICT"))
    pdf_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # set while waiting for the scheduler
    pdf_error: Mapped[str] = mapped_column(Text, default="", server_default="")  # why the last attempt failed

    created_by: Mapped["User | None"] = relationship()  # noqa: F821
    file: Mapped["StoredFile"] = relationship(foreign_keys=[file_id])  # noqa: F821
    pdf_file: Mapped["StoredFile | None"] = relationship(foreign_keys=[pdf_file_id])  # noqa: F821
    versions: Mapped[list["ResponseVersion"]] = relationship(secondary=compilation_versions)  # noqa: F821
