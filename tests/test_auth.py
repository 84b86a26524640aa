"""Signing in and out, invitation and reset links, throttling, CSRF and the security of every response."""
import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from argon2 import PasswordHasher
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select

import config
from remiss import ConfigurationError, create_app
from remiss.extensions import db
from remiss.models import Body, LoginAttempt, PasswordToken, Role, User

from . import builders
from .conftest import Client

WRONG_CREDENTIALS = "Fel e-postadress eller lösenord."
THROTTLED = "För många misslyckade inloggningsförsök. Vänta 15 minuter och försök igen."
DEAD_LINK = "Länken är ogiltig, redan använd eller för gammal."
NEW_PASSWORD = "ett nytt och långt lösenord"


def sign_in(client, email, password=builders.PASSWORD, address="127.0.0.1", next_=None):
    url = "/sign-in" + (f"?next={next_}" if next_ is not None else "")
    return client.post(url, {"email": email, "password": password}, environ_base={"REMOTE_ADDR": address})


def is_signed_in(client) -> bool:
    return client.get("/").status_code == 200


def link_in_mail(message) -> str:
    """The path of the single-use link in an invitation or reset mail."""
    text = message.get_body(("plain",)).get_content()
    return urlsplit(re.search(r"http://remiss\.test/password/\S+", text).group(0)).path


def without_tokens(page: str) -> str:
    """A page without its CSRF tokens, which carry the second they were signed."""
    return re.sub(r'name="csrf_token"([^>]*)value="[^"]*"', r'name="csrf_token"\1value=""', page)


def choose_password(client, path, password=NEW_PASSWORD, confirm=None):
    return client.post(path, {"password": password, "confirm": confirm or password})


# ---------------------------------------------------------------- signing in and out

def test_officer_signs_in_with_the_right_password_and_lands_on_the_start_page(client, session):
    officer = builders.create_officer(session, name="Olivia Strateg")
    session.commit()
    response = sign_in(client, officer.email)
    assert response.status_code == 302
    assert response.location == "/"
    start = client.get("/")
    assert start.status_code == 200
    assert "Olivia Strateg" in start.text


def test_address_is_matched_without_regard_to_case_or_surrounding_spaces(client, session):
    builders.create_officer(session, email="olivia@kommun.example")
    session.commit()
    assert sign_in(client, "  Olivia@Kommun.EXAMPLE ").status_code == 302
    assert is_signed_in(client)


@pytest.mark.parametrize("email, password", [
    ("known", "fel lösenord helt enkelt"),
    ("nobody@kommun.example", builders.PASSWORD),
])
def test_wrong_password_or_unknown_address_gets_the_same_swedish_message(client, session, email, password):
    officer = builders.create_officer(session)
    session.commit()
    response = sign_in(client, officer.email if email == "known" else email, password)
    assert response.status_code == 422
    assert WRONG_CREDENTIALS in response.text
    assert not is_signed_in(client)


def test_a_failed_sign_in_keeps_the_address_but_never_echoes_the_password(client, session):
    officer = builders.create_officer(session)
    session.commit()
    response = sign_in(client, officer.email, "hemligt-fel-lösen")
    assert f'value="{officer.email}"' in response.text
    assert "hemligt-fel-lösen" not in response.text


def test_deactivated_user_cannot_sign_in_even_with_the_right_password(client, session):
    secretary = builders.create_secretary(session, builders.create_body(session))
    secretary.active = False
    session.commit()
    response = sign_in(client, secretary.email)
    assert response.status_code == 422
    assert WRONG_CREDENTIALS in response.text
    assert not is_signed_in(client)


def test_deactivating_a_user_ends_the_session_they_already_have(client, session):
    secretary = builders.create_secretary(session, builders.create_body(session))
    session.commit()
    client.sign_in(secretary.email)
    assert is_signed_in(client)
    secretary.active = False
    session.commit()
    response = client.get("/")
    assert response.status_code == 302
    assert response.location.startswith("/sign-in")


def test_invited_user_without_a_password_cannot_sign_in_with_an_empty_one(client, session):
    invited = builders.create_user(session, role=Role.OFFICER, password=None)
    session.commit()
    response = sign_in(client, invited.email, "")
    assert response.status_code == 422
    response = sign_in(client, invited.email, "x")
    assert WRONG_CREDENTIALS in response.text
    assert not is_signed_in(client)


