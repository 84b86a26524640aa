"""The public pages: anyone may read launched referral rounds, who they went to, and the replies
received — and never a word a body has only written in its working copy.

Replies are made through the workflow (remiss.responses.save_reply / submit_reply / decline).
"""
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from remiss import responses, rounds
from remiss.models import ReferralState, RoundState
from remiss.responses import ReplyDraft, ReplyFields

from . import builders
from .axe import assert_no_axe_violations

ATOM = "{http://www.w3.org/2005/Atom}"
BASE = "http://remiss.test"  # PUBLIC_BASE_URL of the test app
BEFORE_DEADLINE = datetime(2021, 2, 1, 9, 0, tzinfo=timezone.utc)
AFTER_DEADLINE = datetime(2021, 3, 29, 9, 0, tzinfo=timezone.utc)  # the deadline is 26 March 2021
PDF = b"%PDF-1.4\n% a signed decision\n%%EOF\n"

SENT_TEXT = "INSKICKAD-TEXT-7f3a"  # in a submitted version: public
SECRET_TEXT = "OSKICKAT-UTKAST-91c2"  # only in a working copy: never public
AMENDED_TEXT = "ANDRA-VERSIONEN-5b0e"  # in the amended, resubmitted version


def save(session, referral, secretary, now=BEFORE_DEADLINE, *, comments=None, general_comments="", **fields):
    """Save the working copy; `comments` maps a section's position in the draft to its comment."""
    response = responses.response_of(session, referral)
    fields.setdefault("stance", "approves_with_comments")
    sections = referral.round.draft.sections
    by_section = {sections[position].id: text for position, text in (comments or {}).items()}
    return responses.save_reply(session, secretary, now, referral, version=response.lock_version if response else None,
                                draft=ReplyDraft(ReplyFields(**fields), by_section, general_comments))


def submit(session, referral, secretary, now=BEFORE_DEADLINE, **fields):
    """Write the reply and send it, as the body's secretary does."""
    response = save(session, referral, secretary, now, **fields)
    return responses.submit_reply(session, secretary, now, referral, version=response.lock_version)


def attach(session, referral, secretary, filename, now=BEFORE_DEADLINE):
    return responses.add_attachment(session, secretary, now, referral, filename=filename, data=PDF,
                                    description="Protokollsutdrag")


class World:
    """One launched round to five bodies: one answered (and then writing on, unsent), one declined,
    one only drafting, one withdrawn, one silent. Plus a round not yet sent and a cancelled one."""

    def __init__(self, session):
        self.officer = builders.create_officer(session)
        names = ["Ödeshögs råd", "Ålandsnämnden", "Äldrenämnden", "Barn- och ungdomsnämnden", "Zonnämnden"]
        self.old, self.aland, self.elder, self.children, self.zone = (
            builders.create_body(session, name=name) for name in names)
        self.strategy = builders.create_strategy(session, officer=self.officer, case_reference="KS 2020/0946",
                                                 title="Strategi för internationellt arbete")
        self.draft = builders.create_docx_draft(session, self.strategy)
        self.round = builders.create_round(session, self.strategy, [self.old, self.aland, self.elder, self.children,
                                                                    self.zone])
        self.round.cover_letter = "Kommunstyrelsen önskar era synpunkter.\n\nSvara senast den 26 mars."
        self.referral = {r.body_id: r for r in self.round.referrals}

        # Barn- och ungdomsnämnden answers with the signed decision, then writes on without sending.
        self.children_secretary = builders.create_secretary(session, self.children)
        children = self.referral[self.children.id]
        self.sent_attachment = attach(session, children, self.children_secretary, "protokoll.pdf")
        self.version = submit(session, children, self.children_secretary, summary=SENT_TEXT,
                              comments={2: f"Under rubriken: {SENT_TEXT}"})
        save(session, children, self.children_secretary, summary=SECRET_TEXT, comments={2: SECRET_TEXT, 3: SECRET_TEXT},
             general_comments=SECRET_TEXT, proposed_decision=SECRET_TEXT, signatory_name=SECRET_TEXT)
        self.unsent_attachment = attach(session, children, self.children_secretary, "ej-skickad.pdf")

        # Äldrenämnden declines; Zonnämnden only drafts; Ålandsnämnden is taken off the list.
        elder_secretary = builders.create_secretary(session, self.elder)
        responses.decline(session, elder_secretary, BEFORE_DEADLINE + timedelta(hours=1), self.referral[self.elder.id])
        self.zone_secretary = builders.create_secretary(session, self.zone)
        save(session, self.referral[self.zone.id], self.zone_secretary, summary=SECRET_TEXT)
        attach(session, self.referral[self.zone.id], self.zone_secretary, "zon-utkast.pdf")
        rounds.withdraw_referral(session, self.officer, BEFORE_DEADLINE, self.referral[self.aland.id],
                                 "Nämnden är nedlagd.")

        self.unsent_strategy = builders.create_strategy(session, officer=self.officer,
                                                        title="Strategi ännu inte skickad")
        builders.create_docx_draft(session, self.unsent_strategy)
        self.unsent_round = builders.create_round(session, self.unsent_strategy, [self.old], state=RoundState.DRAFT)
        self.cancelled_strategy = builders.create_strategy(session, officer=self.officer, title="Strategi som avbröts")
        self.cancelled_round = builders.create_round(session, self.cancelled_strategy, [self.old],
                                                     state=RoundState.CANCELLED)
        session.flush()


