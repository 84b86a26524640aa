"""Draft versions of a strategy: importing a Word file or pasted text, stable section keys, comparison
(with the comments the version sent on referral received)."""
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from difflib import SequenceMatcher
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .clean_copy import clean_copy
from .dispositions import GENERAL, HandlingRow, handling_rows
from .docx_files import DOCX_TYPE, PDF_TYPE, ParsedDraft, check_docx, parse_docx, parse_text
from .errors import WorkflowError
from .models import Draft, ReferralRound, Role, RoundState, Section, StoredFile, Strategy, User

EXTENSIONS = {DOCX_TYPE: ".docx", PDF_TYPE: ".pdf"}
# A renamed heading still counts as the same section when it is this similar (0–1).
HEADING_SIMILARITY = 0.6
# A heading rewritten beyond that is still matched when its text is nearly the same.
TEXT_SIMILARITY = 0.85


def import_docx(session: Session, actor: User | None, now: datetime, strategy: Strategy, *,
                filename: str, data: bytes) -> Draft:
    """Check and parse an uploaded .docx, then store it as the strategy's next version.
    Raises WorkflowError (nothing stored) when the file is not a sane .docx."""
    check_docx(data, filename, current_app.config["MAX_UPLOAD_SIZE"])
    parsed = parse_docx(data)
    stored = store_file(session, actor, now, filename=filename, content_type=DOCX_TYPE, data=data)
    draft = _add_version(session, actor, now, strategy, parsed, file_id=stored.id)
    _make_clean_copy(session, actor, now, draft, filename, data)
    return draft


def _make_clean_copy(session: Session, actor: User | None, now: datetime, draft: Draft, filename: str,
                     data: bytes) -> None:
    """A draft carrying tracked changes, reviewers' comments or personal metadata goes out as a clean
    copy under the same name; the officer keeps the original."""
    try:
        findings, clean = clean_copy(data)
    except ValueError as error:  # check_docx and parse_docx read it; a part only they skip is broken
        raise WorkflowError(_l("Filen är skadad och kan inte läsas. Öppna den i Word, spara den igen och "
                               "försök på nytt."), "file") from error
    if clean is None:
        return
    draft.clean_file_id = store_file(session, actor, now, filename=filename, content_type=DOCX_TYPE,
                                     data=clean).id
    draft.cleaned = findings.summary[:300]


def outline(draft: Draft) -> ParsedDraft:
    """The draft's Word file read again with the officer's corrections: every heading found, how,
    and the short lines that could be headings. A pasted draft has its sections only."""
    if draft.file is None:
        return parse_text(draft.source_text)
    return parse_docx(draft.file.data, corrections_of(draft))


def corrections_of(draft: Draft) -> dict[int, int]:
    return {int(index): int(level) for index, level in (draft.outline_corrections or {}).items()}


def in_launched_round(session: Session, draft: Draft) -> bool:
    return session.scalar(select(ReferralRound.id).where(ReferralRound.draft_id == draft.id,
                                                         ReferralRound.state != RoundState.DRAFT).limit(1)) is not None


def correct_outline(session: Session, actor: User, now: datetime, draft: Draft, levels: dict[int, int]) -> Draft:
    """Set which paragraphs are headings and at which level (paragraph index → level, 0 for none),
    rebuild the sections from the Word file, and mark the outline confirmed. Only a level that differs
    from what was found is kept as a correction. Raises WorkflowError once the version has gone out in
    a round (its sections carry comments), and for a level outside 0–9."""
    if not actor.has_role(Role.OFFICER, Role.ADMIN):
        raise WorkflowError(_l("Bara en strateg kan rätta utkastets rubriker."))
    if draft.file is None:
        raise WorkflowError(_l("Bara ett uppladdat Word-dokument har rubriker att rätta."))
    if in_launched_round(session, draft):
        raise WorkflowError(_l("Versionen har redan skickats på remiss. Ladda upp en ny version i stället."))
    if any(not 0 <= level <= 9 for level in levels.values()):
        raise WorkflowError(_l("En rubriknivå ska vara mellan 1 och 9."))
    found = {line.paragraph: line.level or 0 for line in parse_docx(draft.file.data).outline}
    wanted = {**corrections_of(draft), **levels}  # earlier corrections stand unless changed again
    corrections = {index: level for index, level in wanted.items() if found.get(index, 0) != level}
    parsed = parse_docx(draft.file.data, corrections)
    if not any(s.paragraph is not None for s in parsed.sections):
        raise WorkflowError(_l("Minst ett stycke måste vara en rubrik."))
    before = len(draft.sections)
    draft.sections = []
    session.flush()  # the old sections go before the new ones take their positions
    draft.sections = _sections(parsed, assign_keys(_previous_sections(session, draft), parsed))
    draft.outline_corrections = {str(index): level for index, level in sorted(corrections.items())}
    draft.outline_confirmed_at, draft.outline_confirmed_by_id = now, actor.id
    session.flush()
    audit.record(session, actor, now, "draft.outline_corrected", draft, before=f"{before}",
                 after=f"{len(draft.sections)}", strategy_id=draft.strategy_id, corrections=len(corrections))
    return draft


