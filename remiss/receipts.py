"""What a submitted reply sends: a receipt with the reply as .docx (for the body's own diarium)
to whoever submitted it and the body's mailbox, and a notice to the officer."""
from datetime import date, datetime

from flask import current_app, has_app_context
from flask_babel import force_locale
from sqlalchemy.orm import Session

from . import invitations
from .docx_files import DOCX_TYPE
from .drafts import store_file
from .i18n import BABEL_LOCALE
from .mail import external_url, queue_mail, render_mail
from .models import Referral, Response, ResponseVersion, StoredFile, User


def reply_filename(referral: Referral, version: ResponseVersion) -> str:
    code = "".join(ch for ch in referral.body.code if ch.isalnum()) or "svar"
    return f"remissvar-{code}-version-{version.number}.docx"


def reply_document(referral: Referral, version: ResponseVersion) -> bytes:
    """The kept version as a Word document, in Swedish: the words a body registers in its diarium."""
    from .reply_documents import ReplyContent, write_reply_docx
    from .templating import STANCE_LABELS

    content = version.content
    strategy = referral.round.strategy
    with force_locale(BABEL_LOCALE["sv"]):
        stance = str(STANCE_LABELS.get(content.get("stance"), ""))
    stance = stance[:1].upper() + stance[1:]  # a line of its own under "Ställningstagande"
    municipality = current_app.config.get("MUNICIPALITY", "") if has_app_context() else ""
    return write_reply_docx(ReplyContent(
        body_name=referral.body.name, strategy_title=strategy.title,
        strategy_case_reference=strategy.case_reference, reply_label=referral.round.reply_label,
        body_case_reference=content.get("case_reference", ""), stance_label=stance,
        summary=content.get("summary", ""), proposed_decision=content.get("proposed_decision", ""),
        deciding_body=content.get("deciding_body", ""),
        decision_date=date.fromisoformat(content["decision_date"]) if content.get("decision_date") else None,
        decision_paragraph=content.get("decision_paragraph", ""), signatory_name=content.get("signatory_name", ""),
        signatory_title=content.get("signatory_title", ""), contact=content.get("contact", ""),
        submitted_at=version.submitted_at, version=version.number, late=version.late,
        registered_by_officer=content.get("registered_by_officer", False),
        received_on=date.fromisoformat(content["received_on"]) if content.get("received_on") else None,
        comments=[(c["number"], c["heading"], c["text"]) for c in content.get("comments", [])],
        general_comments=content.get("general_comments", ""),
        attachments=[a["filename"] for a in content.get("attachments", [])],
        municipality=municipality,
    ))


def queue_receipts(session: Session, now: datetime, referral: Referral, response: Response,
                   version: ResponseVersion, actor: User) -> None:
    document: StoredFile = store_file(session, actor, now, filename=reply_filename(referral, version),
                                      content_type=DOCX_TYPE, data=reply_document(referral, version))
    context = dict(referral=referral, round=referral.round, strategy=referral.round.strategy, body=referral.body,
                   version=version, response=response, actor=actor,
                   link=external_url("referrals.show", referral_id=referral.id))
    addresses = [(referral.body.mailbox, "sv")]
    if referral.body_id in actor.body_ids:
        addresses.insert(0, (actor.email, actor.locale))
    else:  # registered by the officer: the body's secretaries learn of it
        addresses += [(address, locale) for address, locale in invitations.recipients(referral)[1:]]
    for address, locale in dict(addresses).items():
        queue_mail(session, now, key=f"receipt:{referral.id}:{version.number}:{address}", kind="receipt",
                   to=address, rendered=render_mail("receipt", locale, **context),
                   reply_to=invitations.officer_of(referral).email, referral_id=referral.id,
                   attachment_ids=[document.id])
    officer = invitations.officer_of(referral)
    queue_mail(session, now, key=f"reply-notice:{referral.id}:{version.number}", kind="reply_notice",
               to=officer.email, referral_id=referral.id,
               rendered=render_mail("officer_reply_received", officer.locale, **context,
                                    board_link=external_url("rounds.show", round_id=referral.round_id)))
