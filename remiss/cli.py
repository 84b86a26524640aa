"""`flask remiss …`: operators' commands, calling the same workflow functions as the views."""
import sys
from datetime import datetime, time
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from . import accounts, clock
from .errors import WorkflowError
from .extensions import db
from .models import Body, Role

remiss_cli = AppGroup("remiss", help="Remiss: referral rounds of strategy drafts.")


def _fail(error: WorkflowError):
    db.session.rollback()
    raise click.ClickException(str(error.message))


@remiss_cli.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--body", "body_codes", multiple=True, help="Short code of a body the user answers for.")
@click.option("--name", default="", help="Full name (defaults to the part of EMAIL before @).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(email, role, body_codes, name, password_stdin):
    """Create an account; without --password-stdin an invitation link is mailed through the outbox."""
    body_ids = []
    for code in body_codes:
        body = db.session.scalar(select(Body).where(Body.code == code.upper()))
        if body is None:
            raise click.ClickException(f"no body with the code {code!r}")
        body_ids.append(body.id)
    fields = dict(email=email, name=name or email.split("@")[0], role=role, body_ids=body_ids)
    try:
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
            user = accounts.create_user(db.session, None, clock.now(), password=password, **fields)
        else:
            user = accounts.invite_user(db.session, None, clock.now(), **fields)
    except WorkflowError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"created {user.email} ({user.role})" + ("" if password_stdin else "; invitation queued"))