def test_sign_out_is_a_post_that_ends_the_session(client, session):
    officer = builders.create_officer(session)
    session.commit()
    client.sign_in(officer.email)
    response = client.sign_out()
    assert response.status_code == 302
    assert response.location == "/sign-in"
    after = client.get("/")
    assert after.status_code == 302
    assert after.location.startswith("/sign-in")
    assert "Du är utloggad." in client.get("/sign-in").text


def test_sign_out_by_get_or_without_csrf_token_does_not_sign_out(client, session):
    officer = builders.create_officer(session)
    session.commit()
    client.sign_in(officer.email)
    assert client.get("/sign-out").status_code == 405
    assert client.post("/sign-out", csrf=False).status_code == 400
    assert is_signed_in(client)


def test_signed_in_pages_are_not_cached(client, session):
    officer = builders.create_officer(session)
    session.commit()
    client.sign_in(officer.email)
    assert client.get("/").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("next_, lands_on", [
    ("/strategies/", "/strategies/"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("http:evil.example", "/"),
    ("%09/evil.example", "/"),
    ("/%09/evil.example", "/"),
    ("javascript:alert(1)", "/"),
])
def test_next_after_sign_in_stays_on_this_site(client, session, next_, lands_on):
    officer = builders.create_officer(session)
    session.commit()
    response = sign_in(client, officer.email, next_=next_)
    assert response.status_code == 302
    assert response.location == lands_on


def test_a_backslash_in_next_cannot_become_another_host(client, session):
    officer = builders.create_officer(session)
    session.commit()
    response = sign_in(client, officer.email, next_="/%5Cevil.example")
    # Browsers read "/\host" as "//host"; the Location header must keep the backslash escaped.
    assert response.location.startswith("/")
    assert "\\" not in response.location
    assert not response.location.startswith("//")


def test_an_anonymous_visitor_returns_to_the_page_they_asked_for_after_signing_in(client, session):
    officer = builders.create_officer(session)
    session.commit()
    asked = client.get("/strategies/")
    assert asked.status_code == 302
    response = client.post(asked.location, {"email": officer.email, "password": builders.PASSWORD})
    assert response.location == "/strategies/"


# ---------------------------------------------------------------- throttling

def test_five_failures_lock_the_account_even_for_the_right_password_until_the_window_passes(
        client, session, frozen_clock):
    officer = builders.create_officer(session)
    session.commit()
    for attempt in range(5):
        response = sign_in(client, officer.email, f"gissning nummer {attempt}", address=f"198.51.100.{attempt}")
        assert WRONG_CREDENTIALS in response.text
    locked = sign_in(client, officer.email, address="198.51.100.99")
    assert locked.status_code == 422
    assert THROTTLED in locked.text
    assert not is_signed_in(client)

    frozen_clock.advance(minutes=14)
    assert THROTTLED in sign_in(client, officer.email).text

    frozen_clock.advance(minutes=2)
    assert sign_in(client, officer.email).status_code == 302
    assert is_signed_in(client)


def test_four_failures_do_not_lock_the_account(client, session, frozen_clock):
    officer = builders.create_officer(session)
    session.commit()
    for attempt in range(4):
        sign_in(client, officer.email, f"gissning {attempt}")
    assert sign_in(client, officer.email).status_code == 302


def test_a_locked_account_does_not_lock_other_accounts(client, session, frozen_clock):
    victim, colleague = builders.create_officer(session), builders.create_officer(session)
    session.commit()
    for attempt in range(5):
        sign_in(client, victim.email, f"gissning {attempt}", address=f"198.51.100.{attempt}")
    assert THROTTLED in sign_in(client, victim.email, address="192.0.2.1").text
    assert sign_in(client, colleague.email, address="192.0.2.1").status_code == 302


def test_twenty_failures_from_one_address_lock_that_address_for_every_account(client, session, frozen_clock):
    officer = builders.create_officer(session)
    session.commit()
    for n in range(20):
        response = sign_in(client, f"gissning{n}@kommun.example", "fel lösenord", address="203.0.113.7")
        assert WRONG_CREDENTIALS in response.text
    from_the_guesser = sign_in(client, officer.email, address="203.0.113.7")
    assert from_the_guesser.status_code == 422
    assert THROTTLED in from_the_guesser.text

    elsewhere = Client(client.app)
    assert sign_in(elsewhere, officer.email, address="203.0.113.8").status_code == 302

    frozen_clock.advance(minutes=16)
    assert sign_in(client, officer.email, address="203.0.113.7").status_code == 302


def test_failed_attempts_are_recorded_with_address_and_time(client, session, frozen_clock):
    sign_in(client, "Nobody@Kommun.example", "fel", address="203.0.113.9")
    attempt = session.scalars(select(LoginAttempt)).one()
    assert (attempt.email, attempt.address, attempt.at) == ("nobody@kommun.example", "203.0.113.9",
                                                             frozen_clock.now)


# ---------------------------------------------------------------- invitation and reset links

def invite(client, session, admin, email="ny.sekreterare@kommun.example"):
    body = builders.create_body(session)
    session.commit()
    client.sign_in(admin.email)
    response = client.post("/admin/users/new", {"email": email, "name": "Ny Sekreterare", "role": "secretary",
                                                "bodies": [str(body.id)], "locale": "sv"})
    assert response.status_code == 302, response.text
    client.sign_out()


def test_invitation_from_mail_to_first_sign_in(client, session, smtp, runner):
    admin = builders.create_admin(session)
    invite(client, session, admin)
    sent = runner.invoke("remiss", "outbox", "send")
    assert sent.exit_code == 0, sent.output
    [mail] = smtp.to("ny.sekreterare@kommun.example")
    path = link_in_mail(mail)

    # A mail scanner opening the link must not spend it.
    for _ in range(2):
        page = client.get(path)
        assert page.status_code == 200
        assert "Välkommen till Remiss, Ny Sekreterare" in page.text
    assert not is_signed_in(client)

    response = choose_password(client, path)
    assert response.status_code == 302
    assert response.location == "/"
    start = client.get("/")
    assert start.status_code == 200
    assert "Ny Sekreterare" in start.text

    dead = client.get(path)
    assert dead.status_code == 404
    assert DEAD_LINK in dead.text
    assert choose_password(client, path, "ännu ett nytt lösenord").status_code == 404

    client.sign_out()
    assert sign_in(client, "ny.sekreterare@kommun.example", NEW_PASSWORD).status_code == 302
    assert sign_in(Client(client.app), "ny.sekreterare@kommun.example", "ännu ett nytt lösenord").status_code == 422


def test_an_invitation_link_expires_after_a_week(client, session, frozen_clock):
    invited = builders.create_user(session, role=Role.OFFICER, password=None)
    path = builders.create_password_link(session, invited)
    session.commit()
    frozen_clock.advance(days=7, minutes=-1)
    assert client.get(path).status_code == 200

    frozen_clock.advance(minutes=2)
    page = client.get(path)
    assert page.status_code == 404
    assert DEAD_LINK in page.text
    assert choose_password(client, path).status_code == 404
    session.expire_all()
    assert session.get(User, invited.id).password_hash is None


def test_a_reset_link_expires_after_two_hours(client, session, frozen_clock):
    officer = builders.create_officer(session)
    path = builders.create_password_link(session, officer, purpose="reset")
    session.commit()
    frozen_clock.advance(hours=2, seconds=1)
    assert client.get(path).status_code == 404


def test_a_link_for_a_deactivated_user_is_dead(client, session):
    invited = builders.create_user(session, role=Role.OFFICER, password=None)
    path = builders.create_password_link(session, invited)
    invited.active = False
    session.commit()
    assert client.get(path).status_code == 404


def test_a_made_up_link_is_a_404_page(client):
    page = client.get("/password/inte-en-riktig-länk")
    assert page.status_code == 404
    assert DEAD_LINK in page.text


def test_using_one_link_spends_every_other_open_link_of_that_user(client, session):
    officer = builders.create_officer(session)
    first = builders.create_password_link(session, officer, purpose="reset")
    second = builders.create_password_link(session, officer, purpose="reset")
    session.commit()
    assert choose_password(client, second).status_code == 302
    assert client.get(first).status_code == 404


def test_only_a_hash_of_the_link_is_stored(client, session):
    officer = builders.create_officer(session)
    path = builders.create_password_link(session, officer)
    session.commit()
    raw = path.rsplit("/", 1)[1]
    stored = session.scalars(select(PasswordToken.token_hash)).all()
    assert len(stored) == 1
    assert raw not in stored[0]


def test_forgot_password_answers_the_same_for_known_and_unknown_addresses_and_mails_only_the_known(
        client, session, smtp, runner):
    officer = builders.create_officer(session, email="olivia@kommun.example")
    session.commit()
    known = client.post("/forgot-password", {"email": "olivia@kommun.example"})
    unknown = client.post("/forgot-password", {"email": "okand@kommun.example"})
    assert known.status_code == unknown.status_code == 200
    assert (without_tokens(known.text).replace("olivia@kommun.example", "ADDRESS")
            == without_tokens(unknown.text).replace("okand@kommun.example", "ADDRESS"))

    assert runner.invoke("remiss", "outbox", "send").exit_code == 0
    assert [m["To"] for m in smtp.messages] == ["olivia@kommun.example"]

    path = link_in_mail(smtp.messages[0])
    assert "Välj ett nytt lösenord för kontot olivia@kommun.example" in client.get(path).text
    assert choose_password(client, path).status_code == 302
    client.sign_out()
    assert sign_in(client, officer.email, builders.PASSWORD).status_code == 422
    assert sign_in(client, officer.email, NEW_PASSWORD).status_code == 302


def test_forgot_password_sends_nothing_to_a_deactivated_user(client, session, smtp, runner):
    officer = builders.create_officer(session)
    officer.active = False
    session.commit()
    assert client.post("/forgot-password", {"email": officer.email}).status_code == 200
    runner.invoke("remiss", "outbox", "send")
    assert smtp.messages == []


# ---------------------------------------------------------------- passwords

def test_passwords_are_stored_as_argon2id_hashes_never_in_plain(client, session):
    officer = builders.create_officer(session)
    path = builders.create_password_link(session, officer, purpose="reset")
    session.commit()
    assert officer.password_hash.startswith("$argon2id$")
    assert builders.PASSWORD not in officer.password_hash

    choose_password(client, path)
    session.expire_all()
    stored = session.get(User, officer.id).password_hash
    assert stored.startswith("$argon2id$")
    assert NEW_PASSWORD not in stored
    assert PasswordHasher().verify(stored, NEW_PASSWORD)


# ---------------------------------------------------------------- CSRF

def test_a_post_without_csrf_token_is_refused_and_changes_nothing(client, session):
    admin = builders.create_admin(session)
    session.commit()
    client.sign_in(admin.email)
    response = client.post("/admin/bodies/new", {"name": "Kulturnämnden", "kind": "board", "code": "KN",
                                                 "mailbox": "kultur@kommun.example"}, csrf=False)
    assert response.status_code == 400
    assert "Formuläret saknade sin säkerhetskod" in response.text
    assert session.scalar(select(func.count(Body.id))) == 0


def test_a_post_with_a_forged_csrf_token_is_refused(client, session):
    admin = builders.create_admin(session)
    session.commit()
    client.sign_in(admin.email)
    response = client.post("/admin/bodies/new", {"name": "Kulturnämnden", "kind": "board", "code": "KN",
                                                 "mailbox": "kultur@kommun.example", "csrf_token": "forged"})
    assert response.status_code == 400
    assert session.scalar(select(func.count(Body.id))) == 0


def test_a_sign_in_without_csrf_token_records_no_attempt(client, session):
    response = client.post("/sign-in", {"email": "x@kommun.example", "password": "fel"}, csrf=False)
    assert response.status_code == 400
    assert session.scalar(select(func.count(LoginAttempt.id))) == 0


def test_csrf_tokens_do_not_expire_within_an_afternoon(app, client, session, monkeypatch):
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None
    admin = builders.create_admin(session)
    session.commit()
    client.sign_in(admin.email)
    form = client.get("/admin/bodies/new")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"',
                      form.text)
    token = token.group(1) or token.group(2)

    # Flask-WTF and the session cookie read time through itsdangerous, not remiss.clock.
    later = int(time.time()) + int(timedelta(hours=11).total_seconds())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    response = client.post("/admin/bodies/new", {"name": "Kulturnämnden", "kind": "board", "code": "KN",
                                                 "mailbox": "kultur@kommun.example", "csrf_token": token},
                           csrf=False)
    assert response.status_code == 302, response.text
    assert session.scalar(select(Body.code)) == "KN"


