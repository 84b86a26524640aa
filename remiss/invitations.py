"""The mails a round sends to a body: the invitation with the draft and a calendar event, and notices
of every change after launch. Queued in the outbox by the workflow functions in rounds.py and
extension_requests.py; delivered after commit."""
from base64 import b64encode
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app
from icalendar import Calendar, Event
from sqlalchemy.orm import Session

from .docx_files import DOCX_TYPE
from .exports import file_stem
from .mail import external_url, queue_mail, render_mail
from .access import MAX_ID
from .models import Referral, Role, RoundState, User
from .reply_documents import OriginMismatch
from .reply_template import TemplateFacts, TemplateSection, write_reply_template

ICS_TYPE = "text/calendar"


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIME_ZONE"])


def recipients(referral: Referral) -> list[tuple[str, str]]:
    """(address, language) for a body: its functional mailbox and every active secretary of it."""
    people = [(m.user.email, m.user.locale) for m in referral.body.memberships
              if m.user.active and m.user.role == Role.SECRETARY]
    seen, result = set(), []
    for address, locale in [(referral.body.mailbox, "sv"), *people]:
        if address and address not in seen:
            seen.add(address)
            result.append((address, locale))
    return result


def officer_of(referral: Referral) -> User:
    return referral.round.contact or referral.round.strategy.officer


def deadline_event(referral: Referral, now: datetime) -> str:
    """An all-day event on the deadline. The UID stays the same for the referral and SEQUENCE
    grows with every move, so a calendar updates the event instead of adding a second one."""
    round_ = referral.round
    calendar = Calendar()
    calendar.add("prodid", "-//Remiss//remiss//SV")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    host = urlsplit(current_app.config["PUBLIC_BASE_URL"]).hostname or "remiss"
    event.add("uid", f"referral-{referral.id}@{host}")
    event.add("sequence", referral.deadline_sequence)
    event.add("dtstamp", now)
    event.add("dtstart", referral.deadline)
    event.add("dtend", referral.deadline + timedelta(days=1))
    event.add("summary", f"Sista dag för remissvar: {round_.reply_label or round_.strategy.title}")
    event.add("description", f"{round_.strategy.case_reference} {round_.strategy.title}\n"
                             f"{external_url('referrals.show', referral_id=referral.id)}")
    calendar.add_component(event)
    return calendar.to_ical().decode()


def _context(referral: Referral) -> dict:
    round_ = referral.round
    return dict(referral=referral, round=round_, strategy=round_.strategy, body=referral.body,
                officer=officer_of(referral), link=external_url("referrals.show", referral_id=referral.id))


def reply_template(referral: Referral, now: datetime) -> tuple[str, bytes]:
    """The svarsmall of one referral (file name, .docx): its body, deadline and the sent version's
    sections by key, so a filled copy imports back whatever the headings are called later."""
    round_, draft = referral.round, referral.round.draft
    facts = TemplateFacts(
        body_name=referral.body.name, strategy_title=round_.strategy.title,
        strategy_case_reference=round_.strategy.case_reference, reply_label=round_.reply_label or "",
        deadline=referral.deadline, referral_id=referral.id, draft_version=draft.version,
        sections=[TemplateSection(s.key, s.number, s.heading, s.level) for s in draft.sections], made_at=now,
        municipality=current_app.config.get("MUNICIPALITY", ""))
    name = f"svarsmall-{file_stem(round_.strategy.case_reference)}-{file_stem(referral.body.name)}.docx"
    return name, write_reply_template(facts)


def template_mismatch(session: Session, referral: Referral, template_referral_id: int) -> OriginMismatch:
    """Whether a svarsmall uploaded to `referral` was made for another body (named) or another case. The
    same body's svarsmall from an earlier round of the same case is not: its section keys still decide."""
    # Any number can be typed into a file: one that is no id here, or names a round not yet sent out
    # (its recipients are not public), says only that the file was made for another referral.
    made_for = session.get(Referral, template_referral_id) if 0 < template_referral_id <= MAX_ID else None
    if made_for is None or made_for.round.state == RoundState.DRAFT:
        return OriginMismatch(other_case_reference="(okänt)")
    if made_for.body_id != referral.body_id:
        return OriginMismatch(other_body=made_for.body.name)
    if made_for.round.strategy_id != referral.round.strategy_id:
        return OriginMismatch(other_case_reference=made_for.round.strategy.case_reference)
    return OriginMismatch()


def queue_invitation(session: Session, now: datetime, referral: Referral) -> None:
    ics = {"filename": "sista-svarsdag.ics", "content_type": ICS_TYPE, "text": deadline_event(referral, now)}
    template_name, template = reply_template(referral, now)
    svarsmall = {"filename": template_name, "content_type": DOCX_TYPE, "base64": b64encode(template).decode()}
    draft = referral.round.draft
    draft_file = draft.clean_file_id or draft.file_id  # never the original with its tracked changes
    for address, locale in recipients(referral):
        rendered = render_mail("invitation_to_refer", locale, **_context(referral))
        queue_mail(session, now, key=f"invitation:{referral.id}:{address}", kind="invitation", to=address,
                   rendered=rendered, reply_to=officer_of(referral).email, referral_id=referral.id,
                   attachment_ids=[draft_file] if draft_file else [], inline_attachments=[ics, svarsmall])


def queue_notice(session: Session, now: datetime, referral: Referral, kind: str, **extra) -> None:
    """A change after launch (deadline moved, withdrawn, cancelled, anstånd decided), to the body."""
    context = {**_context(referral), **extra}
    inline = []
    if kind in ("deadline_moved", "extension_granted"):
        inline = [{"filename": "sista-svarsdag.ics", "content_type": ICS_TYPE, "text": deadline_event(referral, now)}]
    stamp = now.strftime("%Y%m%dT%H%M%S%f")
    for address, locale in recipients(referral):
        rendered = render_mail(f"notice_{kind}", locale, **context)
        queue_mail(session, now, key=f"{kind}:{referral.id}:{referral.deadline_sequence}:{stamp}:{address}",
                   kind=kind, to=address, rendered=rendered, reply_to=officer_of(referral).email,
                   referral_id=referral.id, inline_attachments=inline)


def queue_officer_notice(session: Session, now: datetime, referral: Referral, kind: str, **extra) -> None:
    """A notice to the round's officer (an anstånd request)."""
    officer = officer_of(referral)
    officer_link = external_url("rounds.decide_extension", referral_id=referral.id)
    rendered = render_mail(f"officer_{kind}", officer.locale,
                           **{**_context(referral), "officer_link": officer_link, **extra})
    stamp = now.strftime("%Y%m%dT%H%M%S%f")
    queue_mail(session, now, key=f"officer-{kind}:{referral.id}:{stamp}", kind=kind, to=officer.email,
               rendered=rendered, referral_id=referral.id)
