"""The outbox: every due reminder reaches the SMTP server once — with two scheduler processes at work
on PostgreSQL, after a sender is killed mid-batch, through a server that answers 451 for a while —
and a permanent refusal (5xx) is marked failed where people can see it.

Other processes are real ones (`python -c`, the app built from REMISS_* settings as in production),
talking to this test's database and to the SMTP server running in this process; each is killed in a
`finally`. Everything listens on 127.0.0.1 only."""
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from remiss import jobs, mail
from remiss.extensions import db
from remiss.models import Body, OutboxMessage, OutboxState, PlannedReminder

from . import builders

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2021, 3, 19, 7, 0, tzinfo=timezone.utc)  # Friday 19 March, 08:00 in Stockholm
WAIT = 120  # seconds any one step of another process may take before the test gives up on it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def queue_mails(session, count: int, *, now=NOW, prefix="mail", to=None) -> list[int]:
    """`count` mails in the outbox, due at `now`, each with its own subject and recipient; committed."""
    for i in range(count):
        rendered = mail.Rendered(subject=f"{prefix} {i:04d}", text=f"Meddelande {i}.", html="")
        address = to(i) if to else f"{prefix}{i:04d}@kommun.example"
        assert mail.queue_mail(session, now, key=f"{prefix}:{i}", kind="reminder", to=address, rendered=rendered)
    session.commit()
    ids = session.scalars(select(OutboxMessage.id).where(OutboxMessage.key.like(f"{prefix}:%"))
                          .order_by(OutboxMessage.id)).all()
    assert len(ids) == count
    return ids


def outbox(session) -> list[OutboxMessage]:
    session.expire_all()
    return session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


# ---------------------------------------------------------------- other processes

def process_env(database_url: str, smtp_host: str, smtp_port: int) -> dict:
    """The settings a production process reads: the app from wsgi.py, configured by REMISS_*."""
    return {**os.environ, "FLASK_APP": "wsgi:app", "REMISS_DATABASE_URL": database_url, "REMISS_SECRET_KEY": "x",
            "REMISS_MAIL_SERVER": smtp_host, "REMISS_MAIL_PORT": str(smtp_port), "REMISS_MAIL_BACKEND": "smtp",
            "REMISS_MAIL_TIMEOUT": "20", "REMISS_PUBLIC_BASE_URL": "http://remiss.test"}