# ---------------------------------------------------------------- headers and cookies

def csp(response) -> dict[str, str]:
    directives = [d.strip().split(None, 1) for d in response.headers["Content-Security-Policy"].split(";")]
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives if d}


@pytest.mark.parametrize("url", ["/sign-in", "/public/", "/public/accessibility", "/no-such-page"])
def test_every_page_carries_the_security_headers(client, url):
    response = client.get(url)
    policy = csp(response)
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] in {"same-origin", "no-referrer", "strict-origin-when-cross-origin"}


def test_signed_in_pages_carry_the_security_headers_too(client, session):
    officer = builders.create_officer(session)
    session.commit()
    client.sign_in(officer.email)
    response = client.get("/strategies/")
    assert response.status_code == 200
    assert "'unsafe-inline'" not in csp(response)["script-src"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_password_link_page_sends_no_referrer(client, session):
    invited = builders.create_user(session, role=Role.OFFICER, password=None)
    path = builders.create_password_link(session, invited)
    session.commit()
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    failed = choose_password(client, path, "kort")
    assert failed.status_code == 422
    assert failed.headers["Referrer-Policy"] == "no-referrer"


def test_session_cookie_is_http_only_and_same_site_lax_and_not_secure_over_http(client, session):
    officer = builders.create_officer(session)
    session.commit()
    cookie = sign_in(client, officer.email).headers["Set-Cookie"]
    assert cookie.startswith("session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def https_app(monkeypatch, database_url):
    monkeypatch.setenv("REMISS_PUBLIC_BASE_URL", "https://remiss.kommun.example")
    monkeypatch.setenv("REMISS_SECRET_KEY", "a-real-secret-from-the-environment")
    monkeypatch.setenv("REMISS_DATABASE_URL", database_url)
    for name in ("REMISS_SESSION_COOKIE_SECURE", "REMISS_TESTING", "FLASK_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    return create_app({"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024})


def test_session_cookie_is_secure_when_the_site_is_served_over_https(app, session, database_url, monkeypatch):
    builders.create_officer(session)
    session.commit()
    secure = https_app(monkeypatch, database_url)
    assert secure.config["SESSION_COOKIE_SECURE"] is True
    try:
        response = Client(secure).get("/sign-in", base_url="https://remiss.kommun.example")
        cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        with secure.app_context():
            db.engine.dispose()


def test_https_is_derived_from_the_public_address_unless_set_explicitly():
    assert config.from_environment({"REMISS_PUBLIC_BASE_URL": "https://remiss.kommun.example"})[
        "SESSION_COOKIE_SECURE"] is True
    assert "SESSION_COOKIE_SECURE" not in config.from_environment({"REMISS_PUBLIC_BASE_URL": "http://localhost"})
    assert config.from_environment({"REMISS_PUBLIC_BASE_URL": "https://remiss.kommun.example",
                                    "REMISS_SESSION_COOKIE_SECURE": "0"})["SESSION_COOKIE_SECURE"] is False


def test_the_app_refuses_to_start_in_production_without_a_secret_key(monkeypatch):
    for name in ("REMISS_SECRET_KEY", "REMISS_TESTING", "FLASK_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError, match="REMISS_SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})

    monkeypatch.setenv("REMISS_SECRET_KEY", "a-real-secret-from-the-environment")
    assert create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).secret_key == "a-real-secret-from-the-environment"


def test_a_development_app_gets_a_development_key_but_never_an_empty_one():
    app = create_app({"TESTING": True, "SECRET_KEY": "", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.secret_key == config.DEVELOPMENT_SECRET_KEY