def _previous_sections(session: Session, draft: Draft) -> list[Section]:
    previous = session.scalar(select(Draft).where(Draft.strategy_id == draft.strategy_id,
                                                  Draft.version < draft.version)
                              .order_by(Draft.version.desc()).limit(1))
    return previous.sections if previous else []


def import_text(session: Session, actor: User | None, now: datetime, strategy: Strategy, *, text: str,
                title: str = "") -> Draft:
    """Store pasted text ('#'-style headings) as the strategy's next version."""
    parsed = parse_text(text)
    parsed.title = title or parsed.title
    return _add_version(session, actor, now, strategy, parsed, source_text=text)


def store_file(session: Session, actor: User | None, now: datetime, *, filename: str, content_type: str,
               data: bytes) -> StoredFile:
    import hashlib

    stored = StoredFile(filename=_safe_filename(filename, content_type), content_type=content_type,
                        size=len(data), sha256=hashlib.sha256(data).hexdigest(), data=data,
                        uploaded_by_id=actor.id if actor else None, uploaded_at=now)
    session.add(stored)
    session.flush()
    return stored


def _safe_filename(filename: str, content_type: str = "") -> str:
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip() or "dokument"
    # The name says what the bytes are: a checked PDF named "svar.html" would open as a web page
    # once downloaded, so it is saved as "svar.html.pdf".
    extension = EXTENSIONS.get(content_type, "")
    if not name.lower().endswith(extension):
        name += extension
    return name[:200 - len(extension)] + extension if len(name) > 200 else name


def _add_version(session: Session, actor: User | None, now: datetime, strategy: Strategy, parsed: ParsedDraft,
                 *, file_id: int | None = None, source_text: str = "") -> Draft:
    previous = latest_draft(session, strategy)
    keys = assign_keys(previous.sections if previous else [], parsed)
    draft = Draft(strategy=strategy, version=(previous.version + 1) if previous else 1,
                  title=(parsed.title or strategy.title)[:300], file_id=file_id, source_text=source_text,
                  created_by_id=actor.id if actor else None, created_at=now)
    draft.sections = _sections(parsed, keys)
    session.add(draft)
    session.flush()
    audit.record(session, actor, now, "draft.added", draft, after=f"version {draft.version}",
                 strategy_id=strategy.id, sections=len(draft.sections))
    return draft


def _sections(parsed: ParsedDraft, keys: list[str]) -> list[Section]:
    return [Section(position=i, key=key, level=p.level, number=p.number[:20], heading=p.heading[:500],
                    text=p.text, found_by=p.found_by, paragraph=p.paragraph)
            for i, (p, key) in enumerate(zip(parsed.sections, keys))]


def latest_draft(session: Session, strategy: Strategy) -> Draft | None:
    return session.scalar(select(Draft).where(Draft.strategy_id == strategy.id).order_by(Draft.version.desc())
                          .limit(1))


# ------------------------------------------------------------------ stable keys

def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text.casefold()).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:50] or "avsnitt"