@pytest.fixture
def world(session):
    built = World(session)
    session.commit()
    return built


def every_public_text(client, world) -> dict[str, str]:
    """Every public page and the feed, by URL."""
    urls = ["/public/", f"/public/rounds/{world.round.id}", "/public/feed.atom"]
    urls += [f"/public/rounds/{world.round.id}/replies/{r.id}" for r in world.round.referrals]
    texts = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        texts[url] = response.get_data(as_text=True)
    return texts


def rows_of(page_text: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", row).strip() for row in re.findall(r'<th scope="row">(.*?)</th>', page_text, re.S)]


# ---------------------------------------------------------------- which rounds are public

def test_anonymous_visitor_sees_launched_rounds_newest_first_with_replies_counted(client, session, world):
    later = builders.create_strategy(session, officer=world.officer, title="Strategi skickad senare")
    later_round = builders.create_round(session, later, [world.old])
    later_round.launched_at = datetime(2021, 1, 20, 8, 0, tzinfo=timezone.utc)
    session.commit()

    page = client.get("/public/")
    assert page.status_code == 200
    assert rows_of(page.text) == ["Strategi skickad senare", "Strategi för internationellt arbete"]
    assert "KS 2020/0946" in page.text
    assert "fredag 26 mars 2021 kl. 23.59" in page.text
    # Answered: Barn- och ungdomsnämnden and Äldrenämnden, of four (Ålandsnämnden was withdrawn).
    assert "2 av 4" in page.text
    assert f'href="/public/rounds/{world.round.id}"' in page.text


def test_rounds_not_launched_or_cancelled_are_not_public(client, world):
    page = client.get("/public/")
    assert "Strategi ännu inte skickad" not in page.text
    assert "Strategi som avbröts" not in page.text
    for round_ in (world.unsent_round, world.cancelled_round):
        assert client.get(f"/public/rounds/{round_.id}").status_code == 404
        referral = round_.referrals[0]
        assert client.get(f"/public/rounds/{round_.id}/replies/{referral.id}").status_code == 404
    assert client.get("/public/rounds/999999").status_code == 404
    assert client.get(f"/public/rounds/{10**20}").status_code == 404


def test_a_closed_round_stays_public(client, session, world):
    world.round.state = RoundState.CLOSED
    world.round.closed_at = AFTER_DEADLINE
    session.commit()
    assert client.get(f"/public/rounds/{world.round.id}").status_code == 200
    assert "Strategi för internationellt arbete" in client.get("/public/").text


# ---------------------------------------------------------------- one round

def test_round_page_shows_the_cover_letter_and_the_sandlista_in_swedish_order(client, world):
    page = client.get(f"/public/rounds/{world.round.id}")
    assert page.status_code == 200
    assert "<h1>Strategi för internationellt arbete</h1>" in page.text
    assert "KS 2020/0946" in page.text and "Remissvar Strategi för internationellt arbete" in page.text
    assert "fredag 26 mars 2021 kl. 23.59" in page.text
    assert "Kommunstyrelsen önskar era synpunkter." in page.text
    names = [row.split(" (")[0] for row in rows_of(page.text)]
    assert names == ["Barn- och ungdomsnämnden", "Zonnämnden", "Ålandsnämnden", "Äldrenämnden", "Ödeshögs råd"]
    assert "Ålandsnämnden (återkallad)" in rows_of(page.text)
    assert "2 av 4 har svarat." in page.text


def test_round_page_shows_each_answer_with_stance_date_and_a_link(client, world):
    page = client.get(f"/public/rounds/{world.round.id}")
    children = world.referral[world.children.id]
    elder = world.referral[world.elder.id]
    assert f'href="/public/rounds/{world.round.id}/replies/{children.id}"' in page.text
    assert f'href="/public/rounds/{world.round.id}/replies/{elder.id}"' in page.text
    assert "tillstyrker med synpunkter" in page.text and "avstår från att yttra sig" in page.text
    assert "måndag 1 februari 2021 kl. 10.00" in page.text  # submitted 09:00 UTC
    assert '<span class="visually-hidden"> – Barn- och ungdomsnämnden</span>' in page.text
    # The body only drafting has no reply link; its reply page does not exist.
    zone = world.referral[world.zone.id]
    assert f"/replies/{zone.id}" not in page.text
    assert client.get(f"/public/rounds/{world.round.id}/replies/{zone.id}").status_code == 404
    assert "(sen)" not in page.text


def test_a_late_reply_is_marked_late(client, session, world):
    old = world.referral[world.old.id]
    submit(session, old, builders.create_secretary(session, world.old), AFTER_DEADLINE, stance="approves")
    session.commit()
    page = client.get(f"/public/rounds/{world.round.id}")
    row = next(r for r in re.findall(r"<tr>.*?</tr>", page.text, re.S) if "Ödeshögs råd" in r)
    assert "(sen)" in row and "tillstyrker" in row


def test_reply_page_shows_the_submitted_version_and_links_its_attachment(client, world):
    children = world.referral[world.children.id]
    page = client.get(f"/public/rounds/{world.round.id}/replies/{children.id}")
    assert page.status_code == 200
    assert "<h1>Remissvar från Barn- och ungdomsnämnden</h1>" in page.text
    assert SENT_TEXT in page.text
    assert "tillstyrker med synpunkter" in page.text
    assert f'<a href="/public/files/{world.sent_attachment.file_id}">protokoll.pdf</a>' in page.text
    assert "ej-skickad.pdf" not in page.text


def test_reply_page_needs_the_right_round(client, session, world):
    other = builders.create_strategy(session, officer=world.officer)
    other_round = builders.create_round(session, other, [world.old])
    session.commit()
    children = world.referral[world.children.id]
    assert client.get(f"/public/rounds/{other_round.id}/replies/{children.id}").status_code == 404


def test_a_declined_referral_shows_that_the_body_abstains(client, world):
    page = client.get(f"/public/rounds/{world.round.id}/replies/{world.referral[world.elder.id].id}")
    assert page.status_code == 200
    assert "avstår från att yttra sig" in page.text


# ---------------------------------------------------------------- the working copy is never public

def test_an_unsubmitted_working_copy_never_appears_on_any_public_page_or_in_the_feed(client, session, world):
    working_copy = responses.response_of(session, world.referral[world.children.id])
    assert working_copy.summary == SECRET_TEXT and len(working_copy.attachments) == 2  # the words are there
    texts = every_public_text(client, world)
    assert any(SENT_TEXT in text for text in texts.values())  # the submitted words are public
    for url, text in texts.items():
        assert SECRET_TEXT not in text, f"the unsent working copy shows at {url}"
        assert "ej-skickad.pdf" not in text and "zon-utkast.pdf" not in text, url


def test_after_amending_and_resubmitting_the_public_sees_the_latest_version(client, session, world):
    children = world.referral[world.children.id]
    later = BEFORE_DEADLINE + timedelta(days=3)
    submit(session, children, world.children_secretary, later, stance="rejects", summary=AMENDED_TEXT)
    save(session, children, world.children_secretary, later, summary=SECRET_TEXT)  # writing on again, unsent
    session.commit()

    page = client.get(f"/public/rounds/{world.round.id}/replies/{children.id}")
    assert AMENDED_TEXT in page.text and "avstyrker" in page.text
    assert SENT_TEXT not in page.text
    assert "version 2" in page.text
    round_page = client.get(f"/public/rounds/{world.round.id}")
    assert "avstyrker" in round_page.text and "torsdag 4 februari 2021 kl. 10.00" in round_page.text
    for url, text in every_public_text(client, world).items():
        assert SECRET_TEXT not in text, url


# ---------------------------------------------------------------- files

def test_the_draft_of_a_launched_round_can_be_downloaded(client, world):
    page = client.get(f"/public/rounds/{world.round.id}")
    outgoing = world.draft.outgoing_file  # the clean copy: the Kalmar file names its author
    assert f'href="/public/files/{outgoing.id}"' in page.text
    response = client.get(f"/public/files/{outgoing.id}")
    assert response.status_code == 200
    assert response.data == outgoing.data and outgoing.data != builders.KALMAR_DRAFT.read_bytes()
    assert client.get(f"/public/files/{world.draft.file_id}").status_code == 404  # the original is the officer's
    assert "attachment" in response.headers["Content-Disposition"]


def test_a_submitted_attachment_can_be_downloaded(client, world):
    response = client.get(f"/public/files/{world.sent_attachment.file_id}")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.mimetype == "application/pdf"


def test_files_that_were_never_published_are_not_found(client, world):
    unsent_draft = world.unsent_round.draft_id
    from remiss.extensions import db
    from remiss.models import Draft

    unsent_file = db.session.get(Draft, unsent_draft).file_id
    for file_id in (world.unsent_attachment.file_id, unsent_file, 999999):
        assert client.get(f"/public/files/{file_id}").status_code == 404, file_id
    assert client.get(f"/public/files/{10**20}").status_code == 404


def test_an_attachment_removed_from_the_working_copy_stays_public_once_sent(client, session, world):
    """The sent version is the record: what it listed stays downloadable whatever the working copy does."""
    responses.remove_attachment(session, world.children_secretary, BEFORE_DEADLINE, world.sent_attachment)
    session.commit()
    assert client.get(f"/public/files/{world.sent_attachment.file_id}").status_code == 200


# ---------------------------------------------------------------- the feed

def test_the_feed_is_valid_atom_with_a_round_and_each_reply_newest_first(client, world):
    response = client.get("/public/feed.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id") == f"{BASE}/public/feed.atom"
    assert feed.findtext(f"{ATOM}title")
    assert feed.find(f"{ATOM}author/{ATOM}name").text
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links == {"self": f"{BASE}/public/feed.atom", "alternate": f"{BASE}/public/"}

    entries = feed.findall(f"{ATOM}entry")
    titles = [entry.findtext(f"{ATOM}title") for entry in entries]
    assert titles == [
        "Remissvar från Äldrenämnden på Strategi för internationellt arbete",
        "Remissvar från Barn- och ungdomsnämnden på Strategi för internationellt arbete",
        "Ny remiss: Strategi för internationellt arbete",
    ]
    rfc3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
    assert rfc3339.match(feed.findtext(f"{ATOM}updated"))
    assert feed.findtext(f"{ATOM}updated") == "2021-02-01T10:00:00Z"  # the newest entry
    for entry in entries:
        assert rfc3339.match(entry.findtext(f"{ATOM}updated"))
        assert entry.findtext(f"{ATOM}id").startswith(f"{BASE}/public/rounds/{world.round.id}")
        assert entry.find(f"{ATOM}link").get("href").startswith(f"{BASE}/public/rounds/{world.round.id}")
    assert len({entry.findtext(f"{ATOM}id") for entry in entries}) == len(entries)
    children = world.referral[world.children.id]
    assert entries[1].find(f"{ATOM}link").get("href") == f"{BASE}/public/rounds/{world.round.id}/replies/{children.id}"
    assert entries[2].findtext(f"{ATOM}updated") == "2021-01-04T08:00:00Z"
    assert "Strategi ännu inte skickad" not in response.text and "Strategi som avbröts" not in response.text


def test_an_amended_reply_is_a_new_entry_in_the_feed(client, session, world):
    children = world.referral[world.children.id]
    submit(session, children, world.children_secretary, BEFORE_DEADLINE + timedelta(days=3), summary=AMENDED_TEXT)
    session.commit()
    feed = ET.fromstring(client.get("/public/feed.atom").data)
    titles = [entry.findtext(f"{ATOM}title") for entry in feed.findall(f"{ATOM}entry")]
    assert titles[0] == "Remissvar från Barn- och ungdomsnämnden på Strategi för internationellt arbete (version 2)"
    assert len(titles) == 4


def test_the_feed_holds_at_most_fifty_entries(client, session, world):
    for n in range(55):
        strategy = builders.create_strategy(session, officer=world.officer, title=f"Strategi nummer {n}")
        extra = builders.create_round(session, strategy, [world.old])
        extra.launched_at = datetime(2021, 1, 5, tzinfo=timezone.utc) + timedelta(hours=n)
    session.commit()
    feed = ET.fromstring(client.get("/public/feed.atom").data)
    titles = [entry.findtext(f"{ATOM}title") for entry in feed.findall(f"{ATOM}entry")]
    assert len(titles) == 50
    assert titles[:2] == ["Remissvar från Äldrenämnden på Strategi för internationellt arbete",
                          "Remissvar från Barn- och ungdomsnämnden på Strategi för internationellt arbete"]
    assert titles[2] == "Ny remiss: Strategi nummer 54"


def test_an_empty_feed_is_still_valid_atom(client):
    feed = ET.fromstring(client.get("/public/feed.atom").data)
    assert feed.findtext(f"{ATOM}updated") and feed.findall(f"{ATOM}entry") == []


def test_the_list_of_rounds_links_the_feed_for_browsers_and_people(client, world):
    page = client.get("/public/")
    head = page.text.split("</head>")[0]
    assert '<link rel="alternate" type="application/atom+xml" href="/public/feed.atom"' in head
    body = page.text.split("<main")[1]
    assert 'href="/public/feed.atom"' in body


def test_the_public_pages_and_the_feed_speak_english_when_asked(client, world):
    client.post("/language", {"locale": "en", "next": "/public/"})
    page = client.get("/public/")
    assert '<html lang="en">' in page.text and "Referrals sent out, newest first" in page.text
    children = world.referral[world.children.id]
    reply = client.get(f"/public/rounds/{world.round.id}/replies/{children.id}")
    assert "Response from Barn- och ungdomsnämnden" in reply.text
    feed = ET.fromstring(client.get("/public/feed.atom").data)
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert feed.findall(f"{ATOM}entry")[-1].findtext(f"{ATOM}title") == "New referral: Strategi för internationellt arbete"


# ---------------------------------------------------------------- a fixed number of queries

def build_round(session, officer, size: int, title: str):
    """A launched round to `size` bodies: every other one answered with an attachment, the rest drafting."""
    strategy = builders.create_strategy(session, officer=officer, title=title)
    builders.create_docx_draft(session, strategy)
    bodies = [builders.create_body(session) for _ in range(size)]
    round_ = builders.create_round(session, strategy, bodies)
    for n, referral in enumerate(round_.referrals):
        secretary = builders.create_secretary(session, referral.body)
        attach(session, referral, secretary, f"protokoll-{n}.pdf")
        if n % 2 == 0:
            submit(session, referral, secretary, summary=f"Svar {n}")
        else:
            save(session, referral, secretary, summary=f"Utkast {n}")
    session.commit()
    answered = next(r for r in round_.referrals if r.state == ReferralState.SUBMITTED)
    return round_, answered


def queries_for(client, count_queries, url: str) -> int:
    assert client.get(url).status_code == 200, url  # warm: the first request may prime caches
    with count_queries() as counted:
        assert client.get(url).status_code == 200, url
    return counted.count


def test_every_public_page_runs_the_same_number_of_queries_for_3_and_30_bodies(client, session, count_queries):
    officer = builders.create_officer(session)
    counts = []
    for size in (3, 30):
        round_, answered = build_round(session, officer, size, f"Strategi med {size} remissinstanser")
        sent_file = responses.response_of(session, answered).versions[-1].content["attachments"][0]["file_id"]
        urls = {
            "index": "/public/",
            "round": f"/public/rounds/{round_.id}",
            "reply": f"/public/rounds/{round_.id}/replies/{answered.id}",
            "feed": "/public/feed.atom",
            "draft file": f"/public/files/{round_.draft.outgoing_file.id}",
            "attachment": f"/public/files/{sent_file}",
        }
        counts.append({name: queries_for(client, count_queries, url) for name, url in urls.items()})
    assert counts[0] == counts[1], f"3 bodies: {counts[0]}, 30 bodies: {counts[1]}"
    assert all(n <= 4 for n in counts[1].values()), counts[1]


# ---------------------------------------------------------------- in the browser, with axe

@pytest.mark.browser
@pytest.mark.parametrize("language", ["sv", "en"])
def test_public_pages_have_no_axe_violations(page, world, language):
    from .test_browser import switch_language

    page.goto("/public/")
    if language == "en":
        switch_language(page, "en")
    expect(page.locator("html")).to_have_attribute("lang", language)
    assert_no_axe_violations(page, f"published referrals ({language})")
    page.get_by_role("link", name="Strategi för internationellt arbete").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Strategi för internationellt arbete")
    assert_no_axe_violations(page, f"public round ({language})")
    page.get_by_role("link", name=re.compile("Barn- och ungdomsnämnden")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Barn- och ungdomsnämnden")
    assert_no_axe_violations(page, f"public reply ({language})")
