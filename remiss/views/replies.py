"""The reply (remissvar) as a body's secretary writes it, and as the officer registers one that came by mail."""
from io import BytesIO

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from .. import bodies, clock, responses
from ..access import get_referral, get_referral_for_officer, get_referral_to_answer, get_version
from ..errors import WorkflowError
from ..extensions import db
from ..forms import (GENERAL_CHOICE, AttachmentForm, DeclineForm, RegisterReplyForm, ReplyImportForm,
                     ReplyImportReviewForm, reply_form_for)
from ..models import ResponseAttachment, Role
from ..docx_files import DOCX_TYPE
from ..invitations import template_mismatch
from ..receipts import reply_document, reply_filename
from ..reply_documents import UNPLACED, origin_mismatch, reason_label
from ..reply_template import parse_decision_date, read_reply_file
from ..responses import EditConflict, ReplyDraft, ReplyFields
from ..security import roles_required
from ._helpers import flash_done, form_status, show_workflow_error, submit

bp = Blueprint("replies", __name__, url_prefix="/referrals")
FIELD_NAMES = list(ReplyFields.__dataclass_fields__)


def _draft_from(form) -> ReplyDraft:
    fields = ReplyFields(**{name: getattr(form, name).data or (None if name in ("stance", "decision_date") else "")
                            for name in FIELD_NAMES})
    comments = {int(f.name.removeprefix("comment_")): f.data or "" for f in form.comment_fields()}
    return ReplyDraft(fields, comments, form.general_comments.data or "")


def _fill(form, draft: ReplyDraft, version) -> None:
    for name in FIELD_NAMES:
        getattr(form, name).data = getattr(draft.fields, name)
    for f in form.comment_fields():
        f.data = draft.comments.get(int(f.name.removeprefix("comment_")), "")
    form.general_comments.data = draft.general_comments
    form.version.data = str(version or "")


def _version_of(form) -> int | None:
    return _version_number(form.version.data)


def _version_number(posted: str | None) -> int | None:
    """The version a posted form started from. Anything that is not one (a tampered field, "²", a
    number too long for int()) is no version: the workflow refuses it as a conflict, never a 500."""
    posted = posted or ""
    return int(posted) if posted.isdecimal() and len(posted) <= 9 else None


def _form_page(referral, form, *, conflict: EditConflict | None = None, imported: bool = False,
               template: str = "replies/form.html", attachment_form=None):
    response = responses.response_of(db.session, referral)
    theirs = None
    if conflict is not None:
        mine = _draft_from(form)
        theirs = _differences(mine, conflict.theirs, form)
        form.version.data = str(conflict.version)  # the next save knowingly replaces theirs
    return render_template(template, form=form, referral=referral, round=referral.round,
                           strategy=referral.round.strategy, sections=referral.round.draft.sections,
                           response=response, conflict=conflict, theirs=theirs, imported=imported,
                           attachment_form=attachment_form or AttachmentForm(formdata=None),
                           locked=responses.is_locked(referral, clock.now())), \
        409 if conflict else form_status(form)


def _differences(mine: ReplyDraft, theirs: ReplyDraft, form) -> list[tuple[str, str, str]]:
    """(label, my text, their text) for every field where the two saves differ."""
    rows = [(str(getattr(form, name).label.text), str(getattr(mine.fields, name) or ""),
             str(getattr(theirs.fields, name) or "")) for name in FIELD_NAMES]
    rows += [(str(f.label.text), f.data or "", theirs.comments.get(int(f.name.removeprefix("comment_")), ""))
             for f in form.comment_fields()]
    rows.append((str(form.general_comments.label.text), mine.general_comments, theirs.general_comments))
    return [row for row in rows if row[1] != row[2]]


