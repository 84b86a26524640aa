"""A board secretary answers in real Chromium: comments under two headings, saved, signed out,
back again, submitted, the receipt at the SMTP server, amended before the deadline; the officer
sees the latest version. By mouse with axe in Swedish and English, and by the keyboard alone."""
import re
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from remiss import mail
from remiss.demo import DOMAIN, load_demo
from remiss.extensions import db

from .axe import assert_no_axe_violations
from .test_browser import focused, switch_language, tab_to

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
# Samhällsbyggnadsnämnden has an anstånd in the demo: its deadline is still ahead, so it can amend.
SECRETARY = f"sekreterare.sbn@{DOMAIN}"
OFFICER = f"strateg@{DOMAIN}"
TITLE = "Strategi för internationellt arbete och externfinansierade projekt i Kalmar kommun"
FIRST = "7.1 Verksamhetsutveckling och extern finansiering"
SECOND = "9 Ansvar och organisation"


@pytest.fixture
def demo(session, frozen_clock, smtp):
    frozen_clock.set(datetime(2021, 2, 1, 9, 0, tzinfo=timezone.utc))
    load_demo(session, frozen_clock.now, PASSWORD)
    session.commit()


def deliver(app) -> None:
    mail.send_pending(db.session, datetime(2030, 1, 1, tzinfo=timezone.utc))
    db.session.commit()


def sign_in(page, email: str) -> None:
    """By the fields' ids: the same in either language."""
    page.goto("/sign-in")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/$"))


def sign_out(page) -> None:
    page.locator("header form[action='/sign-out'] button").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))


def checked(page, what: str, language: str) -> None:
    assert_no_axe_violations(page, f"{what} ({language})")


@pytest.mark.parametrize("language", ["sv", "en"])
def test_secretary_comments_saves_returns_submits_and_amends(page, demo, app, smtp, language):
    sign_in(page, SECRETARY)
    if language == "en":
        switch_language(page, "en")
    checked(page, "secretary's inbox", language)
    page.get_by_role("link", name=TITLE).click()
    checked(page, "referral page", language)
    page.locator("a[href$='/reply']").first.click()
    checked(page, "empty reply form", language)

    page.get_by_label(FIRST).fill("Ansökningsarbetet bör ligga hos en central stödfunktion.")
    page.get_by_label(SECOND, exact=True).fill("Socialtjänsten kan inte avdela resurser de närmaste åren.")
    page.locator("button[value=save]").click()
    expect(page.get_by_role("status")).to_be_visible()
    checked(page, "saved reply form", language)
    sign_out(page)

    sign_in(page, SECRETARY)
    page.get_by_role("link", name=TITLE).click()
    page.locator("a[href$='/reply']").first.click()
    expect(page.get_by_label(FIRST)).to_have_value("Ansökningsarbetet bör ligga hos en central stödfunktion.")
    page.locator("input[name=stance][value=approves_with_comments]").check()
    page.locator("button[value=submit]").click()
    checked(page, "confirmation page", language)
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_role("status")).to_contain_text(re.compile(r"(inskickat|submitted).*1"))
    checked(page, "referral page after submitting", language)

    deliver(app)
    [receipt] = [m for m in smtp.to(SECRETARY) if m["Subject"].startswith(("Kvitto", "Receipt"))]
    assert "Samhällsbyggnadsnämnden" in receipt["Subject"]
    assert [p.get_filename() for p in receipt.iter_attachments()] == ["remissvar-SBN-version-1.docx"]

    page.locator("a[href$='/reply']").first.click()
    page.get_by_label(SECOND, exact=True).fill("Resurser kan avdelas först efter 2023.")
    page.locator("input[name=stance][value=rejects]").check()
    page.locator("button[value=submit]").click()
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_role("status")).to_contain_text(re.compile(r"(inskickat|submitted).*2"))
    page.locator("a[href$='/versions/2']").click()
    expect(page.get_by_text("Resurser kan avdelas först efter 2023.")).to_be_visible()
    checked(page, "submitted version", language)
    sign_out(page)

    sign_in(page, OFFICER)
    page.locator("a[href^='/rounds/']").first.click()
    row = page.get_by_role("table").get_by_role("row", name=re.compile("Samhällsbyggnadsnämnden"))
    expect(row).to_contain_text(re.compile("avstyrker|opposes"))
    row.locator("a[href$='/versions/2']").click()
    expect(page.get_by_text("Resurser kan avdelas först efter 2023.")).to_be_visible()


def test_secretary_answers_with_the_keyboard_alone(page, demo):
    page.goto("/sign-in")
    tab_to(page, lambda f: f["id"] == "email")
    page.keyboard.type(SECRETARY)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Välkommen")

    tab_to(page, lambda f: f["text"] == TITLE)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    tab_to(page, lambda f: (f["href"] or "").endswith("/reply"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/reply$"))

    tab_to(page, lambda f: f["id"] == "stance-0")  # a radio group is one Tab stop; arrows move within it
    page.keyboard.press("ArrowDown")  # tillstyrker med synpunkter
    assert page.locator("#stance-1").is_checked()
    first_id = page.get_by_label(FIRST).get_attribute("id")
    tab_to(page, lambda f: f["id"] == first_id, most=80)
    page.keyboard.type("Ansökningsarbetet bör ligga centralt.")
    tab_to(page, lambda f: f["tag"] == "button" and "Spara och" in f["text"])
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Skicka svaret")
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "Skicka svaret")
    page.keyboard.press("Space")
    expect(page.get_by_role("status")).to_contain_text("Svaret är inskickat (version 1)")
    assert focused(page)["tag"] in ("body", "a", "button", "main")


@pytest.mark.parametrize("language", ["sv", "en"])
def test_secretary_reviews_an_imported_word_reply_before_the_form_is_filled(page, demo, language):
    """Socialnämnden's reply uploaded to Samhällsbyggnadsnämnden's referral: the review page warns,
    lets the secretary move a comment, and needs the check box before the reply form is filled."""
    from pathlib import Path

    reply = Path(__file__).resolve().parent.parent / "remiss" / "demo" / "kalmar-social-board-reply.docx"
    sign_in(page, SECRETARY)
    if language == "en":
        switch_language(page, "en")
    page.get_by_role("link", name=TITLE).click()
    page.locator("a[href$='/reply']").first.click()
    page.locator("a[href$='/reply/import']").click()
    checked(page, "import page", language)
    page.locator("#file").set_input_files(str(reply))
    page.locator("main form button[type=submit]").click()

    expect(page.get_by_role("alert")).to_contain_text("Socialnämnden")
    checked(page, "import review with a warning", language)
    page.locator("#comments-0-section").select_option("general")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#confirmed")).to_have_attribute("aria-invalid", "true")
    checked(page, "import review with an error", language)
    page.locator("#confirmed").check()
    page.locator("main form button[type=submit]").click()

    expect(page.locator("#general_comments")).to_have_value(re.compile("^Ansvar för kommunens förvaltningar"))
    expect(page.get_by_role("status")).to_be_visible()
