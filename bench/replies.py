"""50 secretaries submitting replies at once against gunicorn + PostgreSQL, against a bare Flask POST
doing one INSERT served the same way, both measured in this run.

A submission is four requests (GET the form, POST it with action=submit, GET the confirm page, POST
the confirmation), so both ratios are printed: submissions per second over bare POSTs per second, and
requests per second over bare requests per second. Both phases use the same 50 client threads and
`gunicorn -w 4`; the clients start spread over WARM_UP seconds, then what completes in the next
DURATION seconds counts. Any answer other than the expected one, any exception, and any difference
between what the clients saw done and the rows in the database is an error; the benchmark exits
non-zero if there was one. Nothing asserts a time.

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth); a throwaway database is created and
dropped. Without it the benchmark says why and is skipped.
"""
import html.parser
import http.cookiejar
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

CLIENTS = 50
WORKERS = 4
WARM_UP = 5.0  # seconds of load before the measured window; the clients start spread over it
DURATION = 10.0  # the measured window: what completes within it counts
MAX_ITERATIONS = 5000  # per client and phase, a bound besides the duration
REQUEST_TIMEOUT = 30.0
STARTUP_TIMEOUT = 30.0
SHOWN_ERRORS = 5
PASSWORD = "bench-password-1"
PG_HOST, PG_PORT, PG_USER, PG_ADMIN_DB = "127.0.0.1", 5432, "postgres", "test"
ROOT = Path(__file__).resolve().parent.parent
DRAFT_TEXT = "# Inledning\nBakgrund.\n\n# Syfte och mål\nMålen.\n\n# Ansvar\nVem gör vad."
STANCES = ("approves", "approves_with_comments", "rejects", "no_comments")


class Failure(Exception):
    """An answer the benchmark did not expect (wrong status, missing field)."""


# --- the database ------------------------------------------------------------------------------------

def _admin_connection():
    import psycopg

    return psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=PG_ADMIN_DB, autocommit=True,
                           connect_timeout=5)


@contextmanager
def _throwaway_database():
    name = f"remiss_bench_{os.getpid()}"
    with _admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with _admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _seed(url: str) -> list[tuple[str, int]]:
    """Migrate, then through the workflow: 50 bodies with a secretary each and one open round to all.
    Returns (secretary's e-mail, referral id) per body."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from remiss import accounts, bodies, clock, create_app, drafts, rounds, strategies
    from remiss.extensions import db
    from remiss.models import Role

    from .bare_insert import CREATE_TABLE

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                      "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024})
    with app.app_context():
        upgrade()
        now = clock.now()
        s = db.session
        officer = accounts.create_user(s, None, now, email="strateg@bench.example", name="Strateg",
                                       role=Role.OFFICER, password=PASSWORD)
        email_of = {}
        for i in range(CLIENTS):
            body = bodies.create_body(s, None, now, name=f"Nämnd {i:03d}", kind="board", code=f"N{i}",
                                      mailbox=f"n{i}@bench.example")
            email_of[body.id] = f"sekreterare{i}@bench.example"
            accounts.create_user(s, None, now, email=email_of[body.id], name=f"Sekreterare {i}",
                                 role=Role.SECRETARY, body_ids=[body.id], password=PASSWORD)
        strategy = strategies.create_strategy(s, officer, now, title="Strategi", officer=officer,
                                              case_reference="KS 2021/0001")
        draft = drafts.import_text(s, officer, now, strategy, text=DRAFT_TEXT)
        round_ = rounds.create_round(s, officer, now, strategy, draft=draft,
                                     deadline=(now + timedelta(days=90)).date(), body_ids=list(email_of),
                                     reply_label="Remissvar", cover_letter="Missiv.", reminder_offsets="-7,0",
                                     contact=officer)
        rounds.launch_round(s, officer, now, round_)
        s.commit()
        pairs = [(email_of[r.body_id], r.id) for r in round_.referrals]
        s.execute(text(CREATE_TABLE))
        s.commit()
        s.close()
        for engine in db.engines.values():
            engine.dispose()
    return pairs


def _count(dbname: str, table: str) -> int:
    import psycopg

    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=dbname, connect_timeout=5) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


# --- gunicorn ----------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _gunicorn_command() -> str:
    beside = Path(sys.executable).parent / "gunicorn"
    return str(beside if beside.exists() else ROOT / ".venv" / "bin" / "gunicorn")


@contextmanager
def _gunicorn(app_spec: str, port: int, env: dict, log_path: Path):
    """gunicorn -w 4 serving `app_spec` on 127.0.0.1:`port`; yields its base URL. Always stopped."""
    base = f"http://127.0.0.1:{port}"
    command = [_gunicorn_command(), "-w", str(WORKERS), "-b", f"127.0.0.1:{port}", *_no_control_socket(), app_spec]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_answering(process, base, log_path)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _no_control_socket() -> list[str]:
    """gunicorn ≥ 24 opens a control socket at one fixed path per user (~/.gunicorn/gunicorn.ctl): keep
    off it, so the benchmark never takes it from another gunicorn on this machine."""
    try:
        from gunicorn.config import KNOWN_SETTINGS
    except ImportError:
        return []
    return ["--no-control-socket"] if any("--no-control-socket" in (s.cli or []) for s in KNOWN_SETTINGS) else []


def _wait_until_answering(process, base: str, log_path: Path) -> None:
    client = Client(base)
    give_up = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < give_up:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped at start (exit {process.returncode}):\n"
                               + log_path.read_text(errors="replace")[-3000:])
        try:
            client.request("/")
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer within {STARTUP_TIMEOUT:.0f} s:\n"
                       + log_path.read_text(errors="replace")[-3000:])


def _environment(**settings: str) -> dict:
    """This process's environment without any REMISS_* setting, plus `settings`."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("REMISS_")}
    env.update(settings)
    return env