@bp.route("/<int:referral_id>/reply", methods=["GET", "POST"])
def edit(referral_id: int):
    referral = get_referral_to_answer(referral_id, current_user)
    form = reply_form_for(referral.round.draft.sections)
    if not form.is_submitted():
        response = responses.response_of(db.session, referral)
        _fill(form, responses.current_draft(response), response.lock_version if response else None)
    done = submit(form, lambda: responses.save_reply(db.session, current_user, clock.now(), referral,
                                                     version=_version_of(form), draft=_draft_from(form)))
    if done:
        if request.form.get("action") == "submit":
            return redirect(url_for("replies.confirm", referral_id=referral.id))
        flash_done(_("Svaret är sparat. Det är inte inskickat än."))
        return redirect(url_for("replies.edit", referral_id=referral.id))
    refusal = getattr(form, "refusal", None)
    return _form_page(referral, form, conflict=refusal if isinstance(refusal, EditConflict) else None)


@bp.route("/<int:referral_id>/reply/confirm", methods=["GET", "POST"])
def confirm(referral_id: int):
    referral = get_referral_to_answer(referral_id, current_user)
    response = responses.response_of(db.session, referral)
    if response is None:
        return redirect(url_for("replies.edit", referral_id=referral.id))
    form = FlaskForm()
    if done := submit(form, lambda: responses.submit_reply(db.session, current_user, clock.now(), referral,
                                                           version=_version_number(request.form.get("version")))):
        flash_done(_("Svaret är inskickat (version %(n)s). Ett kvitto är på väg till din e-post.",
                     n=done.result.number))
        return redirect(url_for("referrals.show", referral_id=referral.id))
    draft = responses.current_draft(response)
    return render_template("replies/confirm.html", form=form, referral=referral, response=response, draft=draft,
                           sections=referral.round.draft.sections, strategy=referral.round.strategy,
                           late=responses.is_late(referral, clock.now())), form_status(form)


@bp.route("/<int:referral_id>/decline", methods=["GET", "POST"])
def decline(referral_id: int):
    referral = get_referral_to_answer(referral_id, current_user)
    form = DeclineForm()
    if submit(form, lambda: responses.decline(db.session, current_user, clock.now(), referral,
                                              form.reason.data or "")):
        flash_done(_("Beskedet att %(name)s avstår från att yttra sig är inskickat.", name=referral.body.name))
        return redirect(url_for("referrals.show", referral_id=referral.id))
    return render_template("replies/decline.html", form=form, referral=referral,
                           strategy=referral.round.strategy), form_status(form)


@bp.route("/<int:referral_id>/reply/import", methods=["GET", "POST"])
def import_word(referral_id: int):
    """Read the board's own Word document and show each comment where it landed, for review.
    Nothing is saved: what was read travels in the review form."""
    referral = get_referral_to_answer(referral_id, current_user)
    upload_form = ReplyImportForm()
    if upload_form.validate_on_submit() and upload_form.file.data:
        upload = upload_form.file.data
        try:
            found = _read_reply(upload.read(current_app.config["MAX_UPLOAD_SIZE"] + 1), upload.filename or "",
                                referral)
        except WorkflowError as error:
            show_workflow_error(upload_form, error)
        else:
            return _review_page(referral, _review_form(referral, found))
    elif upload_form.is_submitted() and not upload_form.errors:
        upload_form.file.errors = [_("Välj en Word-fil.")]
    return render_template("replies/import.html", form=upload_form, referral=referral,
                           strategy=referral.round.strategy), form_status(upload_form)


@bp.route("/<int:referral_id>/reply/import/review", methods=["GET", "POST"])
def import_review(referral_id: int):
    """Fill in the reply form with each comment where the secretary put it. Nothing is saved until
    the secretary saves the reply form."""
    referral = get_referral_to_answer(referral_id, current_user)
    if request.method == "GET":  # the review lives only in its posted form; reloaded (a language switch), start over
        return redirect(url_for("replies.import_word", referral_id=referral.id))
    sections = referral.round.draft.sections
    review = ReplyImportReviewForm()
    review.offer(sections)
    if not review.validate_on_submit():
        return _review_page(referral, review)
    form = reply_form_for(sections, formdata=None)
    response = responses.response_of(db.session, referral)
    _fill(form, _reviewed_draft(review), response.lock_version if response else None)
    return _form_page(referral, form, imported=True)


