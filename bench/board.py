"""The status board of a round to 200 bodies, against a bare Flask page rendering 200 rows of one table.

Both run in this process on SQLite; the ratio is requests per second of the board over the
baseline (target ≥ 0.6).
"""
import sqlite3
from datetime import date, datetime, timezone
from tempfile import TemporaryDirectory

from flask import Flask, render_template_string

from .common import per_second, remiss_app, signed_in

BODIES = 200
NOW = datetime(2021, 1, 27, 9, tzinfo=timezone.utc)
BARE_TEMPLATE = """<!doctype html><html lang="sv"><title>bare</title><table>
{% for row in rows %}<tr><th>{{ row[1] }}</th><td>{{ row[2] }}</td><td>{{ row[3] }}</td><td>{{ row[4] }}</td></tr>
{% endfor %}</table>"""


def _bare_app(path: str) -> Flask:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, name TEXT, state TEXT, deadline TEXT, code TEXT)")
        conn.executemany("INSERT INTO rows (name, state, deadline, code) VALUES (?, ?, ?, ?)",
                         [(f"Nämnd {i}", "invited", "2021-03-26", f"N{i}") for i in range(BODIES)])
    app = Flask("bare")

    @app.route("/")
    def board():
        with sqlite3.connect(path) as conn:
            rows = conn.execute("SELECT id, name, state, deadline, code FROM rows ORDER BY name").fetchall()
        return render_template_string(BARE_TEMPLATE, rows=rows)

    return app


def _round_of(app, size: int) -> int:
    from remiss import accounts, bodies, drafts, rounds, strategies
    from remiss.extensions import db

    with app.app_context():
        officer = accounts.create_user(db.session, None, NOW, email="strateg@bench.example", name="Strateg",
                                       role="officer", password="bench-password-1")
        ids = [bodies.create_body(db.session, None, NOW, name=f"Nämnd {i:03d}", kind="board", code=f"N{i}",
                                  mailbox=f"n{i}@bench.example").id for i in range(size)]
        strategy = strategies.create_strategy(db.session, officer, NOW, title="Strategi", officer=officer,
                                              case_reference="KS 2021/0001")
        draft = drafts.import_text(db.session, officer, NOW, strategy, text="# Inledning\nText.")
        round_ = rounds.create_round(db.session, officer, NOW, strategy, draft=draft, deadline=date(2021, 3, 26),
                                     body_ids=ids, reply_label="Remissvar", cover_letter="Missiv.",
                                     reminder_offsets="-7,0", contact=officer)
        rounds.launch_round(db.session, officer, NOW, round_)
        db.session.commit()
        return round_.id


def run() -> None:
    with TemporaryDirectory() as tmp:
        bare = _bare_app(f"{tmp}/bare.sqlite").test_client()
        baseline = per_second(lambda: bare.get("/"))
    with remiss_app() as app:
        round_id = _round_of(app, BODIES)
        client = signed_in(app, "strateg@bench.example", "bench-password-1")
        assert client.get(f"/rounds/{round_id}").status_code == 200
        board = per_second(lambda: client.get(f"/rounds/{round_id}"))
    print(f"status board, {BODIES} bodies: {board:7.1f} req/s; bare Flask page of {BODIES} rows: "
          f"{baseline:7.1f} req/s; ratio {board / baseline:.2f} (target ≥ 0.6)")
