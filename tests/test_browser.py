"""The app in real Chromium: signing in and finding one's way, by mouse and by keyboard alone,
forms that fail, and axe-core's WCAG 2.1 AA check of the main pages in Swedish and English.

Each test loads the Kalmar demo (the referral of KS 2020/0946) and runs on both backends.
English screens are found by structure (ids, roles, `lang`), not by their wording, so
these tests do not depend on how far the English catalogue has come.
"""
import re
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from remiss.demo import CASE_REFERENCE, DOMAIN, DRAFT_FILE, STRATEGY_TITLE, load_demo

from .axe import assert_no_axe_violations

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
ADMIN = f"admin@{DOMAIN}"
OFFICER = f"strateg@{DOMAIN}"
DEMO_LOADED_AT = datetime(2021, 1, 27, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def demo(session):
    logins = load_demo(session, DEMO_LOADED_AT, PASSWORD)
    session.commit()
    return logins


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    """As a person does it in Swedish: the fields found by their labels, then the button."""
    page.goto("/sign-in")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Välkommen")


def sign_out(page) -> None:
    page.locator("header").get_by_role("button", name="Logga ut").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.get_by_role("status")).to_contain_text("Du är utloggad.")


def main_menu(page):
    return page.get_by_role("navigation", name="Huvudmeny")


# ---------------------------------------------------------------- a. the foundation's "done when"

def test_admin_keeps_the_registers_and_officer_opens_the_kalmar_strategy(page, demo):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=(/|%2F)$"))
    expect(page.get_by_role("heading", level=1, name="Logga in")).to_be_visible()

    page.get_by_label("E-postadress").fill(ADMIN)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Välkommen, Systemförvaltare (demo)")
    expect(page.locator("header")).to_contain_text("Systemförvaltare (demo)")

    main_menu(page).get_by_role("link", name="Remissinstanser").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Remissinstanser")
    expect(main_menu(page).get_by_role("link", name="Remissinstanser")).to_have_attribute("aria-current", "page")
    bodies = page.get_by_role("table", name="Remissinstanser")
    expect(bodies.get_by_role("row")).to_have_count(1 + 13)  # the heading row and Kalmar's boards and companies
    expect(bodies.get_by_role("row").filter(has_text="Socialnämnden")).to_contain_text("sn@demo.kalmar.example")
    expect(bodies.get_by_role("row").filter(has_text="Kalmar Öland Airport AB")).to_contain_text(
        "Sekreterare Kalmar Öland Airport AB (demo)")

    main_menu(page).get_by_role("link", name="Användare").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Användare")
    users = page.get_by_role("table", name="Användare")
    expect(users.get_by_role("row").filter(has_text="Strateg (demo)")).to_contain_text(OFFICER)
    expect(users.get_by_role("row").filter(has_text=ADMIN)).to_contain_text("aktiv")

    sign_out(page)
    page.go_back()
    page.reload()  # what the back button kept is not kept by the server: signed out means signed out
    expect(page).to_have_url(re.compile(r"/sign-in\?next=(/|%2F)admin"))
    expect(page.get_by_text("Strateg (demo)")).to_have_count(0)

    page.goto("/sign-in")
    page.get_by_label("E-postadress").fill(OFFICER)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Välkommen, Strateg (demo)")
    expect(main_menu(page).get_by_role("link", name="Remissinstanser")).to_have_count(0)  # not an admin

    cases = page.get_by_role("table", name="Ärenden")
    expect(cases.get_by_role("row").filter(has_text=CASE_REFERENCE)).to_be_visible()
    cases.get_by_role("link", name=STRATEGY_TITLE).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(STRATEGY_TITLE)
    expect(page.get_by_text(f"Diarienummer {CASE_REFERENCE}")).to_be_visible()
    drafts = page.get_by_role("table", name="Utkast")
    expect(drafts.get_by_role("row")).to_have_count(2)  # the heading row and version 1
    expect(drafts.get_by_role("row").nth(1).get_by_role("cell").first).to_have_text("1")
    with page.expect_download() as download:
        drafts.get_by_role("link", name=f"Ladda ner {DRAFT_FILE}").click()
    assert download.value.suggested_filename == DRAFT_FILE
    with open(download.value.path(), "rb") as docx:
        assert docx.read(2) == b"PK"  # the .docx itself, not an error page


# ---------------------------------------------------------------- b. axe, in Swedish and in English

