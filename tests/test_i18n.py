"""Swedish first, English second: the catalogue, the language switch, dates and Swedish order."""
import re
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask_babel import force_locale

from remiss import create_app
from remiss.i18n import format_deadline, format_moment, swedish_key

from . import builders
from .conftest import Client

ROOT = Path(__file__).resolve().parent.parent
ENGLISH_PO = ROOT / "remiss" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdifr]")
HTML_LANG = re.compile(r'<html lang="(\w+)">')


# ---------------------------------------------------------------- the catalogue

def _mapping(*, jinja_extensions: str = "") -> tuple[list, dict]:
    """babel.cfg as the Makefile reads it, except that the Jinja extractor is told to fail
    loudly on a template it cannot parse instead of silently skipping its texts."""
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, "babel.cfg")
    for pattern, method in method_map:
        if method == "jinja2":
            options = options_map.setdefault(pattern, {})
            options["silent"] = "false"
            wanted = [e.strip() for e in (options.get("extensions", "") + "," + jinja_extensions).split(",")]
            options["extensions"] = ",".join(sorted({e for e in wanted if e}))
    return method_map, options_map


def _extract(method_map, options_map) -> dict[str, list[str]]:
    """Every msgid in code and templates right now, with where it is used (`-k _l` as in the Makefile)."""
    keywords = dict(DEFAULT_KEYWORDS, _l=None)
    reading = []
    found: dict[str, list[str]] = {}
    try:
        for filename, lineno, message, _comments, _context in extract_from_dir(
                str(ROOT), method_map, options_map, keywords=keywords,
                callback=lambda filename, method, options: reading.append(filename)):
            msgid = message[0] if isinstance(message, tuple) else message
            found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    except Exception as error:  # the extractor stops at the first file it cannot parse
        failure = f"babel could not read {reading[-1] if reading else '?'}: {error}"
    else:
        return found
    pytest.fail(failure + "\n(a template using a Jinja extension needs `extensions = ...` under its "
                "section of babel.cfg, or `make extract-messages` silently leaves its texts out)", pytrace=False)


def _app_jinja_extensions() -> str:
    """The Jinja extensions the app renders templates with (create_app does no I/O)."""
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return ",".join(f"{type(ext).__module__}.{type(ext).__name__}" for ext in app.jinja_env.extensions.values())


def _english_catalogue():
    with open(ENGLISH_PO, "rb") as po:
        return read_po(po, locale="en_GB")


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def _formats(text: str) -> bool:
    try:
        text % {name: "x" for name in _placeholders(text)}
    except (ValueError, TypeError, KeyError):
        return False
    return True


def test_every_swedish_text_has_an_english_translation():
    found = _extract(*_mapping(jinja_extensions=_app_jinja_extensions()))
    catalogue = _english_catalogue()
    assert len(found) > 100, "the extractor found suspiciously few texts; is babel.cfg read?"
    problems = []
    for msgid, places in sorted(found.items()):
        where = ", ".join(places[:3])
        entry = catalogue.get(msgid)
        if entry is None or not all(entry.string if isinstance(entry.string, tuple) else [entry.string]):
            problems.append(f"no English for {msgid!r} ({where})")
            continue
        if entry.fuzzy:
            problems.append(f"fuzzy English for {msgid!r} ({where})")
        for english in entry.string if isinstance(entry.string, tuple) else [entry.string]:
            if _placeholders(english) != _placeholders(msgid):
                problems.append(f"placeholders differ: {msgid!r} -> {english!r}")
            elif _formats(msgid) and not _formats(english):
                # Jinja's gettext always applies %, so a stray % would break the page
                problems.append(f"English for {msgid!r} is not a valid format string: {english!r}")
    assert not problems, ("Translate these in remiss/translations/en/LC_MESSAGES/messages.po "
                          "(make extract-messages first):\n" + "\n".join(problems))


def test_every_action_the_history_can_show_has_a_name():
    """A round's and a strategy's history name each action in words, never as "reply.submitted"."""
    from remiss.templating import ACTION_LABELS

    recorded = set()
    for path in (ROOT / "remiss").rglob("*.py"):
        recorded |= set(re.findall(r'audit\.record\([^)]*?"([a-z_]+\.[a-z_]+)"', path.read_text(), re.S))
    assert {"reply.submitted", "round.compiled", "comment.handled"} <= recorded  # the scan finds them
    # The registers of bodies and people have no history page; everything else does.
    unnamed = {a for a in recorded if not a.startswith(("body.", "user."))} - set(ACTION_LABELS)
    assert not unnamed, f"add to ACTION_LABELS in remiss/templating.py: {sorted(unnamed)}"


def test_babel_cfg_lets_the_extractor_read_every_template():
    """`make extract-messages` must read every template the app renders; a template it cannot
    parse (say, one using {% do %} without the extension listed in babel.cfg) would otherwise
    drop its texts from the catalogue without a word."""
    found = _extract(*_mapping())
    assert "Logga in" in found


# ---------------------------------------------------------------- the language of the pages

def _language(page) -> str:
    match = HTML_LANG.search(page.text)
    assert match, "no <html lang> on the page"
    return match.group(1)


def _switch_language(client, locale: str, back_to: str):
    response = client.post("/language", {"locale": locale, "next": back_to})
    assert response.status_code == 302
    assert response.location.endswith(back_to)
    return client.get(back_to)


def test_pages_are_swedish_by_default(client):
    page = client.get("/sign-in")
    assert page.status_code == 200
    assert _language(page) == "sv"
    assert "Logga in" in page.text
    assert "Sign in" not in page.text
    # The switch is a visible form, offering the other language in that language.
    assert 'action="/language"' in page.text
    assert re.search(r'<button type="submit" name="locale" value="en" lang="en"[^>]*>English</button>', page.text)


