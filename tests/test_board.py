"""The officer's status board of a round (a row per body, counts, filters, CSV) and start page, and the
promise that the board reads a fixed number of queries however many bodies the round has."""
import csv
import io
import re
from datetime import date, datetime, timedelta, timezone
from html import unescape
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from remiss import extension_requests, rounds
from remiss.compilation import record_compilation, rounds_awaiting_compilation
from remiss.models import (
    ExtensionRequest, ExtensionState, PlannedReminder, ReferralState, Response, ResponseVersion,
    RoundState, Stance,
)

from . import builders

NOW = datetime(2021, 1, 27, 9, 0, tzinfo=timezone.utc)  # the frozen clock's default


def answer(session, referral, *, stance, case_reference="", late=False, state=ReferralState.SUBMITTED):
    """A reply as the responses workflow leaves it, without its mails: the working copy and, once
    answered, the submitted version 1 (what the board shows)."""
    answered = state in (ReferralState.SUBMITTED, ReferralState.DECLINED)
    response = Response(referral_id=referral.id, stance=stance, case_reference=case_reference, late=late,
                        updated_at=NOW, submitted_at=NOW if answered else None)
    if answered:
        response.versions.append(ResponseVersion(number=1, submitted_at=NOW, late=late, content={
            "stance": stance, "case_reference": case_reference, "summary": "", "comments": [],
            "general_comments": "", "attachments": [], "registered_by_officer": False, "received_on": None}))
    session.add(response)
    referral.state = state
    referral.answered_at = NOW if answered else None
    session.flush()


def sent_reminder(session, referral, at: datetime, *, offset: int = -7):
    """A reminder the planner decided on at `at` (its mail leaves with the next outbox run)."""
    session.add(PlannedReminder(referral_id=referral.id, offset_days=offset, deadline=referral.deadline,
                                due_at=at, planned_at=at))
    session.flush()


@pytest.fixture
def kalmar(session, frozen_clock):
    """A round due 26 March to six bodies, one in each state the board knows before the deadline."""
    officer = builders.create_officer(session, name="Stina Strateg", email="stina.strateg@kommun.example")
    strategy = builders.create_strategy(session, officer=officer, title="Internationell strategi",
                                        case_reference="KS 2020/0946")
    names = [("Socialnämnden", "board"), ("Miljönämnden", "board"), ("Kultur- och fritidsnämnden", "board"),
             ("Kalmarhem AB", "company"), ("Kalmar Vatten AB", "company"), ("Överförmyndarnämnden", "board")]
    found = [builders.create_body(session, name=name, kind=kind) for name, kind in names]
    sara = builders.create_secretary(session, found[0], email="sara@kommun.example")
    round_ = builders.create_round(session, strategy, found)
    by_name = {r.body.name: r for r in round_.referrals}
    answer(session, by_name["Miljönämnden"], stance=Stance.REJECTS, case_reference="MN 2021/5",
           state=ReferralState.IN_PROGRESS)
    answer(session, by_name["Kultur- och fritidsnämnden"], stance=Stance.APPROVES_WITH_COMMENTS,
           case_reference="KFN 2021/12")
    answer(session, by_name["Kalmarhem AB"], stance=Stance.ABSTAINS, state=ReferralState.DECLINED)
    answer(session, by_name["Kalmar Vatten AB"], stance=Stance.REJECTS, case_reference="KVAB 2021/3", late=True)
    rounds.withdraw_referral(session, officer, NOW, by_name["Överförmyndarnämnden"], "Fel mottagare.")
    session.commit()
    return SimpleNamespace(officer=officer, strategy=strategy, round=round_, sara=sara, **{
        "social": by_name["Socialnämnden"], "environment": by_name["Miljönämnden"],
        "culture": by_name["Kultur- och fritidsnämnden"], "housing": by_name["Kalmarhem AB"],
        "water": by_name["Kalmar Vatten AB"], "guardians": by_name["Överförmyndarnämnden"]})