def _tracebacks(log_path: Path, limit: int = 2) -> list[str]:
    """The first `limit` tracebacks in a gunicorn log (chained ones whole), each with the line before it."""
    lines = log_path.read_text(errors="replace").splitlines()
    chained = ("During handling of the above exception", "The above exception was the direct cause")
    found, n = [], 0
    while n < len(lines) and len(found) < limit:
        if not lines[n].startswith("Traceback (most recent call last)"):
            n += 1
            continue
        end = n
        while True:
            end += 1
            while end < len(lines) and lines[end].startswith((" ", "\t")):
                end += 1  # the frames; lines[end] is now the exception itself
            following = end + 1
            while following < len(lines) and not lines[following].strip():
                following += 1
            if following < len(lines) and lines[following].startswith(chained):
                end = following + 2  # past the blank line, onto the next "Traceback"
                continue
            break
        found.append("\n".join(lines[max(n - 1, 0):end + 1]))
        n = end + 1
    return found


# --- the clients -------------------------------------------------------------------------------------

class _EveryAnswer(urllib.request.HTTPErrorProcessor):
    """Hand back every answer as it came: no redirect followed, no exception for 4xx or 5xx."""

    def http_response(self, request, response):
        return response

    https_response = http_response


class Client:
    """One browser: its own cookie jar; counts the requests it made."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  _EveryAnswer())
        self.answered_at: list[float] = []  # perf_counter() of every answer received

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        """(status, Location, body) of a GET, or of a form POST when `data` is given."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        with self.opener.open(self.base + path, data=body, timeout=REQUEST_TIMEOUT) as response:
            text = response.read().decode("utf-8", "replace")
            self.answered_at.append(time.perf_counter())
            return response.status, response.headers.get("Location") or "", text

    def expect(self, step: str, wanted: int, path: str, data: dict | None = None,
               location_ends: str | None = None) -> str:
        status, location, text = self.request(path, data)
        if status != wanted:
            raise Failure(f"{step}: {status}, expected {wanted}: {_excerpt(text)}")
        if location_ends is not None and not urllib.parse.urlsplit(location).path.endswith(location_ends):
            raise Failure(f"{step}: redirected to {location!r}, expected …{location_ends}")
        return text


def _excerpt(page: str) -> str:
    """The page's error summary if it has one, else the start of its text."""
    import re

    summary = re.search(r'<div class="error-summary".*?</div>', page, flags=re.S)
    text = " ".join(re.sub(r"<[^>]+>", " ", summary.group(0) if summary else page).split())
    return text[:300]


