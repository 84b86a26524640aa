"""What is sent out: a strategy, its draft versions and their sections, and stored files."""
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime


class StoredFile(db.Model):
    """An uploaded file's bytes, kept in the database so one backup holds everything."""

    __tablename__ = "stored_files"
    __table_args__ = (CheckConstraint("size >= 0", name="size"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # Deferred: lists of files never load their bytes.
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Strategy(db.Model):
    """The matter being prepared (ärende), known by its case reference (diarienummer)."""

    __tablename__ = "strategies"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    case_reference: Mapped[str] = mapped_column(String(50), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    officer: Mapped["User"] = relationship()  # noqa: F821
    drafts: Mapped[list["Draft"]] = relationship(
        back_populates="strategy", order_by="Draft.version", cascade="all, delete-orphan", passive_deletes=True
    )


class Draft(db.Model):
    """One version of the strategy text (utkast), numbered 1, 2, … per strategy."""

    __tablename__ = "drafts"
    __table_args__ = (
        UniqueConstraint("strategy_id", "version"),
        CheckConstraint("version >= 1", name="version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    strategy_id: Mapped[int] = mapped_column(ForeignKey("strategies.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id", ondelete="RESTRICT"))
    source_text: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The copy that goes out when the upload carried tracked changes, comments or personal metadata;
    # `file` stays the officer's original.
    clean_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id", ondelete="RESTRICT"))
    cleaned: Mapped[str] = mapped_column(String(300), default="", server_default="")  # what the copy lacks
    # The officer's corrections of the headings found: {"paragraph index": level, 0 = not a heading}.
    outline_corrections: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    outline_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outline_confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    strategy: Mapped[Strategy] = relationship(back_populates="drafts")
    file: Mapped[StoredFile | None] = relationship(foreign_keys=[file_id])
    clean_file: Mapped[StoredFile | None] = relationship(foreign_keys=[clean_file_id])
    sections: Mapped[list["Section"]] = relationship(
        back_populates="draft", order_by="Section.position", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def outgoing_file(self) -> StoredFile | None:
        """What the bodies get: the clean copy where one was made, else the file as uploaded."""
        return self.clean_file or self.file


class Section(db.Model):
    """A heading of a draft. `key` stays the same across versions so comments follow it."""

    __tablename__ = "sections"
    __table_args__ = (
        UniqueConstraint("draft_id", "position"),
        UniqueConstraint("draft_id", "key"),
        CheckConstraint("level BETWEEN 0 AND 9", name="level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(64))
    level: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(20), default="")
    heading: Mapped[str] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text, default="")
    # How the heading was found (style, outline, bold, size, manual) and its paragraph in the Word file.
    found_by: Mapped[str] = mapped_column(String(10), default="", server_default="")
    paragraph: Mapped[int | None] = mapped_column(Integer)

    draft: Mapped[Draft] = relationship(back_populates="sections")