def board(html: str) -> dict[str, SimpleNamespace]:
    """The board's rows by body name, in page order: the status code and the row's visible text."""
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        name = re.search(r'<th scope="row">(.*?)</th>', row, re.S)
        if name:
            status = re.search(r'class="status status--(\w+)"', row).group(1)
            text = " ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split())
            rows[unescape(name.group(1)).strip()] = SimpleNamespace(status=status, text=text)
    return rows


def show_board(client, kalmar, query=""):
    page = client.get(f"/rounds/{kalmar.round.id}{query}")
    assert page.status_code == 200
    return page


# ---------------------------------------------------------------- the board

def test_the_board_shows_a_row_per_body_with_its_state_deadline_and_days_left(client, kalmar):
    client.sign_in(kalmar.officer.email)

    rows = board(show_board(client, kalmar).text)

    assert list(rows) == ["Kalmar Vatten AB", "Kalmarhem AB", "Kultur- och fritidsnämnden", "Miljönämnden",
                          "Socialnämnden", "Överförmyndarnämnden"], "Swedish order: Ö last"
    assert {name: row.status for name, row in rows.items()} == {
        "Socialnämnden": "invited", "Miljönämnden": "in_progress", "Kultur- och fritidsnämnden": "submitted",
        "Kalmarhem AB": "declined", "Kalmar Vatten AB": "late", "Överförmyndarnämnden": "withdrawn"}
    assert "inbjuden" in rows["Socialnämnden"].text and "påbörjad" in rows["Miljönämnden"].text
    assert "inskickad" in rows["Kultur- och fritidsnämnden"].text and "avstår" in rows["Kalmarhem AB"].text
    assert " sen " in f" {rows['Kalmar Vatten AB'].text} " and "återkallad" in rows["Överförmyndarnämnden"].text
    assert "26 mars 2021" in rows["Socialnämnden"].text and "58 dagar kvar" in rows["Socialnämnden"].text


def test_the_board_shows_the_stance_and_case_reference_once_answered_and_not_before(client, kalmar):
    client.sign_in(kalmar.officer.email)

    rows = board(show_board(client, kalmar).text)

    assert "tillstyrker med synpunkter" in rows["Kultur- och fritidsnämnden"].text
    assert "KFN 2021/12" in rows["Kultur- och fritidsnämnden"].text
    assert "avstår från att yttra sig" in rows["Kalmarhem AB"].text
    assert "avstyrker" in rows["Kalmar Vatten AB"].text and "KVAB 2021/3" in rows["Kalmar Vatten AB"].text
    assert "avstyrker" not in rows["Miljönämnden"].text and "MN 2021/5" not in rows["Miljönämnden"].text
    assert "dagar kvar" not in rows["Kultur- och fritidsnämnden"].text, "an answered body has no countdown"


def test_the_board_counts_answers_and_shows_the_progress(client, kalmar):
    client.sign_in(kalmar.officer.email)

    page = show_board(client, kalmar).text

    assert "3 av 5 har svarat." in page, "declined and late count as answered; withdrawn not at all"
    assert re.search(r'<progress[^>]*max="5" value="3"', page)
    assert "försenade" not in page


def test_an_unanswered_body_becomes_overdue_once_the_deadline_day_has_ended(client, kalmar, frozen_clock):
    client.sign_in(kalmar.officer.email)

    frozen_clock.set(datetime(2021, 3, 26, 22, 58, tzinfo=timezone.utc))  # 23.58 in Kalmar
    before = board(show_board(client, kalmar).text)
    frozen_clock.set(datetime(2021, 3, 26, 23, 0, 30, tzinfo=timezone.utc))  # just after midnight
    page = show_board(client, kalmar).text
    after = board(page)

    assert before["Socialnämnden"].status == "invited" and "0 dagar kvar" in before["Socialnämnden"].text
    assert after["Socialnämnden"].status == "overdue" and "försenad" in after["Socialnämnden"].text
    assert after["Miljönämnden"].status == "overdue"
    assert after["Kultur- och fritidsnämnden"].status == "submitted"
    assert after["Kalmarhem AB"].status == "declined"
    assert after["Överförmyndarnämnden"].status == "withdrawn"
    assert "2 försenade." in page
    frozen_clock.set(datetime(2021, 3, 31, 9, tzinfo=timezone.utc))
    assert "5 dagar sen" in board(show_board(client, kalmar).text)["Socialnämnden"].text


