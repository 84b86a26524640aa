"""A body's reply (remissvar), its submitted versions, comments per section and their handling."""
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, check_in


class Stance(StrEnum):
    APPROVES = "approves"  # tillstyrker
    APPROVES_WITH_COMMENTS = "approves_with_comments"  # tillstyrker med synpunkter
    REJECTS = "rejects"  # avstyrker
    NO_COMMENTS = "no_comments"  # inga synpunkter
    ABSTAINS = "abstains"  # avstår från att yttra sig


class DispositionDecision(StrEnum):
    CONSIDERED = "considered"  # beaktas
    PARTLY_CONSIDERED = "partly_considered"  # beaktas delvis
    NOT_CONSIDERED = "not_considered"  # beaktas ej
    NOTED = "noted"  # noteras


class Response(db.Model):
    """The working copy of a body's reply; every submission is frozen in a ResponseVersion."""

    __tablename__ = "responses"
    __table_args__ = (
        CheckConstraint(check_in("stance", list(Stance)) + " OR stance IS NULL", name="stance"),
        CheckConstraint("lock_version >= 1", name="lock_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), unique=True)
    stance: Mapped[str | None] = mapped_column(String(30))
    summary: Mapped[str] = mapped_column(Text, default="")
    proposed_decision: Mapped[str] = mapped_column(Text, default="")
    case_reference: Mapped[str] = mapped_column(String(50), default="")
    deciding_body: Mapped[str] = mapped_column(String(200), default="")
    decision_date: Mapped[date | None] = mapped_column(Date)
    decision_paragraph: Mapped[str] = mapped_column(String(20), default="")
    signatory_name: Mapped[str] = mapped_column(String(200), default="")
    signatory_title: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(300), default="")
    # Optimistic locking: a save names the version it started from (no lost words).
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    registered_by_officer: Mapped[bool] = mapped_column(Boolean, default=False)
    received_on: Mapped[date | None] = mapped_column(Date)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(Boolean, default=False)

    __mapper_args__ = {"version_id_col": lock_version}

    referral: Mapped["Referral"] = relationship()  # noqa: F821
    comments: Mapped[list["SectionComment"]] = relationship(
        back_populates="response", cascade="all, delete-orphan", passive_deletes=True
    )
    versions: Mapped[list["ResponseVersion"]] = relationship(
        back_populates="response", order_by="ResponseVersion.number", cascade="all, delete-orphan",
        passive_deletes=True,
    )
    attachments: Mapped[list["ResponseAttachment"]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class ResponseVersion(db.Model):
    """A submitted reply as it was sent: kept for ever, the latest counts."""

    __tablename__ = "response_versions"
    __table_args__ = (UniqueConstraint("response_id", "number"), CheckConstraint("number >= 1", name="number"))

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    content: Mapped[dict] = mapped_column(JSON)

    response: Mapped[Response] = relationship(back_populates="versions")


class SectionComment(db.Model):
    """A comment under one heading of the draft, or on the whole draft when section_id is null."""

    __tablename__ = "section_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    section_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id", ondelete="RESTRICT"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)

    response: Mapped[Response] = relationship(back_populates="comments")
    section: Mapped["Section | None"] = relationship()  # noqa: F821


class Disposition(db.Model):
    """The officer's handling (ställningstagande) of one comment as a body submitted it, with a reason.

    A comment is named by its referral and the draft section's key; "" names the general comments
    (not NULL: NULLs are distinct in a unique constraint, so there could be two for one referral).
    """

    __tablename__ = "dispositions"
    __table_args__ = (
        CheckConstraint(check_in("decision", list(DispositionDecision)), name="decision"),
        UniqueConstraint("referral_id", "section_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"))
    section_key: Mapped[str] = mapped_column(String(64))  # "" = the general comments
    decision: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text, default="")
    # The comment as it read when decided on: a later version in other words is unhandled again.
    # "" on rows made before it was kept (they count as decided on the current words).
    comment_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)

    referral: Mapped["Referral"] = relationship()  # noqa: F821


class ResponseAttachment(db.Model):
    """A file attached to a reply, such as the signed decision (protokollsutdrag)."""

    __tablename__ = "response_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id", ondelete="RESTRICT"))
    description: Mapped[str] = mapped_column(String(300), default="")

    file: Mapped["StoredFile"] = relationship()  # noqa: F821
