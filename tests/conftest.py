"""The harness every test uses.

Each test that asks for `app` runs twice: on SQLite, and on PostgreSQL when
REMISS_TEST_POSTGRES_URL is set. The schema is built once per backend by the
real migrations, and emptied after each test. With REMISS_TEST_REQUIRE=1 (CI) a
missing PostgreSQL or Chromium fails the run instead of skipping.
"""
import contextvars
import os
import re
import secrets
import shutil
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from remiss import clock, create_app
from remiss.extensions import db

from . import builders
from .smtp import SMTPServer

POSTGRES_URL = os.environ.get("REMISS_TEST_POSTGRES_URL", "")
REQUIRED = os.environ.get("REMISS_TEST_REQUIRE", "") == "1"
CHROMIUM = os.environ.get("REMISS_TEST_CHROMIUM", "/usr/bin/chromium")
DEMO_NOW = datetime(2021, 1, 27, 9, 0, tzinfo=timezone.utc)


def missing(reason: str):
    """Skip, or fail where the suite was told everything must run (CI)."""
    if REQUIRED:
        pytest.fail(f"{reason} (REMISS_TEST_REQUIRE=1: nothing may be skipped)", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(config, items):
    """Without PostgreSQL (and not in CI), leave its runs out with one line saying so, instead of
    a skip line for every test."""
    if POSTGRES_URL or REQUIRED:
        return
    left_out = [item for item in items if "[postgresql" in item.nodeid]
    if left_out:
        items[:] = [item for item in items if "[postgresql" not in item.nodeid]
        config.hook.pytest_deselected(items=left_out)
        config._remiss_left_out = len(left_out)


def pytest_terminal_summary(terminalreporter, config):
    left_out = getattr(config, "_remiss_left_out", 0)
    if left_out:
        terminalreporter.write_line(
            f"{left_out} PostgreSQL runs left out: set REMISS_TEST_POSTGRES_URL to run them "
            f"(REMISS_TEST_REQUIRE=1 makes a missing database or browser fail the run).", yellow=True)


# ---------------------------------------------------------------- databases

def _create_postgres_database() -> str:
    import psycopg

    url = make_url(POSTGRES_URL)
    name = f"remiss_test_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(test_url: str) -> None:
    import psycopg

    url = make_url(POSTGRES_URL)
    name = make_url(test_url).database
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _libpq(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    """A migrated, empty database for the whole run, one per backend."""
    if request.param == "postgresql":
        if not POSTGRES_URL:
            missing("PostgreSQL tests need REMISS_TEST_POSTGRES_URL")
        url = _create_postgres_database()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'remiss.sqlite'}"
    _migrate(url)
    yield url
    if request.param == "postgresql":
        _drop_postgres_database(url)


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app(app_settings(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


def app_settings(url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "PUBLIC_BASE_URL": "http://remiss.test",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": 1,  # nothing listens here: a test that sends mail asks for the smtp fixture
        "MAIL_TIMEOUT": 5.0,
        "SERVER_NAME": None,
    }


def _empty_all_tables(engine) -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def app(database_url, request, tmp_path):
    """The app on the backend of this run, in an app context, with an empty database and an
    instance folder of its own (the file mail backend writes there)."""
    settings = app_settings(database_url)
    settings.update(getattr(request, "param", {}) or {})
    app = create_app(settings)
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        yield app
        db.session.remove()
        _empty_all_tables(db.engine)
        db.engine.dispose()


@pytest.fixture
def session(app):
    return db.session


# ---------------------------------------------------------------- clients

def outside_test_context(call, *args, **kwargs):
    """Run `call` in an empty context, as a real request or command would be: its own app
    context, its own `g` and its own database session, not the test's."""
    return contextvars.Context().run(call, *args, **kwargs)


class Client:
    """A test client that fills in the CSRF token the way a browser's form would."""

    def __init__(self, app):
        self.app = app
        self.http = app.test_client()

    def get(self, url, **kwargs):
        return outside_test_context(self.http.get, url, **kwargs)

    def csrf_token(self) -> str:
        page = self.get("/public/accessibility")
        return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    def post(self, url, data=None, *, csrf=True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf_token())
        return outside_test_context(self.http.post, url, data=data, **kwargs)

    def sign_in(self, email: str, password: str = "correct horse battery"):
        response = self.post("/sign-in", {"email": email, "password": password})
        assert response.status_code == 302, f"sign-in as {email} failed: {response.status_code}"
        return response

    def sign_out(self):
        return self.post("/sign-out")


@pytest.fixture
def client(app):
    return Client(app)


class Runner:
    """`runner.invoke("remiss", "demo")`: a CLI command run as from a shell."""

    def __init__(self, app):
        self.cli = app.test_cli_runner()

    def invoke(self, *args, input=None):
        return outside_test_context(self.cli.invoke, args=list(args), input=input)


@pytest.fixture
def runner(app):
    return Runner(app)


# ---------------------------------------------------------------- time, mail, queries

class Clock:
    """Moves remiss.clock.now() for a test: `clock.set(...)`, `clock.advance(days=2)`."""

    def __init__(self, start: datetime):
        self.now = start

    def set(self, instant: datetime) -> None:
        self.now = instant

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def frozen_clock(monkeypatch):
    moving = Clock(DEMO_NOW)
    monkeypatch.setattr(clock, "now", lambda: moving.now)
    return moving


@pytest.fixture(scope="session")
def smtp_server():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp(app, smtp_server):
    """A real SMTP server in this process; the app is pointed at it and its inbox starts empty."""
    smtp_server.clear()
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port)
    return smtp_server


class QueryCounter:
    def __init__(self):
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    """`with count_queries() as counted: ...; counted.count` — SQL statements run inside the block."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        counter = QueryCounter()

        def before(conn, cursor, statement, *args):
            counter.statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return counting


# ---------------------------------------------------------------- the browser

class LiveServer:
    def __init__(self, app):
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def live_server(app):
    app.config["PUBLIC_BASE_URL"] = "http://127.0.0.1"
    with LiveServer(app) as server:
        app.config["PUBLIC_BASE_URL"] = server.url
        yield server


@pytest.fixture(scope="session")
def chromium():
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        missing(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):
    context = chromium.new_context(base_url=live_server.url, locale="sv-SE")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


# An officer and the Kalmar strategy, for the tests of drafts and their versions.
@pytest.fixture
def officer(session):
    return builders.create_officer(session, email="strateg@kalmar.example", name="Sara Strateg")


@pytest.fixture
def strategy(session, officer):
    strategy = builders.create_strategy(session, officer=officer, title="Internationell strategi",
                                        case_reference="KS 2020/0946")
    session.commit()
    return strategy