class Worker:
    """Another Python process running `script`; talks by lines on stdin and stdout."""

    def __init__(self, name: str, script: str, *args: str, env: dict, folder: Path):
        self.name = name
        self.stderr = open(folder / f"{name}.stderr", "w+")
        self.process = subprocess.Popen([sys.executable, "-c", script, *args], cwd=ROOT, env=env, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr)
        self.lines: queue.Queue = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, timeout: float = WAIT) -> str:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"{self.name} said nothing for {timeout} s\n{self.errors()}")
        if line is None:
            pytest.fail(f"{self.name} ended (exit {self.process.wait(5)}):\n{self.errors()}")
        return line

    def say(self, line: str) -> None:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def wait(self, timeout: float = WAIT) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{self.name} still running after {timeout} s\n{self.errors()}")

    def errors(self) -> str:
        self.stderr.flush()
        self.stderr.seek(0)
        return self.stderr.read()[-5000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        try:
            self.process.stdin.close()
        except OSError:
            pass  # the pipe broke with the process
        self.reader.join(10)
        self.process.stdout.close()
        self.stderr.close()


# Batches of ten instead of a hundred: each sender claims fifty times, so their claims really do meet.
SMALL_BATCH = 10

# One scheduler tick in two steps, each started by a line on stdin, so that two processes can be
# made to plan at the same moment and then to send at the same moment.
TICK = r"""
import json, sys
from datetime import datetime
from sqlalchemy import text
from remiss import create_app, jobs
from remiss.extensions import db

now = datetime.fromisoformat(sys.argv[1])
app = create_app()
with app.app_context():
    db.session.execute(text("SELECT 1"))
    db.session.commit()
    print("ready", flush=True)
    sys.stdin.readline()
    planned = jobs.plan(db.session, now)
    print(json.dumps({"planned": len(planned)}), flush=True)
    sys.stdin.readline()
    print(json.dumps(jobs.drain_outbox(db.session, now, batch=int(sys.argv[2]))), flush=True)
"""

# A sender that dies (SIGKILL: no cleanup, no rollback, no goodbye to the SMTP server) at its first
# message, before that message leaves or right after it left but before its outcome was committed.
CRASH = r"""
import os, signal, sys
from datetime import datetime
from remiss import create_app, jobs

real_deliver = jobs.deliver

def deliver_and_die(session, now, row, connection):
    if sys.argv[2] == "after-send":
        real_deliver(session, now, row, connection)
    os.kill(os.getpid(), signal.SIGKILL)

jobs.deliver = deliver_and_die
app = create_app()
with app.app_context():
    from remiss.extensions import db
    jobs.drain_outbox(db.session, datetime.fromisoformat(sys.argv[1]))
print("survived", flush=True)
"""


# ---------------------------------------------------------------- exactly once

POSTGRESQL_ONLY = ("two senders at once need PostgreSQL's FOR UPDATE SKIP LOCKED and advisory locks; "
                   "SQLite serialises writers, so there is no race to test")


def test_a_second_sender_skips_the_rows_another_has_claimed_but_not_committed(database_url, session):
    if not database_url.startswith("postgresql"):
        pytest.skip(POSTGRESQL_ONLY)
    ids = queue_mails(session, 6, prefix="las")
    first, second, third = Session(db.engine), Session(db.engine), Session(db.engine)
    try:
        second.execute(text("SET lock_timeout = '5s'"))  # waiting on the first would be a failure too
        mine = mail.claim_due(first, NOW, 3)  # locked, not yet committed
        theirs = mail.claim_due(second, NOW, 3)

        assert [r.id for r in mine] == ids[:3]
        assert [r.id for r in theirs] == ids[3:]
        second.commit()
        first.commit()
        assert mail.claim_due(third, NOW, 10) == []  # all six leased now
        assert mail.claim_due(third, NOW + mail.CLAIM_LEASE, 10) != []  # until the lease runs out
        third.rollback()
    finally:
        for s in (first, second, third):
            s.close()


def test_two_scheduler_processes_send_each_of_1000_reminders_exactly_once(database_url, session, smtp, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip(POSTGRESQL_ONLY)
    officer = builders.create_officer(session)
    strategy = builders.create_strategy(session, officer=officer, title="Internationell strategi")
    bodies = [Body(name=f"Instans {i:04d}", kind="board", code=f"I{i:04d}", mailbox=f"instans{i:04d}@kommun.example",
                   active=True, created_at=builders.BUILT_AT) for i in range(1000)]
    session.add_all(bodies)
    session.flush()
    builders.create_round(session, strategy, bodies, deadline=date(2021, 3, 26))  # -7 is due 19 March 08:00
    session.commit()
    env = process_env(database_url, smtp.host, smtp.port)

    workers = []
    try:
        workers = [Worker(f"scheduler-{n}", TICK, NOW.isoformat(), str(SMALL_BATCH), env=env, folder=tmp_path)
                   for n in (1, 2)]
        assert [w.expect() for w in workers] == ["ready", "ready"]
        for w in workers:
            w.say("plan")
        planned = [json.loads(w.expect())["planned"] for w in workers]
        for w in workers:
            w.say("send")
        outcomes = [json.loads(w.expect()) for w in workers]
        assert [w.wait() for w in workers] == [0, 0]
    finally:
        for w in workers:
            w.stop()

    print(f"\nplanned by each process: {planned}; outcomes: {outcomes}")
    assert sorted(planned) == [0, 1000], "one planner at a time: the other finds the lock taken or nothing left"
    assert sum(o["sent"] for o in outcomes) == 1000 and sum(o["retry"] + o["failed"] for o in outcomes) == 0
    assert all(o["sent"] > 0 for o in outcomes), f"both processes should have sent a share: {outcomes}"
    received = Counter(m["To"] for m in smtp.messages)
    assert len(received) == 1000, f"{1000 - len(received)} reminder(s) missing"
    assert [to for to, n in received.items() if n > 1] == [], "a reminder reached the server twice"
    assert set(received) == {f"instans{i:04d}@kommun.example" for i in range(1000)}
    assert len({m["Message-ID"] for m in smtp.messages}) == 1000
    rows = outbox(session)
    assert len(rows) == 1000
    assert {(r.kind, r.state, r.attempts) for r in rows} == {("reminder", OutboxState.SENT, 1)}
    assert len(session.scalars(select(PlannedReminder)).all()) == 1000


# ---------------------------------------------------------------- a crash

@pytest.mark.parametrize("moment", ["before-send", "after-send"])
def test_a_sender_killed_mid_batch_loses_nothing_and_repeats_at_most_the_mail_in_flight(
        moment, database_url, session, smtp, runner, frozen_clock, tmp_path):
    ids = queue_mails(session, 10, prefix="krasch")
    crashed = Worker(f"crashing-sender-{moment}", CRASH, NOW.isoformat(), moment,
                     env=process_env(database_url, smtp.host, smtp.port), folder=tmp_path)
    try:
        assert crashed.wait() == -signal.SIGKILL, crashed.errors()
    finally:
        crashed.stop()

    in_flight = ["krasch 0000"] if moment == "after-send" else []
    assert [m["Subject"] for m in smtp.messages] == in_flight
    rows = outbox(session)
    # The claim was committed before any mail left: all ten are leased to the dead process, none lost.
    leased = NOW + mail.CLAIM_LEASE
    assert {(r.state, r.attempts, r.next_attempt_at) for r in rows} == {(OutboxState.PENDING, 1, leased)}

    early = []
    for later in (timedelta(minutes=1), mail.CLAIM_LEASE - timedelta(seconds=1)):  # while the lease runs
        frozen_clock.set(NOW + later)
        early.append(runner.invoke("remiss", "outbox", "send").output.strip())
    frozen_clock.set(NOW + mail.CLAIM_LEASE)
    restarted = runner.invoke("remiss", "outbox", "send")

    assert early == ["sent 0, to retry 0, failed 0"] * 2
    assert restarted.exit_code == 0, restarted.output
    assert restarted.output.strip() == "sent 10, to retry 0, failed 0"
    received = Counter(m["Subject"] for m in smtp.messages)
    assert set(received) == {f"krasch {i:04d}" for i in range(10)}, "a mail was lost"
    duplicates = [subject for subject, n in received.items() for _ in range(n - 1)]
    print(f"\ncrash {moment}: {len(duplicates)} duplicate(s) {duplicates}")
    assert len(duplicates) <= 1
    assert duplicates == in_flight
    assert {(r.state, r.attempts) for r in outbox(session)} == {(OutboxState.SENT, 2)}
    assert runner.invoke("remiss", "outbox", "send").output.strip() == "sent 0, to retry 0, failed 0"
    assert [r.id for r in rows] == ids


# ---------------------------------------------------------------- a flaky server

class FlakyHandler:
    """Answers 451 to the first `busy` DATA commands, then accepts; refuses one mailbox with 550."""

    def __init__(self, busy: int, unknown: str):
        self.busy, self.unknown = busy, unknown
        self.data_commands = 0
        self.accepted = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.unknown:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.data_commands += 1
            if self.data_commands <= self.busy:
                return "451 4.3.0 Temporary local problem, try again later"
            self.accepted.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def flaky_server(app):
    handler = FlakyHandler(busy=9, unknown="finns-inte@kommun.example")
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        yield handler
    finally:
        controller.stop()


def test_temporary_refusals_are_retried_with_growing_back_off_and_a_550_fails_visibly(
        session, flaky_server, client):
    addresses = ["a@kommun.example", "b@kommun.example", "finns-inte@kommun.example", "c@kommun.example"]
    ids = queue_mails(session, 4, prefix="ojamn", to=lambda i: addresses[i])
    history = {i: [] for i in ids}  # each row's next_attempt_at after each run
    outcomes, runs, now = [], [], NOW

    for _ in range(10):
        runs.append(now)
        outcomes.append(jobs.drain_outbox(session, now))
        pending = [r for r in outbox(session) if r.state == OutboxState.PENDING]
        for r in pending:
            history[r.id].append(r.next_attempt_at)
        if not pending:
            break
        now = min(r.next_attempt_at for r in pending)
        # Not a moment before its back-off has passed.
        assert jobs.drain_outbox(session, now - timedelta(seconds=1)) == {"sent": 0, "retry": 0, "failed": 0}

    # Nine 451s: three rounds of three, the fourth gets through; the 550 fails at once.
    assert outcomes == [{"sent": 0, "retry": 3, "failed": 1}, {"sent": 0, "retry": 3, "failed": 0},
                        {"sent": 0, "retry": 3, "failed": 0}, {"sent": 3, "retry": 0, "failed": 0}]
    assert runs == [NOW, NOW + timedelta(minutes=1), NOW + timedelta(minutes=3), NOW + timedelta(minutes=7)]
    good = [i for i, address in zip(ids, addresses) if address != "finns-inte@kommun.example"]
    for i, run_at in zip(good, [runs[:3]] * 3):
        waits = [at - run for at, run in zip(history[i], run_at)]
        assert waits == [mail.backoff(1), mail.backoff(2), mail.backoff(3)]
        assert waits == sorted(set(waits)), "each wait is longer than the one before"
    assert flaky_server.data_commands == 12
    assert sorted(m["To"] for m in flaky_server.accepted) == ["a@kommun.example", "b@kommun.example",
                                                             "c@kommun.example"]

    rows = {r.to_address: r for r in outbox(session)}
    refused = rows.pop("finns-inte@kommun.example")
    assert (refused.state, refused.attempts, refused.sent_at) == (OutboxState.FAILED, 1, None)
    assert refused.last_error.startswith("550") and "No such mailbox" in refused.last_error
    assert {(r.state, r.attempts, r.last_error) for r in rows.values()} == {(OutboxState.SENT, 4, "")}

    # Visible: the administrator's outbox lists the failure with the server's answer.
    admin = builders.create_admin(session, email="admin@kommun.example")
    session.commit()
    client.sign_in(admin.email)
    page = client.get("/admin/outbox?state=failed")
    assert page.status_code == 200
    assert "finns-inte@kommun.example" in page.text and "550" in page.text
    assert "a@kommun.example" not in page.text


def test_a_server_that_is_not_listening_leaves_mail_pending_for_later(app, session, smtp, runner, frozen_clock):
    queue_mails(session, 2, prefix="nere")
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())  # connection refused

    frozen_clock.set(NOW)
    first = runner.invoke("remiss", "outbox", "send")
    frozen_clock.set(NOW + mail.backoff(1))
    second = runner.invoke("remiss", "outbox", "send")

    assert first.exit_code == 0 and first.output.strip() == "sent 0, to retry 2, failed 0"
    assert second.output.strip() == "sent 0, to retry 2, failed 0"
    rows = outbox(session)
    assert {(r.state, r.attempts) for r in rows} == {(OutboxState.PENDING, 2)}
    assert {r.next_attempt_at for r in rows} == {NOW + mail.backoff(1) + mail.backoff(2)}
    assert all(r.last_error.startswith("421 ") for r in rows)

    app.config.update(MAIL_SERVER=smtp.host, MAIL_PORT=smtp.port)  # the server is back
    frozen_clock.set(NOW + mail.backoff(1) + mail.backoff(2))
    third = runner.invoke("remiss", "outbox", "send")

    assert third.output.strip() == "sent 2, to retry 0, failed 0"
    assert sorted(m["Subject"] for m in smtp.messages) == ["nere 0000", "nere 0001"]
    assert {r.state for r in outbox(session)} == {OutboxState.SENT}