def test_a_late_submission_shows_as_late_and_counts_as_answered(client, kalmar, session):
    answer(session, kalmar.social, stance=Stance.APPROVES, case_reference="SN 2021/77", late=True)
    session.commit()
    client.sign_in(kalmar.officer.email)

    page = show_board(client, kalmar, "?status=late").text

    assert list(board(page)) == ["Kalmar Vatten AB", "Socialnämnden"]
    assert "tillstyrker" in board(page)["Socialnämnden"].text
    assert "4 av 5 har svarat." in page


@pytest.mark.parametrize("status, shown", [
    ("overdue", ["Miljönämnden", "Socialnämnden"]),
    ("submitted", ["Kultur- och fritidsnämnden"]),
    ("declined", ["Kalmarhem AB"]),
    ("withdrawn", ["Överförmyndarnämnden"]),
    ("", ["Kalmar Vatten AB", "Kalmarhem AB", "Kultur- och fritidsnämnden", "Miljönämnden", "Socialnämnden",
          "Överförmyndarnämnden"]),
])
def test_the_board_filters_by_status(client, kalmar, frozen_clock, status, shown):
    frozen_clock.set(datetime(2021, 3, 29, 9, tzinfo=timezone.utc))
    client.sign_in(kalmar.officer.email)

    page = show_board(client, kalmar, f"?status={status}").text

    assert list(board(page)) == shown
    assert "3 av 5 har svarat." in page, "the counts are for the whole round, whatever the filter"
    if status:
        assert f'<option value="{status}" selected>' in page


def test_the_board_shows_anstand_and_the_last_reminder_sent(client, kalmar, session):
    builders.create_extension_request(session, kalmar.social, kalmar.sara, deadline=date(2021, 4, 16))
    sent_reminder(session, kalmar.social, datetime(2021, 3, 5, 7, 0, tzinfo=timezone.utc), offset=-21)
    sent_reminder(session, kalmar.social, datetime(2021, 3, 12, 7, 0, tzinfo=timezone.utc), offset=-14)
    session.commit()
    client.sign_in(kalmar.officer.email)

    rows = board(show_board(client, kalmar).text)

    assert "begärt (16 april 2021)" in rows["Socialnämnden"].text
    assert "fredag 12 mars 2021 kl. 08.00" in rows["Socialnämnden"].text
    assert "kl." not in rows["Miljönämnden"].text


# ---------------------------------------------------------------- CSV export

def read_csv(response) -> list[list[str]]:
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff"), "a byte-order mark, so Excel reads UTF-8"
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))


def test_the_board_exports_as_csv_for_a_spreadsheet(client, kalmar):
    client.sign_in(kalmar.officer.email)

    response = client.get(f"/rounds/{kalmar.round.id}/board.csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "status-KS-2020-0946.csv" in response.headers["Content-Disposition"]
    header, *rows = read_csv(response)
    assert header == ["remissinstans", "kortnamn", "status", "sista svarsdag", "dagar kvar", "anstånd",
                      "senaste påminnelse", "ställningstagande", "deras diarienummer", "inkom"]
    by_name = {row[0]: row for row in rows}
    assert len(rows) == 6
    assert by_name["Kultur- och fritidsnämnden"][2:] == ["inskickad", "2021-03-26", "58", "", "",
                                                         "tillstyrker med synpunkter", "KFN 2021/12", "2021-01-27"]
    assert by_name["Kalmar Vatten AB"][2] == "sen"
    assert by_name["Kalmarhem AB"][2] == "avstår"
    assert by_name["Överförmyndarnämnden"][2] == "återkallad"
    assert by_name["Miljönämnden"][2] == "påbörjad" and by_name["Miljönämnden"][8:] == ["", ""]


def test_the_csv_neutralises_a_cell_a_spreadsheet_would_read_as_a_formula(client, kalmar, session):
    sneaky = builders.create_body(session, name='=HYPERLINK("http://evil.example","Klicka")', code="EVIL")
    referral = rounds.add_body(session, kalmar.officer, NOW, kalmar.round, sneaky)
    answer(session, referral, stance=Stance.APPROVES, case_reference="@SUM(1+1)")
    session.commit()
    client.sign_in(kalmar.officer.email)

    rows = read_csv(client.get(f"/rounds/{kalmar.round.id}/board.csv"))

    (row,) = [r for r in rows if "HYPERLINK" in r[0]]
    assert row[0] == '\'=HYPERLINK("http://evil.example","Klicka")'
    assert row[8] == "'@SUM(1+1)"
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r if not cell[:1].isdigit())


