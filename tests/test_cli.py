"""`flask remiss …`: the operator creates accounts, sends the outbox and loads the Kalmar demo."""
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from remiss.demo import BODIES
from remiss.extensions import db
from remiss.models import Body, Draft, Membership, OutboxMessage, Role, Strategy, User

from . import builders

DEMO_DRAFT = Path(__file__).resolve().parent.parent / "remiss" / "demo" / "kalmar-strategy-draft.docx"
DEMO_PASSWORD = "kalmar-demo-2021"
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def user_by_email(session, email: str) -> User | None:
    session.expire_all()  # the command ran in its own session
    return session.scalar(select(User).where(User.email == email))


def count_users(session) -> int:
    return session.scalar(select(func.count()).select_from(User))


def row_counts(session) -> dict[str, int]:
    return {table.name: session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


# ---------------------------------------------------------------- create-user

def test_operator_creates_an_officer_who_can_then_sign_in(runner, client, session):
    result = runner.invoke("remiss", "create-user", "Ny.Strateg@Kommun.example", "--role", "officer",
                           "--password-stdin", input="en lång lösenfras\n")

    assert result.exit_code == 0, result.output
    assert "created ny.strateg@kommun.example (officer)" in result.output
    user = user_by_email(session, "ny.strateg@kommun.example")
    assert user.role == Role.OFFICER and user.name == "Ny.Strateg"
    client.sign_in("ny.strateg@kommun.example", "en lång lösenfras")
    assert client.get("/strategies/").status_code == 200


def test_operator_creates_a_secretary_for_a_body_by_its_code(runner, session):
    social = builders.create_body(session, name="Socialnämnden", code="SN")
    builders.create_body(session, name="Miljönämnden", code="MN")
    session.commit()

    result = runner.invoke("remiss", "create-user", "sekreterare@kommun.example", "--role", "secretary",
                           "--body", "sn", "--name", "Sara Sekreterare", "--password-stdin",
                           input="en lång lösenfras\n")

    assert result.exit_code == 0, result.output
    user = user_by_email(session, "sekreterare@kommun.example")
    assert user.name == "Sara Sekreterare"
    assert user.body_ids == {social.id}


def test_creating_a_user_for_an_unknown_body_fails_and_creates_nobody(runner, session):
    builders.create_body(session, code="SN")
    session.commit()

    result = runner.invoke("remiss", "create-user", "sekreterare@kommun.example", "--role", "secretary",
                           "--body", "NOPE", "--password-stdin", input="en lång lösenfras\n")

    assert result.exit_code == 1
    assert "no body with the code 'NOPE'" in result.output
    assert count_users(session) == 0


def test_creating_a_user_with_an_unknown_role_fails_and_creates_nobody(runner, session):
    result = runner.invoke("remiss", "create-user", "kung@kommun.example", "--role", "king",
                           "--password-stdin", input="en lång lösenfras\n")

    assert result.exit_code == 2
    assert "Invalid value for '--role'" in result.output
    assert "'admin', 'officer', 'secretary'" in result.output
    assert count_users(session) == 0


def test_a_too_short_password_is_refused_with_the_rule(runner, session):
    result = runner.invoke("remiss", "create-user", "strateg@kommun.example", "--role", "officer",
                           "--password-stdin", input="kort\n")

    assert result.exit_code == 1
    assert "Error: Lösenordet måste ha minst 10 tecken." in result.output
    assert "Traceback" not in result.output
    assert count_users(session) == 0


def test_a_secretary_without_a_body_is_refused(runner, session):
    result = runner.invoke("remiss", "create-user", "sekreterare@kommun.example", "--role", "secretary",
                           "--password-stdin", input="en lång lösenfras\n")

    assert result.exit_code == 1
    assert "minst en remissinstans" in result.output
    assert count_users(session) == 0


def test_a_taken_address_is_refused(runner, session):
    builders.create_officer(session, email="strateg@kommun.example")
    session.commit()

    result = runner.invoke("remiss", "create-user", "Strateg@Kommun.example", "--role", "admin",
                           "--password-stdin", input="en lång lösenfras\n")

    assert result.exit_code == 1
    assert "finns redan en användare" in result.output
    assert user_by_email(session, "strateg@kommun.example").role == Role.OFFICER


def test_without_a_password_the_new_user_is_mailed_an_invitation(runner, session, smtp):
    result = runner.invoke("remiss", "create-user", "ny@kommun.example", "--role", "officer")

    assert result.exit_code == 0, result.output
    assert "invitation queued" in result.output
    session.expire_all()
    [queued] = session.scalars(select(OutboxMessage)).all()
    assert (queued.to_address, queued.kind, queued.state) == ("ny@kommun.example", "invitation", "pending")
    assert user_by_email(session, "ny@kommun.example").password_hash is None
    assert smtp.messages == []  # nothing leaves before the outbox is sent

    sent = runner.invoke("remiss", "outbox", "send")

    assert sent.exit_code == 0, sent.output
    assert "sent 1, to retry 0, failed 0" in sent.output
    [mail] = smtp.messages
    assert mail["To"] == "ny@kommun.example"
    assert mail["Subject"] == "Välkommen till Remiss – välj ditt lösenord"
    assert "http://remiss.test/password/" in mail.get_body(("plain",)).get_content()
    session.expire_all()
    assert session.scalar(select(OutboxMessage.state)) == "sent"
    assert runner.invoke("remiss", "outbox", "send").output.strip() == "sent 0, to retry 0, failed 0"
    assert len(smtp.messages) == 1


# ---------------------------------------------------------------- demo

def test_the_demo_loads_the_kalmar_referral(runner, session):
    result = runner.invoke("remiss", "demo")

    assert result.exit_code == 0, result.output
    bodies = {b.name: b for b in session.scalars(select(Body))}
    assert len(bodies) == 13
    assert {"Socialnämnden", "Kalmarhem AB"} <= set(bodies)
    assert bodies["Kalmarhem AB"].kind == "company" and bodies["Socialnämnden"].kind == "board"

    users = session.scalars(select(User)).all()
    assert [u.email for u in users if u.role == Role.ADMIN] == ["admin@demo.kalmar.example"]
    assert [u.email for u in users if u.role == Role.OFFICER] == ["strateg@demo.kalmar.example"]
    secretaries = [u for u in users if u.role == Role.SECRETARY]
    assert len(secretaries) == 13
    memberships = session.execute(select(Membership.user_id, Membership.body_id)).all()
    assert sorted(body_id for _, body_id in memberships) == sorted(b.id for b in bodies.values())
    assert sorted(user_id for user_id, _ in memberships) == sorted(u.id for u in secretaries)

    strategy = session.scalar(select(Strategy).where(Strategy.case_reference == "KS 2020/0946"))
    assert strategy.officer.email == "strateg@demo.kalmar.example"
    [draft] = strategy.drafts
    assert draft.version == 1
    assert draft.file.data == DEMO_DRAFT.read_bytes()


def test_every_demo_login_signs_in_with_the_printed_password(runner, client, session):
    assert runner.invoke("remiss", "demo").exit_code == 0

    for email in ("admin@demo.kalmar.example", "strateg@demo.kalmar.example", "sekreterare.sn@demo.kalmar.example"):
        client.sign_in(email, DEMO_PASSWORD)
        client.sign_out()


def test_loading_the_demo_twice_changes_nothing(runner, session):
    assert runner.invoke("remiss", "demo").exit_code == 0
    before = row_counts(session)

    again = runner.invoke("remiss", "demo")

    assert again.exit_code == 0, again.output
    session.expire_all()
    assert row_counts(session) == before
    assert before["bodies"] == 13 and before["drafts"] == 1


def test_the_demo_can_pretend_today_is_another_day(runner, session):
    result = runner.invoke("remiss", "demo", "--today", "2021-01-27")

    assert result.exit_code == 0, result.output
    strategy = session.scalar(select(Strategy).where(Strategy.case_reference == "KS 2020/0946"))
    assert strategy.created_at.astimezone(STOCKHOLM).date() == date(2021, 1, 27)
    draft_days = session.scalars(select(Draft.created_at)).all()
    assert [d.astimezone(STOCKHOLM).date() for d in draft_days] == [date(2021, 1, 27)]


def test_the_demo_refuses_a_date_it_cannot_read(runner, session):
    result = runner.invoke("remiss", "demo", "--today", "27/1 2021")

    assert result.exit_code == 2
    assert "Invalid value for '--today'" in result.output
    assert session.scalar(select(func.count()).select_from(Body)) == 0


def test_the_demo_prints_the_address_the_password_and_the_logins(runner, session):
    result = runner.invoke("remiss", "demo")

    assert result.exit_code == 0, result.output
    assert "Remiss demo: http://remiss.test" in result.output
    assert f"Password for every demo login: {DEMO_PASSWORD}" in result.output
    logins = session.scalars(select(User.email)).all()
    assert len(logins) == 2 + len(BODIES)
    for email in logins:
        assert email in result.output
    assert "sekreterare.sn@demo.kalmar.example" in result.output