def assign_keys(previous: list[Section], parsed: ParsedDraft) -> list[str]:
    """A key per parsed section: the key of the previous version's section it continues, else a new one.

    Same heading first; then, greedily by similarity, a renamed heading (similar wording)
    or a rewritten heading over nearly the same text.
    """
    keys: list[str | None] = [None] * len(parsed.sections)
    unused = {s.key: s for s in previous}
    for i, p in enumerate(parsed.sections):
        match = next((s for s in unused.values() if _normal(s.heading) == _normal(p.heading)), None)
        if match:
            keys[i] = match.key
            del unused[match.key]
    candidates = []
    for i, p in enumerate(parsed.sections):
        if keys[i] is None:
            for s in unused.values():
                heading = SequenceMatcher(None, _normal(s.heading), _normal(p.heading)).ratio()
                text = SequenceMatcher(None, s.text, p.text).ratio() if s.text and p.text else 0.0
                if heading >= HEADING_SIMILARITY or text >= TEXT_SIMILARITY:
                    candidates.append((heading + text, i, s.key))
    for _score, i, key in sorted(candidates, reverse=True):
        if keys[i] is None and key in unused:
            keys[i] = key
            del unused[key]
    taken = {s.key for s in previous} | {k for k in keys if k}
    for i, p in enumerate(parsed.sections):
        if keys[i] is None:
            keys[i] = _fresh_key(_slug(p.heading), taken)
            taken.add(keys[i])
    return keys


def _fresh_key(base: str, taken: set[str]) -> str:
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    return key


# ------------------------------------------------------------------ comparison

@dataclass(frozen=True)
class SectionChange:
    kind: str  # added, removed, renamed, changed, unchanged
    old: Section | None
    new: Section | None
    text_changed: bool = False


def compare_drafts(old: Draft, new: Draft) -> list[SectionChange]:
    """What happened to each section between two versions, in the new version's order
    (removed sections where they stood)."""
    old_by_key = {s.key: s for s in old.sections}
    new_keys = {s.key for s in new.sections}
    changes, removed_after = [], {}
    last_kept = None
    for s in old.sections:
        if s.key not in new_keys:
            removed_after.setdefault(last_kept, []).append(SectionChange("removed", s, None))
        else:
            last_kept = s.key
    changes.extend(removed_after.get(None, []))
    for s in new.sections:
        before = old_by_key.get(s.key)
        if before is None:
            changes.append(SectionChange("added", None, s, True))
        else:
            text_changed = before.text != s.text
            kind = "renamed" if before.heading != s.heading else "changed" if text_changed else "unchanged"
            changes.append(SectionChange(kind, before, s, text_changed))
        changes.extend(removed_after.get(s.key, []))
    return changes


# ------------------------------------------------------------------ comparison with the referral's comments

@dataclass(frozen=True)
class ChangeWithComments:
    """One section's change and the submitted comments on it (by section key) from the old version's rounds."""
    change: SectionChange
    comments: list[HandlingRow]

    @property
    def key(self) -> str:
        return (self.change.old or self.change.new).key

    @property
    def changed(self) -> bool:
        """Whether the new version differs here at all: a removed or renamed section counts."""
        return self.change.kind != "unchanged"


@dataclass(frozen=True)
class Comparison:
    old: Draft
    new: Draft
    rows: list[ChangeWithComments]
    rounds: list[ReferralRound]  # the launched rounds that sent the old version out, oldest first
    round_of: dict[int, ReferralRound]  # each commenting referral's round, by referral id

    @property
    def commented(self) -> list[ChangeWithComments]:
        return [row for row in self.rows if row.comments]

    @property
    def commented_changed(self) -> list[ChangeWithComments]:
        return [row for row in self.commented if row.changed]

    @property
    def commented_unchanged(self) -> list[ChangeWithComments]:
        return [row for row in self.commented if not row.changed]


def compare_with_comments(session: Session, old: Draft, new: Draft, now: datetime, zone: ZoneInfo) -> Comparison:
    """compare_drafts, each change with the comments the old version received on referral (rounds sent
    out and not cancelled): the latest submitted reply of every body, never a working copy, with the
    officer's disposition. Three queries per such round (usually one) and three more, whatever the
    number of bodies and comments."""
    rounds = list(session.scalars(
        select(ReferralRound).where(ReferralRound.draft_id == old.id,
                                    ReferralRound.state.in_([RoundState.OPEN, RoundState.CLOSED]))
        .order_by(ReferralRound.launched_at, ReferralRound.id)))
    by_key: dict[str, list[HandlingRow]] = {}
    round_of: dict[int, ReferralRound] = {}
    for round_ in rounds:
        for section in handling_rows(session, round_, now, zone):
            if section.key == GENERAL:  # the general comments name no section
                continue
            by_key.setdefault(section.key, []).extend(section.rows)
            round_of.update((row.referral_id, round_) for row in section.rows)
    rows = [ChangeWithComments(change, by_key.get(change.old.key, []) if change.old else [])
            for change in compare_drafts(old, new)]
    return Comparison(old, new, rows, rounds, round_of)