# ---------------------------------------------------------------- a fixed number of queries

def round_with(session, officer, n: int):
    """A round to `n` new bodies in a mix of states: pending anstånd, answered, reminded, withdrawn."""
    strategy = builders.create_strategy(session, officer=officer)
    recipients = [builders.create_body(session) for _ in range(n)]
    round_ = builders.create_round(session, strategy, recipients)
    for i, referral in enumerate(round_.referrals):
        if i % 5 == 0:
            session.add(ExtensionRequest(referral_id=referral.id, state=ExtensionState.REQUESTED, reason="Tid.",
                                         requested_deadline=date(2021, 4, 16), requested_at=NOW))
        elif i % 5 == 1:
            answer(session, referral, stance=Stance.APPROVES, case_reference=f"D {i}")
        elif i % 5 == 2:
            sent_reminder(session, referral, NOW + timedelta(days=i))
        elif i % 5 == 3:
            referral.state = ReferralState.WITHDRAWN
    session.commit()
    return round_


@pytest.mark.parametrize("page", ["", "/board.csv"], ids=["board", "csv"])
def test_the_board_runs_the_same_number_of_queries_for_5_and_for_200_bodies(client, session, count_queries,
                                                                             frozen_clock, page):
    officer = builders.create_officer(session)
    small, large = round_with(session, officer, 5), round_with(session, officer, 200)
    client.sign_in(officer.email)
    counts = {}
    for round_ in (small, large):
        assert client.get(f"/rounds/{round_.id}{page}").status_code == 200  # warm up
        with count_queries() as counted:
            response = client.get(f"/rounds/{round_.id}{page}")
        assert response.status_code == 200
        counts[len(round_.referrals)] = counted.count

    assert counts[5] == counts[200], counts
    assert counts[5] <= 15, counts


def test_the_board_of_200_bodies_shows_all_of_them(client, session, frozen_clock):
    officer = builders.create_officer(session)
    round_ = round_with(session, officer, 200)
    client.sign_in(officer.email)

    page = client.get(f"/rounds/{round_.id}").text

    assert len(board(page)) == 200
    assert "40 av 160 har svarat." in page


# ---------------------------------------------------------------- the officer's start page

def start_page_row(html: str, round_id: int) -> list[str]:
    """The cells of the start page's row for one round, as text."""
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", html, re.S) if f'href="/rounds/{round_id}"' in r)
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", cell)).split())
            for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]


