"""Mail goes through the outbox: queued in the transaction that caused it, sent after commit.

`queue_mail` is called by workflow functions; `send_pending` by `flask remiss outbox send`.
"""
import smtplib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, render_template
from jinja2 import TemplateNotFound
from flask_babel import force_locale
from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .i18n import BABEL_LOCALE
from .models import OutboxMessage, OutboxState, StoredFile


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render_mail(template: str, locale: str, **context) -> Rendered:
    """Render templates/email/<template>.txt and .html, and the subject, in the recipient's language."""
    with force_locale(BABEL_LOCALE.get(locale, "sv_SE")):
        text = render_template(f"email/{template}.txt", **context)
        subject, _, body = text.partition("\n")
        body = body.lstrip("\n")
        try:
            html = render_template(f"email/{template}.html", **context)
        except TemplateNotFound:  # most notices are plain prose: the HTML part is the same text
            html = render_template("email/_text.html", paragraphs=_paragraphs(body))
    return Rendered(subject=subject.removeprefix("Subject:").strip(), text=body, html=html)


def _paragraphs(text: str) -> list[list[str]]:
    """Paragraphs of lines, for the HTML part made from the text part."""
    return [block.split("\n") for block in text.strip().split("\n\n") if block.strip()]


def queue_mail(session: Session, now: datetime, *, key: str, kind: str, to: str, rendered: Rendered,
               reply_to: str = "", referral_id: int | None = None, attachment_ids=(),
               inline_attachments=()) -> bool:
    """Add a mail to the outbox unless one with the same key is there already. True if added."""
    values = dict(
        key=key, kind=kind, to_address=to, reply_to=reply_to, subject=rendered.subject,
        body_text=rendered.text, body_html=rendered.html, attachment_ids=list(attachment_ids),
        inline_attachments=list(inline_attachments),
        referral_id=referral_id, state=OutboxState.PENDING, attempts=0, created_at=now,
        next_attempt_at=now, last_error="",
    )
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement = pg_insert(OutboxMessage).values(values).on_conflict_do_nothing(index_elements=["key"])
    elif dialect == "sqlite":
        statement = sqlite_insert(OutboxMessage).values(values).on_conflict_do_nothing(index_elements=["key"])
    else:  # pragma: no cover - only the two supported backends exist
        statement = insert(OutboxMessage).values(values)
    # RETURNING, not rowcount: SQLAlchemy leaves rowcount at -1 for an INSERT on psycopg.
    return session.execute(statement.returning(OutboxMessage.id)).first() is not None


class SMTPSender:
    """Delivers EmailMessages to the configured SMTP server, one connection per batch."""

    def __init__(self, config):
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def __enter__(self):
        c = self.config
        factory = smtplib.SMTP_SSL if c["MAIL_USE_TLS"] else smtplib.SMTP
        self.connection = factory(c["MAIL_SERVER"], c["MAIL_PORT"], timeout=c["MAIL_TIMEOUT"])
        if c["MAIL_USE_STARTTLS"]:
            self.connection.starttls()
        if c["MAIL_USERNAME"]:
            self.connection.login(c["MAIL_USERNAME"], c["MAIL_PASSWORD"])
        return self

    def send(self, message: EmailMessage) -> None:
        self.connection.send_message(message)

    def __exit__(self, *exc):
        try:
            self.connection.quit()
        except smtplib.SMTPException:
            pass


def build_message(row: OutboxMessage, sender: str, files: list[StoredFile]) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = row.subject
    message["From"] = sender
    message["To"] = row.to_address
    if row.reply_to:
        message["Reply-To"] = row.reply_to
    message["Date"] = formatdate(row.created_at.timestamp(), localtime=False)
    message["Message-ID"] = make_msgid(idstring=f"outbox-{row.id}", domain="remiss")
    message.set_content(row.body_text)
    if row.body_html:
        message.add_alternative(row.body_html, subtype="html")
    for f in files:
        maintype, _, subtype = f.content_type.partition("/")
        message.add_attachment(f.data, maintype=maintype, subtype=subtype or "octet-stream", filename=f.filename)
    for extra in row.inline_attachments or []:
        maintype, _, subtype = extra["content_type"].partition("/")
        message.add_attachment(extra["text"].encode(), maintype=maintype, subtype=subtype,
                               filename=extra["filename"])
    return message


def send_pending(session: Session, now: datetime, sender=None, limit: int = 100) -> tuple[int, int]:
    """Send due outbox rows; returns (sent, failed). The caller commits.

    A plain sender: a failure marks the row failed with the error. Retries with
    back-off and claiming across processes come with the reminders work.
    """
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id).limit(limit)
    ).all()
    if not rows:
        return 0, 0
    sent = failed = 0
    with (sender or SMTPSender(current_app.config)) as connection:
        for row in rows:
            files = [session.get(StoredFile, i) for i in row.attachment_ids]
            row.attempts += 1
            try:
                connection.send(build_message(row, current_app.config["MAIL_SENDER"], [f for f in files if f]))
            except smtplib.SMTPException as error:
                row.state, row.last_error = OutboxState.FAILED, str(error)[:2000]
                failed += 1
            else:
                row.state, row.sent_at = OutboxState.SENT, now
                sent += 1
    return sent, failed


def external_url(endpoint: str, **values) -> str:
    """An absolute link for a mail, built on PUBLIC_BASE_URL (works outside a request: CLI, scheduler)."""
    from urllib.parse import urlsplit

    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)
