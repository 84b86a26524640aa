"""Replies (remissvar): a body's secretaries draft, submit, amend and decline; the officer registers
replies that came by mail and reopens a locked one. Every submitted version is kept; the latest counts.

A working copy is seen by the body's secretaries only; a submitted version is a public record.
"""
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from . import audit, board, calendar, invitations
from .docx_files import check_pdf_or_docx
from .drafts import store_file
from .errors import WorkflowError
from .models.types import insert_if_absent
from .models import (
    Referral, ReferralState, Response, ResponseAttachment, ResponseVersion, Role, RoundState, SectionComment,
    Stance, User,
)

ANSWERED = (ReferralState.SUBMITTED, ReferralState.DECLINED)


@dataclass
class ReplyFields:
    """What a reply says, apart from its comments and attachments."""

    stance: str | None = None
    summary: str = ""
    proposed_decision: str = ""
    case_reference: str = ""
    deciding_body: str = ""
    decision_date: date | None = None
    decision_paragraph: str = ""
    signatory_name: str = ""
    signatory_title: str = ""
    contact: str = ""


@dataclass
class ReplyDraft:
    fields: ReplyFields = field(default_factory=ReplyFields)
    comments: dict[int, str] = field(default_factory=dict)  # section id → text
    general_comments: str = ""


class EditConflict(WorkflowError):
    """Someone else saved the reply after this form was opened. `theirs` is what they saved."""

    def __init__(self, theirs: ReplyDraft, version: int, by: User | None):
        super().__init__(_l("Någon annan har sparat svaret medan du skrev. Jämför texterna nedan: din text "
                            "finns kvar i formuläret. Spara igen när du har fört över det som ska vara med."))
        self.theirs, self.version, self.by = theirs, version, by


def response_of(session: Session, referral: Referral) -> Response | None:
    return session.scalar(select(Response).where(Response.referral_id == referral.id))


def current_draft(response: Response | None) -> ReplyDraft:
    """The working copy as plain data (what the form shows)."""
    if response is None:
        return ReplyDraft()
    fields = ReplyFields(**{name: getattr(response, name) for name in ReplyFields.__dataclass_fields__})
    comments = {c.section_id: c.text for c in response.comments if c.section_id is not None}
    general = next((c.text for c in response.comments if c.section_id is None), "")
    return ReplyDraft(fields, comments, general)


def is_late(referral: Referral, now: datetime) -> bool:
    """Sent now, would the reply be late? Received today (Swedish time), after the deadline day."""
    return board.received_late(board.received_on(None, now, invitations.zone()), referral.deadline)


def is_locked(referral: Referral, now: datetime) -> bool:
    """An answered reply is locked after the deadline, unless the officer reopened it."""
    return is_late(referral, now) and referral.state in ANSWERED and not referral.reopened


def _check_may_answer(referral: Referral, actor: User, now: datetime) -> None:
    if referral.body_id not in actor.body_ids:
        raise WorkflowError(_l("Du kan bara svara för dina egna remissinstanser."))
    _check_open(referral, now)


def _check_open(referral: Referral, now: datetime) -> None:
    if referral.round.state != RoundState.OPEN or referral.state == ReferralState.WITHDRAWN:
        raise WorkflowError(_l("Remissen är inte längre öppen för svar."))
    if is_locked(referral, now):
        raise WorkflowError(_l("Sista svarsdag har passerat och svaret är låst. Kontakta remissens "
                               "kontaktperson om något behöver ändras."))


def save_reply(session: Session, actor: User, now: datetime, referral: Referral, *, version: int | None,
               draft: ReplyDraft) -> Response:
    """Save the working copy. Raises EditConflict when it changed since `version` was read (nothing
    is overwritten), WorkflowError when the actor may not answer or the reply is locked."""
    _check_may_answer(referral, actor, now)
    return _store(session, actor, now, referral, version, draft)


def _store(session, actor, now, referral, version, draft: ReplyDraft) -> Response:
    response = response_of(session, referral)
    if response is not None and version != response.lock_version:
        by = session.get(User, response.updated_by_id) if response.updated_by_id else None
        raise EditConflict(current_draft(response), response.lock_version, by)
    if response is None:
        response, made = _working_copy(session, referral, actor, now)
        if not made:  # another first save came in between our read and our insert
            by = session.get(User, response.updated_by_id) if response.updated_by_id else None
            raise EditConflict(current_draft(response), response.lock_version, by)
    if draft.fields.stance not in (None, "", *Stance):
        raise WorkflowError(_l("Välj ett ställningstagande."), "stance")
    for name, value in asdict(draft.fields).items():
        setattr(response, name, value if value != "" or name != "stance" else None)
    _set_comments(response, referral, draft)
    response.updated_at, response.updated_by_id = now, actor.id
    # The version only moves when the row is updated: a save that changed only comments, at the same
    # instant as the last one, must still move it, or a concurrent save would overwrite those comments.
    flag_modified(response, "updated_at")
    if referral.state == ReferralState.INVITED:
        referral.state = ReferralState.IN_PROGRESS
        audit.record(session, actor, now, "referral.started", referral, before=ReferralState.INVITED,
                     after=ReferralState.IN_PROGRESS, strategy_id=referral.round.strategy_id,
                     round_id=referral.round_id, body=referral.body.name)
    session.flush()
    return response