def test_the_officers_start_page_lists_open_rounds_with_progress_deadlines_and_pending_anstand(
        client, kalmar, session):
    request = builders.create_extension_request(session, kalmar.social, kalmar.sara, deadline=date(2021, 4, 16))
    prepared = builders.create_round(session, builders.create_strategy(session, officer=kalmar.officer,
                                                                       case_reference="KS 2021/0099"),
                                     [kalmar.social.body], state=RoundState.DRAFT)
    session.commit()
    client.sign_in(kalmar.officer.email)

    page = client.get("/").text

    label, progress, overdue, pending, nearest = start_page_row(page, kalmar.round.id)
    assert "KS 2020/0946" in label and kalmar.round.reply_label in label
    assert progress == "3/5"
    assert re.search(r'<progress[^>]*max="5" value="3"', page)
    assert (overdue, pending) == ("0", "1")
    assert nearest == "26 mars 2021"
    assert f'href="/rounds/{prepared.id}"' not in page, "a round not yet sent is not under way"
    assert f'href="/referrals/{request.referral_id}/extension-decision">Socialnämnden</a>' in page
    assert "till 16 april 2021" in page


def test_the_start_page_counts_overdue_bodies_and_the_next_deadline_after_an_anstand(
        client, kalmar, session, frozen_clock):
    extension_requests.grant_extension(session, kalmar.officer, NOW, kalmar.environment, deadline=date(2021, 4, 9))
    session.commit()
    frozen_clock.set(datetime(2021, 3, 29, 9, tzinfo=timezone.utc))
    client.sign_in(kalmar.officer.email)

    _label, progress, overdue, pending, nearest = start_page_row(client.get("/").text, kalmar.round.id)

    assert (progress, overdue, pending) == ("3/5", "1", "0")
    assert nearest == "9 april 2021"


def test_a_secretary_has_no_officers_overview_on_the_start_page(client, kalmar):
    client.sign_in(kalmar.sara.email)

    page = client.get("/").text

    assert f'href="/rounds/{kalmar.round.id}"' not in page
    assert "Pågående remisser" not in page
    assert f'href="/referrals/{kalmar.social.id}"' in page


# ---------------------------------------------------------------- the nudge to compile

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def stockholm(day: date, hour: int = 8) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=STOCKHOLM)


def compile_nudge(html: str) -> str | None:
    """The start page's 'Dags att sammanställa' block as text, or None when there is none."""
    found = re.search(r'<section class="warning" aria-labelledby="awaiting-compilation">(.*?)</section>', html, re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split()) if found else None


def test_the_start_page_asks_the_officer_to_compile_the_day_after_the_last_deadline(
        client, kalmar, frozen_clock):
    client.sign_in(kalmar.officer.email)
    frozen_clock.set(stockholm(date(2021, 3, 26), 23))  # the deadline day itself: replies may still come

    assert compile_nudge(client.get("/").text) is None

    frozen_clock.set(stockholm(date(2021, 3, 27)))
    page = client.get("/").text

    nudge = compile_nudge(page)
    assert nudge is not None
    assert nudge.startswith("Dags att sammanställa")
    assert "Internationell strategi KS 2020/0946" in nudge
    assert "Sista svarsdag var 26 mars 2021." in nudge
    assert "3 av 5 har svarat." in nudge  # the withdrawn body is not counted
    assert f'href="/rounds/{kalmar.round.id}#compilation">Sammanställ remissvaren' in page


def test_no_nudge_to_compile_while_one_bodys_anstand_runs(client, kalmar, session, frozen_clock):
    extension_requests.grant_extension(session, kalmar.officer, NOW, kalmar.environment, deadline=date(2021, 4, 9))
    session.commit()
    client.sign_in(kalmar.officer.email)
    frozen_clock.set(stockholm(date(2021, 3, 29)))

    assert compile_nudge(client.get("/").text) is None

    frozen_clock.set(stockholm(date(2021, 4, 10)))
    nudge = compile_nudge(client.get("/").text)

    assert nudge is not None and "Sista svarsdag var 9 april 2021." in nudge


def test_an_officer_is_nudged_only_about_their_own_rounds_and_an_admin_about_all(
        client, kalmar, session, frozen_clock):
    colleague = builders.create_officer(session, email="olle@kommun.example")
    admin = builders.create_admin(session)
    session.commit()
    frozen_clock.set(stockholm(date(2021, 3, 29)))

    client.sign_in(colleague.email)
    assert compile_nudge(client.get("/").text) is None
    client.sign_out()
    client.sign_in(admin.email)
    nudge = compile_nudge(client.get("/").text)

    assert nudge is not None and "KS 2020/0946" in nudge