@remiss_cli.command("demo")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Pretend today is this date (the demo's dates follow it).")
def demo(today):
    """Load the Kalmar demo (idempotent) and print the URL and the logins."""
    from .demo import load_demo

    zone = ZoneInfo(current_app.config["TIME_ZONE"])
    now = datetime.combine(today.date(), time(9, 0), tzinfo=zone) if today else clock.now()
    password = current_app.config.get("DEMO_PASSWORD") or "kalmar-demo-2021"
    logins = load_demo(db.session, now, password)
    db.session.commit()
    click.echo(f"Remiss demo: {current_app.config['PUBLIC_BASE_URL']}")
    click.echo(f"Password for every demo login: {password}")
    for label, user in logins.items():
        click.echo(f"  {label:8} {user.email}")


outbox_cli = AppGroup("outbox", help="Mail waiting in the outbox.")
remiss_cli.add_command(outbox_cli)


@outbox_cli.command("send")
def outbox_send():
    """Deliver due mail through the configured SMTP server (temporary errors are retried later)."""
    from .jobs import drain_outbox

    outcome = drain_outbox(db.session, clock.now())
    click.echo(f"sent {outcome['sent']}, to retry {outcome['retry']}, failed {outcome['failed']}")
    if outcome["failed"]:
        sys.exit(1)


@remiss_cli.command("reminders")
@click.option("--now", "at", type=click.DateTime(["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]), default=None,
              help="Pretend it is this local time (Europe/Stockholm), e.g. 2021-03-19T08:00.")
@click.option("--dry-run", is_flag=True, help="Show what is due; plan and send nothing.")
def reminders_command(at, dry_run):
    """Run one scheduler tick: plan the reminders that are due, send the outbox, and make the PDFs asked
    for on the compilation page. For cron, systemd timers, or to see what would go out."""
    from .invitations import zone
    from .jobs import drain_outbox, make_pending_pdfs, plan

    now = at.replace(tzinfo=zone()) if at else clock.now()
    due = plan(db.session, now, dry_run=dry_run)
    for d in due:
        click.echo(f"{d.referral.id}\t{d.referral.body.name}\t{d.offset:+d}\t{d.deadline.isoformat()}\t"
                   f"{d.due_at.isoformat()}")
    click.echo(f"{len(due)} reminder(s) {'due' if dry_run else 'planned'}")
    if not dry_run:
        outcome = drain_outbox(db.session, now)
        click.echo(f"sent {outcome['sent']}, to retry {outcome['retry']}, failed {outcome['failed']}")
        pdfs = make_pending_pdfs(db.session, now)
        if any(pdfs.values()):
            click.echo(f"PDFs made {pdfs['made']}, failed {pdfs['failed']}")


@remiss_cli.command("scheduler")
def scheduler_command():
    """Run the scheduler: every minute, plan due reminders and send the outbox. Runs until stopped."""
    from .scheduler import run

    run(current_app._get_current_object())


rounds_cli = AppGroup("rounds", help="Referral rounds, for operators.")
remiss_cli.add_command(rounds_cli)


@rounds_cli.command("list")
def rounds_list():
    """One line per round: id, state, deadline, answered/total, case reference and label."""
    from sqlalchemy.orm import selectinload

    from .models import ReferralRound, ReferralState

    found = db.session.scalars(select(ReferralRound).options(
        selectinload(ReferralRound.strategy), selectinload(ReferralRound.referrals)).order_by(ReferralRound.id))
    for round_ in found:
        active = [r for r in round_.referrals if r.state != ReferralState.WITHDRAWN]
        answered = sum(1 for r in active if r.state in (ReferralState.SUBMITTED, ReferralState.DECLINED))
        click.echo(f"{round_.id}\t{round_.state}\t{round_.deadline.isoformat()}\t{answered}/{len(active)}\t"
                   f"{round_.strategy.case_reference}\t{round_.reply_label}")


@rounds_cli.command("show")
@click.argument("round_id", type=int)
def rounds_show(round_id):
    """The status board of one round as text."""
    from . import board
    from .invitations import zone
    from .models import ReferralRound

    round_ = db.session.get(ReferralRound, round_id)
    if round_ is None:
        raise click.ClickException(f"no round with id {round_id}")
    rows = board.board_rows(db.session, round_, clock.now(), zone())
    counts = board.counts(rows)
    click.echo(f"{round_.strategy.case_reference} {round_.strategy.title}")
    click.echo(f"{round_.reply_label} | {round_.state} | deadline {round_.deadline.isoformat()} | "
               f"{counts['answered']}/{counts['total']} answered, {counts['overdue']} overdue")
    width = max((len(r.body_name) for r in rows), default=10)
    for row in rows:
        extension = row.extension_state or "-"
        stance = row.stance or "-"
        click.echo(f"{row.body_name:<{width}}  {row.status:<11}  {row.deadline.isoformat()}  "
                   f"{row.days_left:>4}d  anstånd:{extension:<9}  {stance}")


@remiss_cli.command("compile")
@click.argument("round_id", type=int)
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, writable=True), required=True,
              help="Where to write the .docx, or a tagged PDF/A when the name ends in .pdf (needs LibreOffice).")
@click.option("--background", default=None, help="The introduction's background text (default: the latest "
                                                 "compilation's).")
@click.option("--assessment", default=None, help="The overall assessment (default: the latest compilation's).")
def compile_command(round_id, output, background, assessment):
    """Compile a round's submitted replies into a remissammanställning (.docx), keep it, and write it out;
    FILE.pdf also converts it with LibreOffice here and now, and keeps the PDF with it."""
    from . import pdf
    from .compilation import deadline_not_passed, latest_compilation, latest_entries, make_pdf, record_compilation
    from .invitations import zone
    from .models import ReferralRound

    round_ = db.session.get(ReferralRound, round_id)
    if round_ is None:
        raise click.ClickException(f"no round with id {round_id}")
    as_pdf = output.lower().endswith(".pdf")
    now = clock.now()
    latest = latest_compilation(db.session, round_)
    try:
        if as_pdf:
            pdf.check_available()  # before anything is kept
        kept = record_compilation(
            db.session, None, now, round_, zone(),
            background=latest.background if background is None and latest else background or "",
            assessment=latest.assessment if assessment is None and latest else assessment or "")
        data = make_pdf(db.session, None, now, kept).data if as_pdf else kept.file.data
    except WorkflowError as error:
        _fail(error)
    with open(output, "wb") as file:
        file.write(data)
    db.session.commit()
    waiting = deadline_not_passed(latest_entries(db.session, round_, now, zone()), now, zone())
    if waiting:
        click.echo(f"note: the deadline has not passed for {', '.join(waiting)}", err=True)
    click.echo(f"wrote {output} ({len(data)} bytes, {len(kept.versions)} replies); kept as compilation {kept.id}")