def test_language_switch_turns_the_pages_english_and_back(client):
    page = _switch_language(client, "en", "/sign-in")
    assert _language(page) == "en"
    assert "Sign in" in page.text
    assert "Logga in" not in page.text
    assert "Forgotten your password?" in page.text

    other = client.get("/public/accessibility")
    assert _language(other) == "en"
    assert "Accessibility statement" in other.text

    page = _switch_language(client, "sv", "/sign-in")
    assert _language(page) == "sv"
    assert "Logga in" in page.text
    assert "Sign in" not in page.text


def test_language_switch_refuses_unknown_languages_and_forged_posts(client):
    assert client.post("/language", {"locale": "de", "next": "/sign-in"}).status_code == 400
    assert client.post("/language", {"locale": "en", "next": "/sign-in"}, csrf=False).status_code == 400
    assert _language(client.get("/sign-in")) == "sv"


def test_language_switch_does_not_send_the_visitor_to_another_site(client):
    response = client.post("/language", {"locale": "en", "next": "//evil.example/"})
    assert response.status_code == 302
    assert "evil.example" not in response.location


def test_form_errors_are_english_on_english_pages(client):
    _switch_language(client, "en", "/sign-in")
    page = client.post("/sign-in", {"email": "", "password": ""})
    assert page.status_code == 422
    assert "There is a problem" in page.text  # the error summary of the form macro
    assert "Fill in this field." in page.text
    assert "Fyll i fältet." not in page.text


def test_signed_in_users_choice_is_kept_on_their_account(app, client, session):
    user = builders.create_officer(session, locale="sv")
    session.commit()
    client.sign_in(user.email)
    assert _language(client.get("/")) == "sv"

    page = _switch_language(client, "en", "/")
    assert _language(page) == "en"
    assert "Sign out" in page.text
    session.refresh(user)
    assert user.locale == "en"

    client.sign_out()
    # Another browser, with no language in its cookie: anonymous pages are Swedish ...
    elsewhere = Client(app)
    assert _language(elsewhere.get("/sign-in")) == "sv"
    # ... until the account's choice applies at sign-in.
    elsewhere.sign_in(user.email)
    page = elsewhere.get("/")
    assert _language(page) == "en"
    assert "Sign out" in page.text
    assert "Logga ut" not in page.text


def test_user_made_with_english_gets_english_pages_at_first_sign_in(client, session):
    user = builders.create_secretary(session, builders.create_body(session), locale="en")
    session.commit()
    client.sign_in(user.email)
    page = client.get("/")
    assert _language(page) == "en"
    assert f"Welcome, {user.name}" in page.text


# ---------------------------------------------------------------- dates and times

def test_deadline_is_written_the_swedish_way_and_the_british_way(app):
    deadline = date(2021, 3, 26)
    with app.test_request_context():
        with force_locale("sv_SE"):
            assert format_deadline(deadline) == "fredag 26 mars 2021 kl. 23.59"
        with force_locale("en_GB"):
            assert format_deadline(deadline) == "Friday 26 March 2021 at 23:59"
        assert format_deadline(None) == ""


def test_moments_are_stored_in_utc_and_shown_in_swedish_time(app):
    summer = datetime(2021, 6, 1, 12, 5, tzinfo=timezone.utc)  # CEST, UTC+2
    winter = datetime(2021, 1, 27, 9, 0, tzinfo=timezone.utc)  # CET, UTC+1
    with app.test_request_context():
        with force_locale("sv_SE"):
            assert format_moment(summer) == "tisdag 1 juni 2021 kl. 14.05"
            assert format_moment(winter) == "onsdag 27 januari 2021 kl. 10.00"
        with force_locale("en_GB"):
            assert format_moment(summer) == "Tuesday 1 June 2021 at 14:05"


# ---------------------------------------------------------------- Swedish alphabetical order

def test_swedish_order_puts_a_ring_a_umlaut_o_umlaut_after_z_and_e_acute_with_e():
    names = ["Örebro", "Ängelholm", "Åre", "Alingsås", "Zinkgruvan", "Ekerö", "Émile"]
    assert sorted(names, key=swedish_key) == [
        "Alingsås", "Ekerö", "Émile", "Zinkgruvan", "Åre", "Ängelholm", "Örebro"]


def test_swedish_order_ignores_case_first():
    assert sorted(["östra", "Zeta", "beta", "Alfa"], key=swedish_key) == ["Alfa", "beta", "Zeta", "östra"]


def test_admin_bodies_list_is_in_swedish_order(client, session):
    admin = builders.create_admin(session)
    # Neither byte order (Ä before Å) nor an English collation (Å, Ä, Ö with A and O) gets this right.
    for name in ["Överförmyndarnämnden", "Äldrenämnden", "Socialnämnden", "Åtvidabergs kommun",
                 "Barn- och ungdomsnämnden", "Kalmarhem AB"]:
        builders.create_body(session, name=name)
    session.commit()
    client.sign_in(admin.email)
    page = client.get("/admin/bodies/")
    assert page.status_code == 200
    shown = re.findall(r'<a href="/admin/bodies/\d+">([^<]+)</a>', page.text)
    assert shown == ["Barn- och ungdomsnämnden", "Kalmarhem AB", "Socialnämnden", "Åtvidabergs kommun",
                     "Äldrenämnden", "Överförmyndarnämnden"]
    assert shown.index("Överförmyndarnämnden") > shown.index("Socialnämnden")