def test_the_nudge_to_compile_goes_once_a_compilation_is_made(client, kalmar, session, frozen_clock):
    frozen_clock.set(stockholm(date(2021, 3, 29)))
    client.sign_in(kalmar.officer.email)
    assert compile_nudge(client.get("/").text) is not None

    record_compilation(session, kalmar.officer, frozen_clock.now, kalmar.round, STOCKHOLM)
    session.commit()

    assert compile_nudge(client.get("/").text) is None
    assert f'href="/rounds/{kalmar.round.id}"' in client.get("/").text, "the round itself is still listed"


def test_the_start_page_runs_the_same_number_of_queries_for_1_and_for_4_rounds_to_compile(
        client, session, count_queries, frozen_clock):
    officer = builders.create_officer(session)
    session.commit()
    frozen_clock.set(stockholm(date(2021, 4, 6)))
    client.sign_in(officer.email)
    counts = {}
    for wanted in (1, 4):
        while len(rounds_awaiting_compilation(session, frozen_clock.now, STOCKHOLM, officer)) < wanted:
            strategy = builders.create_strategy(session, officer=officer)
            bodies = [builders.create_body(session) for _ in range(3)]
            builders.create_round(session, strategy, bodies, deadline=date(2021, 3, 26))
        session.commit()
        assert client.get("/").status_code == 200  # warm up
        with count_queries() as counted:
            page = client.get("/").text
        assert compile_nudge(page).count("Sammanställ remissvaren") == wanted
        counts[wanted] = counted.count

    assert counts[1] == counts[4], counts


# ---------------------------------------------------------------- each row its own

def test_a_body_granted_anstand_counts_down_to_its_own_deadline_while_the_others_are_overdue(
        client, kalmar, session, frozen_clock):
    extension_requests.grant_extension(session, kalmar.officer, NOW, kalmar.social, deadline=date(2021, 4, 16),
                                       reason="Nämnden sammanträder i april.")
    session.commit()
    frozen_clock.set(datetime(2021, 3, 29, 9, tzinfo=timezone.utc))
    client.sign_in(kalmar.officer.email)

    rows = board(show_board(client, kalmar).text)

    assert rows["Socialnämnden"].status == "invited"
    assert "16 april 2021" in rows["Socialnämnden"].text and "18 dagar kvar" in rows["Socialnämnden"].text
    assert "beviljat" in rows["Socialnämnden"].text
    assert rows["Miljönämnden"].status == "overdue"
    assert "26 mars 2021" in rows["Miljönämnden"].text and "3 dagar sen" in rows["Miljönämnden"].text


def test_every_link_and_form_in_a_row_acts_on_that_rows_body_and_names_it(client, kalmar, frozen_clock):
    frozen_clock.set(datetime(2021, 3, 29, 9, tzinfo=timezone.utc))  # answered rows can be reopened
    client.sign_in(kalmar.officer.email)
    ids = {referral.body.name: referral.id for referral in kalmar.round.referrals}

    page = show_board(client, kalmar).text

    checked = 0
    for row in re.findall(r"<tr>(.*?)</tr>", page, re.S):
        name = re.search(r'<th scope="row">(.*?)</th>', row, re.S)
        if not name:
            continue
        name = unescape(name.group(1))
        targets = re.findall(r'(?:href|action)="(/referrals/\d+/[^"]*)"', row)
        hidden = [unescape(text) for text in re.findall(r'<span class="visually-hidden"> – (.*?)</span>', row)]
        assert all(target.startswith(f"/referrals/{ids[name]}/") for target in targets), (name, targets)
        assert hidden == [name] * len(targets), (name, hidden)
        checked += len(targets)
    assert 'action="/referrals/%d/reopen"' % ids["Kultur- och fritidsnämnden"] in page
    assert checked >= 8, "the unanswered bodies' three links, and the answered ones' version links and reopen forms"