def switch_language(page, to: str) -> None:
    """Press the language button in the header (a POST form) and land on the same page in `to`."""
    name = {"sv": "Svenska", "en": "English"}[to]
    before = page.url
    page.locator("header").get_by_role("button", name=name).click()
    expect(page.locator("html")).to_have_attribute("lang", to)
    expect(page).to_have_url(before)


@pytest.mark.parametrize("language", ["sv", "en"])
def test_main_pages_have_no_axe_violations(page, demo, language):
    page.goto("/sign-in")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    if language == "en":
        switch_language(page, "en")
    assert_no_axe_violations(page, f"sign-in page ({language})")

    page.locator("main form").get_by_role("button").click()  # empty: both fields fail
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator("#email")).to_have_attribute("aria-invalid", "true")
    assert_no_axe_violations(page, f"sign-in page with errors ({language})")

    page.locator("#email").fill(ADMIN)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("html")).to_have_attribute("lang", language)  # the choice survives signing in
    expect(page.get_by_role("heading", level=1)).to_contain_text("Systemförvaltare (demo)")
    assert_no_axe_violations(page, f"start page ({language})")

    page.get_by_role("link", name=STRATEGY_TITLE, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(STRATEGY_TITLE)
    assert_no_axe_violations(page, f"strategy page ({language})")

    page.goto("/admin/bodies/")
    expect(page.get_by_role("link", name="Socialnämnden")).to_be_visible()
    assert_no_axe_violations(page, f"admin list of bodies ({language})")

    page.goto("/admin/bodies/new")
    page.locator("main form").get_by_role("button").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator("#name")).to_have_attribute("aria-invalid", "true")
    assert_no_axe_violations(page, f"admin new body form with errors ({language})")

    page.goto("/admin/users/new")
    page.locator("main form").get_by_role("button").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator("#email")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#role-0")).to_have_attribute("aria-invalid", "true")
    assert_no_axe_violations(page, f"admin user form with errors ({language})")

    other = "sv" if language == "en" else "en"
    switch_language(page, other)  # the form page again, now in the other language
    assert_no_axe_violations(page, f"admin user form ({other})")


# ---------------------------------------------------------------- c. the keyboard alone

FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {tag: el.tagName.toLowerCase(), id: el.id, href: el.getAttribute('href'), text: el.textContent.trim(),
          classes: [...el.classList], inSummary: !!el.closest('.error-summary'),
          outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
          shadow: style.boxShadow !== 'none'};
}"""


def focused(page) -> dict:
    return page.evaluate(FOCUSED)


def tab_to(page, describe, *, most: int = 50) -> dict:
    """Press Tab until the focused element matches `describe`; each stop must show its focus."""
    page.wait_for_load_state("load")  # focus styles come with the stylesheet
    for _ in range(most):
        page.keyboard.press("Tab")
        now = focused(page)
        assert now["outline"] or now["shadow"], f"no visible focus on {now}"
        if describe(now):
            return now
    pytest.fail(f"Tab never reached the element (last focus: {now})")


def test_officer_signs_in_and_out_with_the_keyboard_alone(page, demo):
    page.goto("/sign-in")

    page.keyboard.press("Tab")
    first = focused(page)
    assert first["href"] == "#main" and first["text"] == "Hoppa till innehållet", first
    expect(page.get_by_role("link", name="Hoppa till innehållet")).to_be_in_viewport()  # shown when focused
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main"

    page.keyboard.press("Tab")
    assert focused(page)["id"] == "email", "after the skip link, the first stop is the e-mail field"
    page.keyboard.type(OFFICER)
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"127\.0\.0\.1:\d+/(#main)?$"))  # the skip link's #main may linger
    expect(page.get_by_role("heading", level=1)).to_have_text("Välkommen, Strateg (demo)")

    # On to the strategy: the skip link again, then Tab through the page to its link.
    tab_to(page, lambda el: el["text"] == STRATEGY_TITLE)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(STRATEGY_TITLE)

    # Buttons answer to Space as well as Enter.
    tab_to(page, lambda el: el["tag"] == "button" and el["text"] == "Logga ut")
    page.keyboard.press("Space")
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.get_by_role("status")).to_contain_text("Du är utloggad.")


def test_keyboard_user_can_switch_language_with_space(page, demo):
    page.goto("/sign-in")
    tab_to(page, lambda el: el["tag"] == "button" and el["text"] == "English")
    page.keyboard.press("Space")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    tab_to(page, lambda el: el["tag"] == "button" and el["text"] == "Svenska")
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "sv")


# ---------------------------------------------------------------- d. a form that fails

def test_new_body_with_a_bad_mailbox_shows_the_error_and_keeps_what_was_typed(page, demo):
    sign_in(page, ADMIN)
    main_menu(page).get_by_role("link", name="Remissinstanser").click()
    page.get_by_role("link", name="Lägg till remissinstans").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ny remissinstans")

    page.get_by_label("Namn", exact=True).fill("Krisledningsnämnden")
    page.get_by_role("group", name="Typ").get_by_label("Nämnd").check()
    page.get_by_label("Kortnamn").fill("KLN")
    page.get_by_label("Funktionsbrevlåda").fill("krisledningsnamnden.kalmar.se")
    page.get_by_role("button", name="Spara").click()

    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading", name="Något behöver rättas")).to_be_visible()
    expect(summary.get_by_role("link")).to_have_count(1)
    expect(summary.get_by_role("link")).to_have_text(re.compile(r"^Funktionsbrevlåda: Skriv en e-postadress"))

    expect(page.get_by_label("Namn", exact=True)).to_have_value("Krisledningsnämnden")
    expect(page.get_by_role("group", name="Typ").get_by_label("Nämnd")).to_be_checked()
    expect(page.get_by_label("Kortnamn")).to_have_value("KLN")
    mailbox = page.get_by_label("Funktionsbrevlåda")
    expect(mailbox).to_have_value("krisledningsnamnden.kalmar.se")
    expect(mailbox).to_have_attribute("aria-invalid", "true")
    expect(mailbox).to_have_accessible_description(re.compile("Skriv en e-postadress"))
    expect(page.get_by_label("Namn", exact=True)).not_to_have_attribute("aria-invalid", "true")

    summary.get_by_role("link").click()  # the summary leads to the field
    expect(mailbox).to_be_focused()

    mailbox.fill("krisledningsnamnden@kalmar.example")
    page.get_by_role("button", name="Spara").click()
    expect(page.get_by_role("status")).to_contain_text("Remissinstansen Krisledningsnämnden är sparad.")
    expect(page.get_by_role("table", name="Remissinstanser").get_by_role("row").filter(has_text="Krisledningsnämnden")
           ).to_contain_text("KLN")


def test_failed_sign_in_keeps_the_address_but_not_the_password(page, demo):
    page.goto("/sign-in")
    page.get_by_label("E-postadress").fill(OFFICER)
    page.get_by_label("Lösenord").fill("fel lösenord")
    page.get_by_role("button", name="Logga in").click()

    expect(page.get_by_role("alert")).to_contain_text("Något behöver rättas")
    expect(page.get_by_label("E-postadress")).to_have_value(OFFICER)
    expect(page.get_by_label("Lösenord")).to_have_value("")
    expect(page.get_by_role("heading", level=1)).to_have_text("Logga in")


def test_secretary_invited_without_a_body_is_led_to_the_body_checkboxes(page, demo):
    sign_in(page, ADMIN)
    main_menu(page).get_by_role("link", name="Användare").click()
    page.get_by_role("link", name="Bjud in användare").click()
    page.get_by_label("E-postadress").fill("ny.sekreterare@demo.kalmar.example")
    page.get_by_label("Namn", exact=True).fill("Ny Sekreterare")
    page.get_by_role("group", name="Roll").get_by_label("Nämndsekreterare / kontaktperson").check()
    page.get_by_role("button", name="Skicka inbjudan").click()

    problem = page.get_by_role("alert").get_by_role("link")
    expect(problem).to_have_text(re.compile(r"^Remissinstanser: "))
    expect(page.get_by_label("E-postadress")).to_have_value("ny.sekreterare@demo.kalmar.example")
    expect(page.get_by_role("group", name="Roll").get_by_label("Nämndsekreterare / kontaktperson")).to_be_checked()
    choices = page.get_by_role("group", name="Remissinstanser")
    problem.click()  # to the first checkbox, not to the list around them
    expect(choices.get_by_role("checkbox").first).to_be_focused()

    choices.get_by_label("Socialnämnden").check()
    page.get_by_role("button", name="Skicka inbjudan").click()
    expect(page.get_by_role("status")).to_contain_text("En inbjudan har skickats till ny.sekreterare@demo.kalmar.example.")
    expect(page.get_by_role("table", name="Användare").get_by_role("row").filter(has_text="Ny Sekreterare")
           ).to_contain_text("inbjuden")


# ---------------------------------------------------------------- e. states axe sees only when they happen

def test_focused_and_hovered_controls_keep_their_contrast(page, demo):
    """axe judges colours as they are at the moment, so put each kind of control in its focus and
    hover states: error-summary links on the yellow focus background, primary and secondary buttons."""
    sign_in(page, ADMIN)
    page.goto("/admin/users/new")
    send = page.get_by_role("button", name="Skicka inbjudan")
    send.click()
    expect(page.get_by_role("alert").get_by_role("link")).to_have_count(3)  # e-mail, name and role

    tab_to(page, lambda el: el["inSummary"])
    for n in range(3):
        assert focused(page)["inSummary"], f"Tab left the error summary after {n} links"
        assert_no_axe_violations(page, f"error summary link {n + 1} focused")
        page.keyboard.press("Tab")
    send.hover()
    assert_no_axe_violations(page, "primary button hovered")

    # An invited user who has not chosen a password yet: their page has a secondary button.
    page.get_by_label("E-postadress").fill("ny.strateg@demo.kalmar.example")
    page.get_by_label("Namn", exact=True).fill("Ny Strateg")
    page.get_by_role("group", name="Roll").get_by_label("Strateg / handläggare").check()
    send.click()
    expect(page.get_by_role("status")).to_contain_text("En inbjudan har skickats till ny.strateg@demo.kalmar.example.")
    page.get_by_role("link", name="Ny Strateg").click()
    again = page.get_by_role("button", name="Skicka inbjudan igen")
    again.hover()
    assert_no_axe_violations(page, "secondary button hovered")
    page.mouse.move(0, 0)
    tab_to(page, lambda el: el["text"] == "Skicka inbjudan igen")
    assert_no_axe_violations(page, "secondary button focused")

    # Link-buttons (an <a> styled as a button) on the strategy page, under the pointer and on focus.
    page.goto("/")
    page.get_by_role("link", name=STRATEGY_TITLE, exact=True).click()
    buttons = page.locator("main .button")
    expect(buttons.first).to_be_visible()
    for button in buttons.all():
        button.hover()
        assert_no_axe_violations(page, f"{button.inner_text()!r} hovered")
    page.mouse.move(0, 0)
    for _ in range(buttons.count()):
        button = tab_to(page, lambda el: "button" in el["classes"])
        assert_no_axe_violations(page, f"{button['text']!r} focused")


# ---------------------------------------------------------------- f. reflow at 320 CSS pixels (WCAG 1.4.10)

@pytest.mark.parametrize("language", ["sv", "en"])
def test_pages_fit_a_320_pixel_wide_screen_without_sideways_scrolling(page, demo, language):
    """400 % zoom of a 1280 px window: text wraps (long compounds too); only wide tables scroll, inside themselves."""
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto("/sign-in")
    if language == "en":
        switch_language(page, "en")
    too_wide = {}

    def measure(name):
        page.wait_for_load_state("load")  # the heading is there before the stylesheet is
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > 320:
            too_wide[name] = width

    measure("sign-in")
    page.locator("#email").fill(ADMIN)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Systemförvaltare (demo)")
    measure("start")
    page.get_by_role("link", name=STRATEGY_TITLE, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(STRATEGY_TITLE)
    measure("strategy")
    for name, path in (("bodies", "/admin/bodies/"), ("new user", "/admin/users/new")):
        page.goto(path)
        measure(name)
    assert not too_wide, f"pages wider than 320 px (scrollWidth): {too_wide}"


# ---------------------------------------------------------------- the check itself

def test_axe_check_fails_on_a_page_with_violations(page):
    """The helper is not vacuous: a page with known defects fails it, each defect named."""
    page.set_content('<html><body><main><img src="data:,"><input type="text">'
                     '<p style="color:#aaa;background:#fff">pale</p></main></body></html>')
    with pytest.raises(pytest.fail.Exception) as failed:
        assert_no_axe_violations(page, "a page made to fail")
    report = str(failed.value)
    for rule in ("html-has-lang", "image-alt", "label", "color-contrast", "document-title"):
        assert rule in report, report
    assert "a page made to fail" in report and "img" in report