class _Forms(html.parser.HTMLParser):
    """Every <form> of a page: its action, its input values by name, its textarea names."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._current: dict | None = None
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = {"action": attrs.get("action") or "", "inputs": {}, "textareas": []}
            self.forms.append(self._current)
        elif self._current is not None and attrs.get("name"):
            if tag == "input" and attrs.get("type") not in ("radio", "checkbox"):
                self._current["inputs"].setdefault(attrs["name"], attrs.get("value") or "")
            elif tag == "textarea":
                self._current["textareas"].append(attrs["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def _form_with(page: str, field: str, step: str) -> dict:
    for form in _Forms(page).forms:
        if field in form["inputs"]:
            return form
    raise Failure(f"{step}: no form with a {field!r} field")


def _sign_in(client: Client, email: str) -> None:
    page = client.expect("GET /sign-in", 200, "/sign-in")
    token = _form_with(page, "csrf_token", "GET /sign-in")["inputs"]["csrf_token"]
    client.expect("POST /sign-in", 302, "/sign-in", {"csrf_token": token, "email": email, "password": PASSWORD})


def _submit_reply(client: Client, referral_id: int, client_no: int, iteration: int) -> None:
    """One submission as a secretary makes it: the form, save and go on, the confirm page, send."""
    path = f"/referrals/{referral_id}/reply"
    form = _form_with(client.expect("GET reply form", 200, path), "version", "GET reply form")
    data = {"csrf_token": form["inputs"]["csrf_token"], "version": form["inputs"]["version"], "action": "submit",
            "stance": STANCES[iteration % len(STANCES)],
            "summary": f"Nämnd {client_no} tillstyrker i huvudsak (svar {iteration}).",
            "general_comments": f"Övriga synpunkter, omgång {iteration}."}
    for name in form["textareas"]:
        if name.startswith("comment_"):
            data[name] = f"Synpunkt på {name} från nämnd {client_no}, omgång {iteration}."
    if not any(name.startswith("comment_") for name in data):
        raise Failure("GET reply form: no comment fields")
    client.expect("POST reply (submit)", 302, path, data, location_ends=f"{path}/confirm")
    form = _form_with(client.expect("GET confirm", 200, f"{path}/confirm"), "version", "GET confirm")
    client.expect("POST confirm", 302, f"{path}/confirm",
                  {"csrf_token": form["inputs"]["csrf_token"], "version": form["inputs"]["version"]})


def _load(base: str, prepare, unit) -> dict:
    """CLIENTS threads, each with its own Client: prepare(client, k) untimed, then unit(client, k, i) over
    and over (at most MAX_ITERATIONS times). The clients start spread over WARM_UP seconds, so they do not
    march in step; what completes in the DURATION seconds after that counts. After the window no new unit
    starts; the ones under way finish and their errors count too."""
    clients = [Client(base) for _ in range(CLIENTS)]
    finished_at: list[list[float]] = [[] for _ in range(CLIENTS)]
    errors: list[str] = []
    barrier = threading.Barrier(CLIENTS + 1, timeout=STARTUP_TIMEOUT + 4 * REQUEST_TIMEOUT)
    start = 0.0

    def work(k: int) -> None:
        client = clients[k]
        try:
            prepare(client, k)
            ready = True
        except Exception as error:  # noqa: BLE001 - every failure is counted and shown
            errors.append(f"client {k}, before the run: {type(error).__name__}: {error}")
            ready = False
        barrier.wait()
        if not ready:
            return
        time.sleep(WARM_UP * k / CLIENTS)
        stop_at = start + WARM_UP + DURATION
        for i in range(MAX_ITERATIONS):
            if time.perf_counter() >= stop_at:
                break
            try:
                unit(client, k, i)
                finished_at[k].append(time.perf_counter())
            except Exception as error:  # noqa: BLE001
                errors.append(f"client {k}, iteration {i}: {type(error).__name__}: {error}")

    threads = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(CLIENTS)]
    for thread in threads:
        thread.start()
    start = time.perf_counter()  # the threads read it once past the barrier
    barrier.wait()
    give_up = time.monotonic() + WARM_UP + DURATION + 5 * REQUEST_TIMEOUT
    for thread in threads:
        thread.join(timeout=max(0.0, give_up - time.monotonic()))
    hanging = sum(thread.is_alive() for thread in threads)
    if hanging:
        errors.append(f"{hanging} clients still running {time.perf_counter() - start:.0f} s after the start")

    window = (start + WARM_UP, start + WARM_UP + DURATION)

    def in_window(times):
        return sum(window[0] <= t < window[1] for t in times)

    return {"units": sum(in_window(times) for times in finished_at),
            "units_all": sum(len(times) for times in finished_at),
            "requests": sum(in_window(c.answered_at) for c in clients),
            "errors": errors, "seconds": DURATION}


# --- the benchmark -----------------------------------------------------------------------------------

def _postgres_missing() -> str | None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed"
    try:
        with _admin_connection() as admin:
            admin.execute("SELECT 1")
    except Exception as error:  # noqa: BLE001 - any reason not to run is reported
        return f"PostgreSQL at {PG_HOST}:{PG_PORT} is not reachable ({' '.join(str(error).split())})"
    return None


def run() -> None:
    reason = _postgres_missing()
    if reason:
        print(f"replies benchmark not run: {reason}")
        return
    with TemporaryDirectory() as tmp, _throwaway_database() as dbname:
        url = f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{dbname}"
        secretaries = _seed(url)
        logs = {"bare": Path(tmp) / "bare.log", "remiss": Path(tmp) / "remiss.log"}

        bare_env = _environment(BENCH_BARE_DSN=f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname={dbname}")
        with _gunicorn("bench.bare_insert:app", _free_port(), bare_env, logs["bare"]) as base:
            bare = _load(base, lambda client, k: client.expect("warm-up", 200, "/"),
                         lambda client, k, i: client.expect("POST /insert", 200, "/insert",
                                                            {"text": f"client {k}, request {i}"}))
        kept = _count(dbname, "bare_insert")
        if kept != bare["units_all"]:
            bare["errors"].append(f"bare: {kept} rows inserted, {bare['units_all']} POSTs answered")

        port = _free_port()
        remiss_env = _environment(REMISS_DATABASE_URL=url, REMISS_SECRET_KEY="bench-" + os.urandom(16).hex(),
                                  REMISS_ARGON2_TIME_COST="1", REMISS_ARGON2_MEMORY_COST="1024",
                                  REMISS_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
        with _gunicorn("wsgi:app", port, remiss_env, logs["remiss"]) as base:
            replies = _load(base, lambda client, k: _sign_in(client, secretaries[k][0]),
                            lambda client, k, i: _submit_reply(client, secretaries[k][1], k, i))
        kept = _count(dbname, "response_versions")
        if kept != replies["units_all"]:
            replies["errors"].append(f"replies: {kept} versions kept, {replies['units_all']} submissions answered")

        _report(bare, replies)
        errors = bare["errors"] + replies["errors"]
        if errors:
            print(f"replies: {len(errors)} errors; the first {min(len(errors), SHOWN_ERRORS)}:")
            for error in errors[:SHOWN_ERRORS]:
                print(f"  {error}")
            for name, path in logs.items():
                for traceback in _tracebacks(path):
                    print(f"--- a traceback in the {name} gunicorn log:\n{traceback}")
    if errors:
        raise SystemExit(1)


def _report(bare: dict, replies: dict) -> None:
    bare_rate = bare["units"] / bare["seconds"]
    submissions = replies["units"] / replies["seconds"]
    requests = replies["requests"] / replies["seconds"]
    print(f"replies, {CLIENTS} clients on gunicorn -w {WORKERS} + PostgreSQL: {replies['units']} submissions in "
          f"{replies['seconds']:.1f} s ({submissions:.1f}/s, {requests:.0f} req/s), "
          f"errors {len(replies['errors'])}")
    print(f"bare INSERT POST, same clients and server: {bare_rate:.0f} req/s, errors {len(bare['errors'])}; "
          f"ratio (submissions) {submissions / bare_rate:.3f}, ratio (requests) {requests / bare_rate:.2f}")
