"""Everyday pages of the demo against a bare Flask page, as time ratios."""
from datetime import datetime, timezone

from flask import Flask

from .common import per_second, remiss_app, signed_in


def run() -> None:
    from remiss.demo import load_demo
    from remiss.extensions import db

    bare_app = Flask("bare")
    bare_app.add_url_rule("/", "index", lambda: "<!doctype html><title>x</title><p>hej</p>")
    bare = bare_app.test_client()
    baseline = per_second(lambda: bare.get("/"))
    print(f"baseline: bare Flask page {baseline:8.0f} req/s")
    with remiss_app() as app:
        with app.app_context():
            load_demo(db.session, datetime(2021, 1, 27, 8, tzinfo=timezone.utc), "bench-password-1")
            db.session.commit()
        officer = signed_in(app, "strateg@demo.kalmar.example", "bench-password-1")
        admin = signed_in(app, "admin@demo.kalmar.example", "bench-password-1")
        for label, client, url in [("sign-in page", app.test_client(), "/sign-in"),
                                   ("officer start page", officer, "/"),
                                   ("strategy page", officer, "/strategies/1"),
                                   ("admin: users", admin, "/admin/users/")]:
            assert client.get(url).status_code == 200, url
            rate = per_second(lambda: client.get(url), seconds=0.5)
            print(f"{label:22} {rate:8.0f} req/s  ratio to bare {rate / baseline:5.2f}")
