"""A referral round (remissomgång), one referral per body in it, and extension requests (anstånd)."""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, check_in


class RoundState(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class ReferralState(StrEnum):
    INVITED = "invited"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class ExtensionState(StrEnum):
    REQUESTED = "requested"
    GRANTED = "granted"
    REFUSED = "refused"


DEFAULT_REMINDER_OFFSETS = "-14,-7,-2,0,1,7"


class ReferralRound(db.Model):
    __tablename__ = "referral_rounds"
    __table_args__ = (
        CheckConstraint(check_in("state", list(RoundState)), name="state"),
        CheckConstraint("state = 'draft' OR launched_at IS NOT NULL", name="launched_at_when_launched"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # RESTRICT: a strategy that has been out on referral carries public records (the replies);
    # it is never deleted along with them.
    strategy_id: Mapped[int] = mapped_column(ForeignKey("strategies.id", ondelete="RESTRICT"), index=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="RESTRICT"))
    state: Mapped[str] = mapped_column(String(20), default=RoundState.DRAFT)
    deadline: Mapped[date] = mapped_column(Date)
    reply_label: Mapped[str] = mapped_column(String(200), default="")
    cover_letter: Mapped[str] = mapped_column(Text, default="")
    reminder_offsets: Mapped[str] = mapped_column(String(100), default=DEFAULT_REMINDER_OFFSETS)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    strategy: Mapped["Strategy"] = relationship()  # noqa: F821
    draft: Mapped["Draft"] = relationship()  # noqa: F821
    contact: Mapped["User | None"] = relationship(foreign_keys=[contact_id])  # noqa: F821
    referrals: Mapped[list["Referral"]] = relationship(
        back_populates="round", cascade="all, delete-orphan", passive_deletes=True
    )


class Referral(db.Model):
    """One body in one round: the unit everything is tracked by. Overdue is derived, never stored."""

    __tablename__ = "referrals"
    __table_args__ = (
        UniqueConstraint("round_id", "body_id"),
        CheckConstraint(check_in("state", list(ReferralState)), name="state"),
        # What the reminder planner reads: unanswered referrals by deadline.
        Index("ix_referrals_state_deadline", "state", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("referral_rounds.id", ondelete="CASCADE"))
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="RESTRICT"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=ReferralState.INVITED)
    deadline: Mapped[date] = mapped_column(Date)  # effective: moves with a granted anstånd
    # Grows each time the deadline moves: the SEQUENCE of the referral's calendar event.
    deadline_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The officer lets a body change its reply after the deadline; the next submission ends it.
    reopened: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    round: Mapped[ReferralRound] = relationship(back_populates="referrals")
    body: Mapped["Body"] = relationship()  # noqa: F821


class ExtensionRequest(db.Model):
    __tablename__ = "extension_requests"
    __table_args__ = (
        CheckConstraint(check_in("state", list(ExtensionState)), name="state"),
        CheckConstraint(
            "state = 'requested' OR (decided_at IS NOT NULL)", name="decided_when_decided"
        ),
        CheckConstraint("state <> 'granted' OR granted_deadline IS NOT NULL", name="granted_has_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=ExtensionState.REQUESTED)
    requested_deadline: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    granted_deadline: Mapped[date | None] = mapped_column(Date)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    referral: Mapped[Referral] = relationship()