def _read_reply(data: bytes, filename: str, referral):
    """The reply as read from the app's svarsmall (by its fields and keys), else from its wording."""
    return read_reply_file(data, referral.round.draft.sections, filename=filename,
                           max_size=current_app.config["MAX_UPLOAD_SIZE"],
                           strategy_reference=referral.round.strategy.case_reference)


def _review_form(referral, found) -> ReplyImportReviewForm:
    if found.template_referral_id is not None:
        mismatch = template_mismatch(db.session, referral, found.template_referral_id)
    else:
        others = [body.name for body in bodies.list_bodies(db.session) if body.id != referral.body_id]
        mismatch = origin_mismatch(found, body_name=referral.body.name, other_bodies=others,
                                   strategy_reference=referral.round.strategy.case_reference)
    comments = [{"text": c.text, "reason": c.reason, "detail": c.detail, "landed": _choice(c.section_id),
                 "section": _choice(c.section_id)} for c in found.placed]
    form = ReplyImportReviewForm(formdata=None, data={
        "summary": found.summary, "proposed_decision": found.proposed_decision,
        "case_reference": found.case_reference, "deciding_body": found.deciding_body,
        "signatory_name": found.signatory_name, "signatory_title": found.signatory_title,
        "stance": found.stance, "decision_date": found.decision_date,
        "decision_paragraph": found.decision_paragraph, "contact": found.contact,
        "other_body": mismatch.other_body, "other_case_reference": mismatch.other_case_reference,
        "comments": comments})
    form.offer(referral.round.draft.sections)
    return form


def _choice(section_id: int | None) -> str:
    return GENERAL_CHOICE if section_id is None else str(section_id)


def _review_page(referral, form: ReplyImportReviewForm):
    sections = referral.round.draft.sections
    names = {str(s.id): f"{s.number} {s.heading}".strip() for s in sections}
    names[GENERAL_CHOICE] = _("Övriga synpunkter")
    unplaced = sum(1 for entry in form.comments if entry.form.reason.data == UNPLACED)
    return render_template("replies/import_review.html", form=form, referral=referral,
                           strategy=referral.round.strategy, names=names, unplaced=unplaced,
                           reason_label=reason_label, UNPLACED=UNPLACED), form_status(form)


def _reviewed_draft(review: ReplyImportReviewForm) -> ReplyDraft:
    """The reply's fields as read, and each comment under the section the secretary chose, in document order."""
    comments: dict[int, list[str]] = {}
    general: list[str] = []
    for entry in review.comments:
        text, target = entry.form.text.data or "", entry.form.section.data
        (general if target == GENERAL_CHOICE else comments.setdefault(int(target), [])).append(text)
    fields = ReplyFields(summary=review.summary.data or "", proposed_decision=review.proposed_decision.data or "",
                         case_reference=(review.case_reference.data or "")[:50],
                         deciding_body=(review.deciding_body.data or "")[:200],
                         signatory_name=(review.signatory_name.data or "")[:200],
                         signatory_title=(review.signatory_title.data or "")[:200],
                         stance=review.stance.data or None,
                         decision_date=parse_decision_date(review.decision_date.data or ""),
                         decision_paragraph=(review.decision_paragraph.data or "")[:20],
                         contact=(review.contact.data or "")[:300])
    return ReplyDraft(fields, {key: _joined(texts) for key, texts in comments.items()}, _joined(general))


def _joined(texts: list[str]) -> str:
    return "\n\n".join(t for t in texts if t.strip())


@bp.route("/<int:referral_id>/reply/attachments", methods=["POST"])
def add_attachment(referral_id: int):
    referral = get_referral_to_answer(referral_id, current_user)
    form = AttachmentForm()

    def attach():
        upload = form.file.data
        if not upload or not upload.filename:
            raise WorkflowError(_("Välj en fil att bifoga."), "file")
        return responses.add_attachment(db.session, current_user, clock.now(), referral, filename=upload.filename,
                                        data=upload.read(current_app.config["MAX_UPLOAD_SIZE"] + 1),
                                        description=form.description.data or "")

    if submit(form, attach):
        flash_done(_("Bilagan är tillagd."))
        return redirect(url_for("replies.edit", referral_id=referral.id) + "#bilagor")
    reply = reply_form_for(referral.round.draft.sections, formdata=None)
    response = responses.response_of(db.session, referral)
    _fill(reply, responses.current_draft(response), response.lock_version if response else None)
    page, _status = _form_page(referral, reply, attachment_form=form)
    return page, 422