def _working_copy(session: Session, referral: Referral, actor: User, now: datetime) -> tuple[Response, bool]:
    """The reply's row, made if there is none; True when this call made it. Two people acting on a
    reply nobody has touched (two first saves, a save and a decline) both find no row and both insert
    one: the database lets one in, and the other gets that row instead of an error."""
    made = insert_if_absent(session, Response, {"referral_id": referral.id, "updated_at": now,
                                                "updated_by_id": actor.id, "lock_version": 1}, ["referral_id"])
    return response_of(session, referral), made is not None


def _set_comments(response: Response, referral: Referral, draft: ReplyDraft) -> None:
    valid = {s.id: s.position for s in referral.round.draft.sections}
    unknown = set(draft.comments) - set(valid)
    if unknown:
        raise WorkflowError(_l("Kommentaren hör till ett avsnitt som inte finns i utkastet."))
    wanted = {section_id: text for section_id, text in draft.comments.items() if text.strip()}
    if draft.general_comments.strip():
        wanted[None] = draft.general_comments
    existing = {c.section_id: c for c in response.comments}
    for section_id, comment in existing.items():
        if section_id not in wanted:
            response.comments.remove(comment)
    for section_id, text in wanted.items():
        comment = existing.get(section_id) or SectionComment(section_id=section_id, text=text)
        comment.text = text
        comment.position = valid.get(section_id, len(valid))
        if comment not in response.comments:
            response.comments.append(comment)


def submit_reply(session: Session, actor: User, now: datetime, referral: Referral, *,
                 version: int | None) -> ResponseVersion:
    """Send the saved reply: a new kept version, the referral answered (late after the deadline),
    a receipt with the reply as .docx to the actor and the body's mailbox, a notice to the officer."""
    _check_may_answer(referral, actor, now)
    response = response_of(session, referral)
    if response is None:
        raise WorkflowError(_l("Spara svaret innan du skickar det."))
    if version != response.lock_version:
        raise EditConflict(current_draft(response), response.lock_version, None)
    if not response.stance or response.stance == Stance.ABSTAINS:
        raise WorkflowError(_l("Välj ett ställningstagande innan du skickar svaret."), "stance")
    response.registered_by_officer, response.received_on = False, None  # the body sends this one itself
    return _freeze(session, actor, now, referral, response, ReferralState.SUBMITTED)


def decline(session: Session, actor: User, now: datetime, referral: Referral, reason: str = "") -> ResponseVersion:
    """Avstår från att yttra sig: one step, an optional reason, and the referral counts as answered.
    The kept version says that and the reason only: what the working copy holds is not sent with it
    (the secretary never saw it on the decline page), and stays there unchanged."""
    _check_may_answer(referral, actor, now)
    response = response_of(session, referral) or _working_copy(session, referral, actor, now)[0]
    content = {**asdict(ReplyFields(stance=Stance.ABSTAINS.value, summary=reason.strip())), "comments": [],
               "general_comments": "", "attachments": [], "registered_by_officer": False, "received_on": None}
    return _freeze(session, actor, now, referral, response, ReferralState.DECLINED, content)


def _freeze(session, actor, now, referral, response, state, content: dict | None = None,
            late: bool | None = None) -> ResponseVersion:
    if late is None:
        late = is_late(referral, now)
    before = referral.state
    number = len(response.versions) + 1
    kept = ResponseVersion(number=number, submitted_at=now, submitted_by_id=actor.id, late=late,
                           content=content or snapshot(response, referral))
    response.versions.append(kept)
    response.submitted_at, response.late = now, late
    flag_modified(response, "submitted_at")  # a confirmation page opened before this cannot send again
    referral.state, referral.answered_at, referral.reopened = state, now, False
    session.flush()
    from . import receipts  # the .docx and the mails; kept apart from the rules

    receipts.queue_receipts(session, now, referral, response, kept, actor)
    audit.record(session, actor, now, "reply.submitted" if state == ReferralState.SUBMITTED else "reply.declined",
                 referral, before=before, after=state, strategy_id=referral.round.strategy_id,
                 round_id=referral.round_id, body=referral.body.name, version=number, late=late)
    return kept


def snapshot(response: Response, referral: Referral) -> dict:
    """The reply as submitted, in plain JSON: it must read the same in ten years."""
    by_id = {s.id: s for s in referral.round.draft.sections}
    comments = sorted((c for c in response.comments if c.section_id is not None), key=lambda c: c.position)
    return {
        **{name: getattr(response, name) for name in ReplyFields.__dataclass_fields__ if name != "decision_date"},
        "decision_date": response.decision_date.isoformat() if response.decision_date else None,
        "comments": [{"section_id": c.section_id, "section_key": by_id[c.section_id].key,
                      "number": by_id[c.section_id].number, "heading": by_id[c.section_id].heading,
                      "text": c.text} for c in comments],
        "general_comments": next((c.text for c in response.comments if c.section_id is None), ""),
        "attachments": [{"file_id": a.file_id, "filename": a.file.filename, "description": a.description}
                        for a in response.attachments],
        "registered_by_officer": response.registered_by_officer,
        "received_on": response.received_on.isoformat() if response.received_on else None,
    }


