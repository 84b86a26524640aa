"""Mail goes through the outbox: queued in the transaction that caused it, sent after commit.

`queue_mail` is called by workflow functions; jobs.drain_outbox sends (the scheduler, the CLI).
"""
import hashlib
import os
import secrets
import smtplib
from base64 import b64decode
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, render_template
from jinja2 import TemplateNotFound
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import clock
from .i18n import BABEL_LOCALE
from .models import OutboxMessage, OutboxState, StoredFile
from .models.types import insert_if_absent


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
    if len(key) > 200:  # a long address in the key: keep it unique, and within the column
        key = key[:120] + ":" + hashlib.sha256(key.encode()).hexdigest()
    rendered = Rendered(subject=" ".join(rendered.subject.split())[:400], text=rendered.text, html=rendered.html)
    values = dict(
        key=key, kind=kind, to_address=to, reply_to=reply_to, subject=rendered.subject,
        body_text=rendered.text, body_html=rendered.html, attachment_ids=list(attachment_ids),
        inline_attachments=list(inline_attachments),
        referral_id=referral_id, state=OutboxState.PENDING, attempts=0, created_at=now,
        next_attempt_at=now, last_error="",
    )
    return insert_if_absent(session, OutboxMessage, values, ["key"]) is not None


class FileSender:
    """Development: each mail becomes an .eml file in instance/outbox, listed for admins at /admin/outbox."""

    def __init__(self, folder: str):
        self.folder = folder

    def __enter__(self):
        os.makedirs(self.folder, exist_ok=True)
        return self

    def send(self, message: EmailMessage) -> None:
        stamp = clock.now().strftime("%Y%m%dT%H%M%S%f")
        with open(os.path.join(self.folder, f"{stamp}-{secrets.token_hex(4)}.eml"), "wb") as out:
            out.write(message.as_bytes())

    def __exit__(self, *exc):
        return None


def default_sender():
    config = current_app.config
    if config["MAIL_BACKEND"] == "file":
        return FileSender(os.path.join(current_app.instance_path, "outbox"))
    return SMTPSender(config)


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
        except (smtplib.SMTPException, OSError):
            pass  # the messages are sent or recorded already; a rude goodbye changes nothing


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
        # Text (an .ics) is kept as text; a small generated file (the svarsmall) as base64.
        data = b64decode(extra["base64"]) if "base64" in extra else extra["text"].encode()
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=extra["filename"])
    return message


# A claimed row is left alone this long; if its process dies before marking it, another takes it
# over afterwards (so a crash can send one message twice, never lose it).
CLAIM_LEASE = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=6)
TEMPORARY = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError, TimeoutError, OSError)


def claim_due(session: Session, now: datetime, limit: int = 100) -> list[OutboxMessage]:
    """Take up to `limit` due rows for this process: locked with SKIP LOCKED on PostgreSQL so two
    senders never take the same row, and leased so a crashed sender's rows come back. Commit next."""
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for row in rows:
        row.attempts += 1
        row.next_attempt_at = now + CLAIM_LEASE
    return rows


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes after each temporary failure, at most six hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def deliver(session: Session, now: datetime, row: OutboxMessage, connection) -> str:
    """Send one claimed row and record the outcome: 'sent', 'retry' (4xx, connection trouble:
    again after back-off) or 'failed' (5xx: shown to the officer, not retried)."""
    files = [f for f in (session.get(StoredFile, i) for i in row.attachment_ids) if f]
    try:
        if connection is None:
            raise ConnectionError("no connection to the mail server")
        connection.send(build_message(row, current_app.config["MAIL_SENDER"], files))
    except smtplib.SMTPResponseException as error:
        return _failed(row, now, error.smtp_code, str(error))
    except smtplib.SMTPRecipientsRefused as error:
        code = min((c for c, _m in error.recipients.values()), default=550)
        return _failed(row, now, code, str(error))
    except TEMPORARY as error:
        return _failed(row, now, 421, str(error))
    row.state, row.sent_at, row.last_error = OutboxState.SENT, now, ""
    return "sent"


def _failed(row: OutboxMessage, now: datetime, code: int, message: str) -> str:
    row.last_error = f"{code} {message}"[:2000]
    if 400 <= code < 500:
        row.next_attempt_at = now + backoff(row.attempts)
        return "retry"
    row.state = OutboxState.FAILED
    return "failed"


@contextmanager
def connected(sender=None):
    """An SMTP connection for a batch, or None when the server cannot be reached (rows then retry)."""
    smtp = sender or default_sender()
    try:
        connection = smtp.__enter__()
    except TEMPORARY:
        connection = None
    try:
        yield connection
    finally:
        if connection is not None:
            smtp.__exit__(None, None, None)


def send_pending(session: Session, now: datetime, sender=None, limit: int = 100) -> Counter:
    """Claim and send due rows in the caller's transaction (tests, one-off use); counts by outcome.
    The scheduler and `flask remiss outbox send` use jobs.drain_outbox, which commits the claim first."""
    outcome = Counter()
    rows = claim_due(session, now, limit)
    if rows:
        with connected(sender) as connection:
            for row in rows:
                outcome[deliver(session, now, row, connection)] += 1
    return outcome


def external_url(endpoint: str, **values) -> str:
    """An absolute link for a mail, built on PUBLIC_BASE_URL (works outside a request: CLI, scheduler)."""
    from urllib.parse import urlsplit

    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)