@bp.route("/<int:referral_id>/reply/attachments/<int:attachment_id>/delete", methods=["POST"])
def remove_attachment(referral_id: int, attachment_id: int):
    referral = get_referral_to_answer(referral_id, current_user)
    attachment = _attachment_of(referral, attachment_id)
    form = FlaskForm()
    if submit(form, lambda: responses.remove_attachment(db.session, current_user, clock.now(), attachment)):
        flash_done(_("Bilagan är borttagen."))
    else:
        _flash_refusal(form)
    return redirect(url_for("replies.edit", referral_id=referral.id) + "#bilagor")


def _flash_refusal(form) -> None:
    """A button that returns to another page: a refusal is said there, not dropped."""
    for message in [*form.form_errors, *(error for field in form for error in field.errors)]:
        flash(str(message), "error")


def _attachment_of(referral, attachment_id: int) -> ResponseAttachment:
    response = responses.response_of(db.session, referral)
    attachment = db.session.get(ResponseAttachment, attachment_id)
    if response is None or attachment is None or attachment.response_id != response.id:
        abort(404)
    return attachment


@bp.route("/<int:referral_id>/reply/attachments/<int:attachment_id>")
def download_attachment(referral_id: int, attachment_id: int):
    """The working copy's attachment, for the body's secretaries (submitted ones are public elsewhere)."""
    attachment = _attachment_of(get_referral_to_answer(referral_id, current_user), attachment_id)
    return send_file(BytesIO(attachment.file.data), mimetype=attachment.file.content_type, as_attachment=True,
                     download_name=attachment.file.filename)


@bp.route("/<int:referral_id>/versions/<int:number>")
def show_version(referral_id: int, number: int):
    referral = get_referral(referral_id, current_user)
    version = get_version(referral, number)
    return render_template("replies/version.html", referral=referral, version=version,
                           strategy=referral.round.strategy, content=version.content)


@bp.route("/<int:referral_id>/versions/<int:number>/document")
def version_document(referral_id: int, number: int):
    referral = get_referral(referral_id, current_user)
    version = get_version(referral, number)
    return send_file(BytesIO(reply_document(referral, version)), mimetype=DOCX_TYPE, as_attachment=True,
                     download_name=reply_filename(referral, version))


@bp.route("/<int:referral_id>/register", methods=["GET", "POST"])
@roles_required(Role.OFFICER, Role.ADMIN)
def register(referral_id: int):
    """The officer enters a reply that came by e-mail or paper. The form starts empty: a body's
    unsent working copy is not the officer's to read."""
    referral = get_referral_for_officer(referral_id, current_user)
    form = reply_form_for(referral.round.draft.sections, base=RegisterReplyForm)
    upload = form.letter.data
    letter = (upload.filename, upload.read(current_app.config["MAX_UPLOAD_SIZE"] + 1)) \
        if upload and upload.filename else None
    if done := submit(form, lambda: responses.register_reply(
            db.session, current_user, clock.now(), referral, received_on=form.received_on.data,
            draft=_draft_from(form), declined=form.declined.data, letter=letter)):
        flash_done(_("Svaret från %(name)s är registrerat (version %(n)s).", name=referral.body.name,
                     n=done.result.number))
        return redirect(url_for("rounds.show", round_id=referral.round_id))
    return _form_page(referral, form, template="replies/register.html")


@bp.route("/<int:referral_id>/reopen", methods=["POST"])
@roles_required(Role.OFFICER, Role.ADMIN)
def reopen(referral_id: int):
    referral = get_referral_for_officer(referral_id, current_user)
    form = FlaskForm()
    if submit(form, lambda: responses.reopen(db.session, current_user, clock.now(), referral)):
        flash_done(_("Svaret från %(name)s är öppnat igen och remissinstansen har fått besked.",
                     name=referral.body.name))
    else:
        _flash_refusal(form)
    return redirect(url_for("rounds.show", round_id=referral.round_id))