def register_reply(session: Session, actor: User, now: datetime, referral: Referral, *, received_on: date,
                   draft: ReplyDraft, declined: bool = False,
                   letter: tuple[str, bytes] | None = None) -> ResponseVersion:
    """The officer enters a reply that came by e-mail or on paper, recorded as registered by them,
    late only if it came in after the deadline. The kept version is what the officer typed: the
    body's working copy (words and attachments the officer never saw) is neither sent nor changed."""
    if not actor.has_role(Role.OFFICER, Role.ADMIN):
        raise WorkflowError(_l("Bara en strateg kan registrera ett svar."))
    _check_open(referral, now)
    if received_on is None or received_on > calendar.local_date(now, invitations.zone()):
        raise WorkflowError(_l("Ange när svaret kom in (i dag eller tidigare)."), "received_on")
    stance = Stance.ABSTAINS.value if declined else draft.fields.stance
    if stance not in set(Stance) or (stance == Stance.ABSTAINS and not declined):
        raise WorkflowError(_l("Välj ett ställningstagande."), "stance")
    content = _registered_content(referral, draft, stance, received_on)
    if letter is not None:  # the letter or extract of minutes that came in, kept with this version only
        filename, data = letter
        content_type = check_pdf_or_docx(data, filename, current_app.config["MAX_UPLOAD_SIZE"])
        stored = store_file(session, actor, now, filename=filename, content_type=content_type, data=data)
        content["attachments"] = [{"file_id": stored.id, "filename": stored.filename, "description": ""}]
    response = response_of(session, referral) or _working_copy(session, referral, actor, now)[0]
    return _freeze(session, actor, now, referral, response,
                   ReferralState.DECLINED if declined else ReferralState.SUBMITTED, content,
                   late=board.received_late(received_on, referral.deadline))


def _registered_content(referral: Referral, draft: ReplyDraft, stance: str, received_on: date) -> dict:
    """A registered reply in the shape of `snapshot`, made from the officer's form alone."""
    sections = referral.round.draft.sections
    if set(draft.comments) - {s.id for s in sections}:
        raise WorkflowError(_l("Kommentaren hör till ett avsnitt som inte finns i utkastet."))
    fields = asdict(draft.fields)
    return {
        **fields, "stance": stance,
        "decision_date": fields["decision_date"].isoformat() if fields["decision_date"] else None,
        "comments": [{"section_id": s.id, "section_key": s.key, "number": s.number, "heading": s.heading,
                      "text": draft.comments[s.id]} for s in sections if draft.comments.get(s.id, "").strip()],
        "general_comments": draft.general_comments if draft.general_comments.strip() else "",
        "attachments": [], "registered_by_officer": True, "received_on": received_on.isoformat(),
    }


def reopen(session: Session, actor: User, now: datetime, referral: Referral) -> None:
    """Let a body change its answered reply after the deadline, until it submits again."""
    if not actor.has_role(Role.OFFICER, Role.ADMIN):
        raise WorkflowError(_l("Bara en strateg kan öppna ett svar igen."))
    if referral.state not in ANSWERED:
        raise WorkflowError(_l("Svaret är inte inskickat och behöver inte öppnas."))
    referral.reopened = True
    session.flush()
    invitations.queue_notice(session, now, referral, "reopened")
    audit.record(session, actor, now, "reply.reopened", referral, strategy_id=referral.round.strategy_id,
                 round_id=referral.round_id, body=referral.body.name)


def add_attachment(session: Session, actor: User, now: datetime, referral: Referral, *, filename: str,
                   data: bytes, description: str = "") -> ResponseAttachment:
    """Attach a PDF or .docx (the signed decision) to the working copy; checked like drafts."""
    _check_may_answer(referral, actor, now)
    content_type = check_pdf_or_docx(data, filename, current_app.config["MAX_UPLOAD_SIZE"])
    response = response_of(session, referral)
    if response is None:
        response = _store(session, actor, now, referral, None, ReplyDraft())
    stored = store_file(session, actor, now, filename=filename, content_type=content_type, data=data)
    attachment = ResponseAttachment(file_id=stored.id, description=description.strip()[:300])
    response.attachments.append(attachment)
    response.updated_at, response.updated_by_id = now, actor.id
    session.flush()
    return attachment


def remove_attachment(session: Session, actor: User, now: datetime, attachment: ResponseAttachment) -> None:
    referral = session.get(Referral, session.get(Response, attachment.response_id).referral_id)
    _check_may_answer(referral, actor, now)
    session.delete(attachment)
    session.flush()
