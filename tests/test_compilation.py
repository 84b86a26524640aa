"""The remissammanställning: a round's submitted replies compiled into one .docx, section by section in
draft order, with an overview of every body and the full replies as an appendix."""
import io
from datetime import date, datetime, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import docx
import pytest
from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from remiss import dispositions, responses
from remiss.compilation import compile_round
from remiss.responses import ReplyDraft, ReplyFields

from . import builders

NOW = datetime(2021, 1, 27, 9, 0, tzinfo=timezone.utc)
LATER = datetime(2021, 4, 6, 9, 0, tzinfo=timezone.utc)  # after the deadline: the silent body is overdue
ZONE = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def out(session, frozen_clock):
    """A round to three bodies: the social board answers with comments on two sections, the
    environment board declines, the culture board never answers."""
    officer = builders.create_officer(session, name="Stina Strateg")
    strategy = builders.create_strategy(session, officer=officer, title="Internationell strategi",
                                        case_reference="KS 2020/0946")
    social = builders.create_body(session, name="Socialnämnden", code="SN")
    environment = builders.create_body(session, name="Miljönämnden", code="MN")
    culture = builders.create_body(session, name="Kulturnämnden", code="KN")
    sara = builders.create_secretary(session, social)
    mia = builders.create_secretary(session, environment)
    round_ = builders.create_round(session, strategy, [social, environment, culture])
    by_body = {r.body_id: r for r in round_.referrals}
    sections = {s.heading: s for s in round_.draft.sections}
    draft = ReplyDraft(
        fields=ReplyFields(stance="approves_with_comments", summary="Nämnden ställer sig bakom förslaget.",
                           proposed_decision="Nämnden antar yttrandet.", case_reference="SN 2021/12",
                           deciding_body="Socialnämnden", decision_paragraph="14",
                           signatory_name="Anna Ordförande", signatory_title="ordförande"),
        comments={sections["Ansvar"].id: "Ansvaret behöver förtydligas.",
                  sections["Inledning"].id: "Bakgrunden är bra."},
        general_comments="Tack för möjligheten att yttra oss.")
    saved = responses.save_reply(session, sara, NOW, by_body[social.id], version=None, draft=draft)
    submitted = responses.submit_reply(session, sara, NOW, by_body[social.id], version=saved.lock_version)
    responses.decline(session, mia, NOW, by_body[environment.id], "Berör inte oss.")
    session.commit()
    return SimpleNamespace(round=round_, social=by_body[social.id], version=submitted, sections=sections,
                           sara=sara, draft=draft)


def _open(data: bytes):
    return docx.Document(io.BytesIO(data))


def _outline(document) -> list[tuple[str, str]]:
    """(style name, text) of every paragraph, styles read once per paragraph for the test only."""
    return [(p.style.name, p.text) for p in document.paragraphs]


def _under(outline, heading: str) -> list[str]:
    """The paragraphs between a heading (of any level) and the next heading."""
    start = next(n for n, (style, text) in enumerate(outline) if style.startswith("Heading ") and text == heading)
    found = []
    for style, text in outline[start + 1:]:
        if style.startswith("Heading "):
            break
        found.append(text)
    return found


SOCIAL = "Socialnämnden (tillstyrker med synpunkter)"  # a comment opens with its body and stance


def test_the_compilation_follows_the_draft_with_every_comment_under_its_section(session, out):
    document = _open(compile_round(session, out.round, LATER, ZONE))
    outline = _outline(document)
    assert outline[0] == ("Title", "Internationell strategi")
    title_page = " ".join(text for _, text in outline[:8])
    assert "KS 2020/0946" in title_page and "Stina Strateg" in title_page and "26 mars 2021" in title_page
    headings = [(style, text) for style, text in outline if style.startswith("Heading ")]
    # The draft's sections one level below the document's own chapters; the one nobody commented on is
    # named in a line instead of a chapter of its own.
    assert headings[:7] == [("Heading 1", "Inledning"), ("Heading 1", "Översikt"),
                            ("Heading 1", "Synpunkter per avsnitt"), ("Heading 2", "1 Inledning"),
                            ("Heading 2", "3 Ansvar"), ("Heading 1", "Övriga synpunkter"),
                            ("Heading 1", "Remissinstanser som inte svarat")]
    assert _under(outline, "Synpunkter per avsnitt") == ["Inga synpunkter har lämnats på avsnitt 2."]
    assert _under(outline, "1 Inledning") == [f"{SOCIAL}: Bakgrunden är bra.", "Kommentar: Ej kommenterad"]
    assert _under(outline, "3 Ansvar") == [f"{SOCIAL}: Ansvaret behöver förtydligas.", "Kommentar: Ej kommenterad"]
    assert _under(outline, "Övriga synpunkter") == [f"{SOCIAL}: Tack för möjligheten att yttra oss.",
                                                    "Kommentar: Ej kommenterad"]
    comment = next(p for p in document.paragraphs if p.text.startswith(f"{SOCIAL}: Ansvaret"))
    assert comment.runs[0].bold and comment.runs[0].text.startswith(SOCIAL)
    assert _under(outline, "Remissinstanser som inte svarat") == ["Kulturnämnden"]
    appendix = [text for style, text in outline[outline.index(("Heading 1", "Bilaga: remissvaren i sin helhet")):]
                if style == "Heading 2"]
    assert appendix == ["Miljönämnden", "Socialnämnden"]
    whole = "\n".join(text for _, text in outline)
    for expected in ("Nämnden ställer sig bakom förslaget.", "Nämnden antar yttrandet.", "Beslutande organ",
                     "§ 14", "Anna Ordförande, ordförande", "Berör inte oss."):
        assert expected in whole


def test_the_overview_table_has_a_row_per_body(session, out):
    document = _open(compile_round(session, out.round, LATER, ZONE))
    (table,) = document.tables
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows[0] == ["Remissinstans", "Svar", "Datum", "Ställningstagande", "Deras diarienummer"]
    assert rows[1:] == [
        ["Kulturnämnden", "Inget svar", "", "", ""],
        ["Miljönämnden", "Avstår", "27 januari 2021", "Avstår från att yttra sig", ""],
        ["Socialnämnden", "Inskickat", "27 januari 2021", "Tillstyrker med synpunkter", "SN 2021/12"],
    ]


def test_the_footer_numbers_the_pages(session, out):
    document = _open(compile_round(session, out.round, LATER, ZONE))
    assert "PAGE" in document.sections[0].footer._element.xml


def test_only_the_submitted_version_is_compiled_never_the_working_copy(session, out):
    changed = ReplyDraft(fields=out.draft.fields, comments={out.sections["Ansvar"].id: "Osänt utkast."})
    responses.save_reply(session, out.sara, NOW, out.social, version=out.version.response.lock_version,
                         draft=changed)
    session.commit()
    whole = "\n".join(p.text for p in _open(compile_round(session, out.round, LATER, ZONE)).paragraphs)
    assert "Osänt utkast." not in whole and "Ansvaret behöver förtydligas." in whole


def test_hostile_content_compiles(session, out):
    content = dict(out.version.content)
    content["comments"] = [dict(c) for c in content["comments"]]
    content["comments"][0]["text"] = "<w:p>&amp; <script>alert(1)</script>\x00\x0b\x1f slut" + "x" * 20_000
    content["summary"] = "Sammanfattning\x00 med\x0b styrtecken\ud800"
    content["general_comments"] = "]]></w:t><w:t>" + "y" * 20_000
    out.version.content = content
    flag_modified(out.version, "content")
    session.commit()
    document = _open(compile_round(session, out.round, LATER, ZONE))
    whole = "\n".join(p.text for p in document.paragraphs)
    assert "<w:p>&amp; <script>alert(1)</script> slut" in whole
    assert "Sammanfattning med styrtecken" in whole
    assert "x" * 20_000 in whole and "]]></w:t><w:t>" in whole


def test_the_cli_writes_the_compilation(session, out, runner, tmp_path):
    target = tmp_path / "sammanstallning.docx"
    result = runner.invoke("remiss", "compile", str(out.round.id), "-o", str(target))
    assert result.exit_code == 0, result.output
    headings = [p.text for p in _open(target.read_bytes()).paragraphs if p.style.name == "Heading 1"]
    assert "Remissinstanser som inte svarat" in headings


def test_the_cli_refuses_an_unknown_round(session, runner, tmp_path):
    result = runner.invoke("remiss", "compile", "999999", "-o", str(tmp_path / "x.docx"))
    assert result.exit_code != 0 and "no round" in result.output


# ---------------------------------------------------------------- records, preview, exports

def _page(client, round_id: int, path: str = ""):
    return client.get(f"/rounds/{round_id}/compilation{path}")


def test_a_compilation_is_kept_with_who_when_and_the_replies_it_covered(session, out):
    from remiss.compilation import compilations_of, latest_compilation, record_compilation

    officer = out.round.strategy.officer
    first = record_compilation(session, officer, NOW, out.round, ZONE)
    second = record_compilation(session, None, LATER, out.round, ZONE)
    session.commit()
    assert (first.created_by, first.created_at) == (officer, NOW)
    covered = {v.response.referral_id for v in first.versions}
    assert out.social.id in covered and len(covered) == 2  # the social board's reply and the declining one
    assert out.version in first.versions
    assert first.file.filename == "remissammanstallning-KS-2020-0946-2021-01-27.docx"
    assert _outline(_open(first.file.data))[0] == ("Title", "Internationell strategi")
    assert latest_compilation(session, out.round) == second
    assert [c.id for c in compilations_of(session, out.round)] == [second.id, first.id]
    assert compilations_of(session, out.round)[0].reply_count == 2


def test_only_an_officer_compiles_and_only_a_launched_round(session, out):
    from remiss.compilation import record_compilation
    from remiss.errors import WorkflowError

    with pytest.raises(WorkflowError, match="Bara handläggare"):
        record_compilation(session, out.sara, NOW, out.round, ZONE)
    unsent = builders.create_round(session, out.round.strategy, [out.social.body], state="draft")
    with pytest.raises(WorkflowError, match="utskickad"):
        record_compilation(session, None, NOW, unsent, ZONE)


def test_the_officer_makes_one_downloads_it_and_the_round_page_links_the_latest(client, session, out):
    officer = out.round.strategy.officer
    client.sign_in(officer.email)
    page = _page(client, out.round.id)
    assert page.status_code == 200 and "Ingen sammanställning är skapad än." in page.get_data(as_text=True)
    made = client.post(f"/rounds/{out.round.id}/compilation", data={"csrf_token": client.csrf_token()})
    assert made.status_code == 302 and made.headers["Location"].endswith("#kept")
    from remiss.models import Compilation
    (kept,) = session.scalars(select(Compilation)).all()
    listing = _page(client, out.round.id).get_data(as_text=True)
    link = f"/rounds/{out.round.id}/compilations/{kept.id}.docx"
    assert link in listing and "Sammanställningen är skapad." in listing
    download = client.get(link)
    assert download.status_code == 200 and download.data == kept.file.data
    assert "remissammanstallning-KS-2020-0946" in download.headers["Content-Disposition"]
    assert link in client.get(f"/rounds/{out.round.id}").get_data(as_text=True)
    assert client.get(f"/rounds/{out.round.id + 1}/compilations/{kept.id}.docx").status_code == 404


def test_a_post_without_the_csrf_token_keeps_nothing(client, session, out):
    from remiss.models import Compilation

    client.sign_in(out.round.strategy.officer.email)
    assert client.post(f"/rounds/{out.round.id}/compilation", data={}, csrf=False).status_code == 400
    assert session.scalars(select(Compilation)).all() == []


def test_a_secretary_reaches_no_part_of_the_compilation(client, session, out):
    from remiss.compilation import record_compilation

    kept = record_compilation(session, None, NOW, out.round, ZONE)
    session.commit()
    client.sign_in(out.sara.email)
    for path in ("", "/chart.png", "/comments.csv", "/comments.xlsx"):
        assert _page(client, out.round.id, path).status_code == 404, path
    assert client.get(f"/rounds/{out.round.id}/compilations/{kept.id}.docx").status_code == 404
    assert client.post(f"/rounds/{out.round.id}/compilation",
                       data={"csrf_token": client.csrf_token()}).status_code == 404


def test_the_preview_says_what_the_document_says(client, session, out):
    dispositions.set_disposition(session, out.round.strategy.officer, NOW, out.social, out.sections["Ansvar"].key,
                                 "partly_considered", "Texten förtydligas.")
    session.commit()
    client.sign_in(out.round.strategy.officer.email)
    html = _page(client, out.round.id).get_data(as_text=True)
    preview = html[html.index('id="preview-heading"'):]
    order = [preview.index(f"<h3>{h}</h3>") for h in ("Översikt", "1 Inledning", "2 Syfte och mål", "3 Ansvar",
                                                       "Övriga synpunkter", "Remissinstanser som inte svarat",
                                                       "Bilaga: remissvaren i sin helhet")]
    assert order == sorted(order)
    ansvar = preview[preview.index("<h3>3 Ansvar</h3>"):preview.index("<h3>Övriga synpunkter</h3>")]
    assert "Socialnämnden" in ansvar and "Ansvaret behöver förtydligas." in ansvar
    assert "beaktas delvis – Texten förtydligas." in ansvar
    inledning = preview[preview.index("<h3>1 Inledning</h3>"):preview.index("<h3>2 Syfte och mål</h3>")]
    assert "Ej kommenterad" in inledning and "Ställningstagande:" not in preview  # the officer's word
    silent = preview[preview.index("<h3>Remissinstanser som inte svarat</h3>"):]
    assert "<li>Kulturnämnden</li>" in silent
    assert "1 av 2 synpunkter" not in html and "1 av 3 synpunkter är hanterade." in html
    assert '<figcaption>2 av 3 remissinstanser har svarat (67 %).' in html


def test_the_chart_is_in_the_document_with_its_numbers_in_words(client, session, out):
    from PIL import Image

    document = _open(compile_round(session, out.round, LATER, ZONE))
    (picture,) = document.inline_shapes
    description = picture._inline.docPr.get("descr")
    assert description.startswith("2 av 3 remissinstanser har svarat (67 %).")
    assert "tillstyrker med synpunkter 1" in description.lower() and "inget svar 1" in description
    assert description in [p.text for p in document.paragraphs]
    client.sign_in(out.round.strategy.officer.email)
    png = _page(client, out.round.id, "/chart.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert Image.open(io.BytesIO(png.data)).size[0] == 1600


def _hostile(session, out):
    content = dict(out.version.content)
    content["comments"] = [dict(c) for c in content["comments"]]
    content["comments"][0]["text"] = "=HYPERLINK(\"http://evil.example\")<script>alert(1)</script>\x00\x0b slut"
    content["general_comments"] = "@SUM(A1) " + "z" * 20_000
    out.version.content = content
    flag_modified(out.version, "content")
    session.commit()


def test_hostile_content_is_escaped_in_the_preview(client, session, out):
    _hostile(session, out)
    client.sign_in(out.round.strategy.officer.email)
    page = _page(client, out.round.id)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "z" * 20_000 in html and "\x00" not in html


def test_the_comments_export_as_csv_and_xlsx_with_their_handling(client, session, out):
    import csv

    from openpyxl import load_workbook

    dispositions.set_disposition(session, out.round.strategy.officer, NOW, out.social, out.sections["Ansvar"].key,
                                 "considered", "Förtydligas i version 2.")
    _hostile(session, out)
    client.sign_in(out.round.strategy.officer.email)
    response = _page(client, out.round.id, "/comments.csv")
    assert response.status_code == 200 and "synpunkter-KS-2020-0946.csv" in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows[0] == ["Avsnitt", "Rubrik", "Remissinstans", "Ställningstagande", "Synpunkt", "Hantering",
                       "Motivering"]
    by_heading = {row[1]: row for row in rows[1:]}
    assert set(by_heading) == {"1 Inledning", "3 Ansvar", "Övriga synpunkter"}
    assert by_heading["3 Ansvar"][0] == "3" and by_heading["Övriga synpunkter"][0] == ""
    assert by_heading["3 Ansvar"][2:] == ["Socialnämnden", "Tillstyrker med synpunkter",
                                          "Ansvaret behöver förtydligas.", "beaktas", "Förtydligas i version 2."]
    hostile = next(row for row in rows[1:] if "HYPERLINK" in row[4])
    assert hostile[4].startswith("'=HYPERLINK") and "\x00" not in hostile[4]  # text, never a formula
    assert by_heading["Övriga synpunkter"][4].startswith("'@SUM") and by_heading["1 Inledning"][5] == "ej hanterad"

    response = _page(client, out.round.id, "/comments.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    cells = list(sheet.iter_rows())
    assert [c.value for c in cells[0]] == rows[0]
    assert len(cells) == len(rows)
    formula_like = next(c for row in cells for c in row if "HYPERLINK" in str(c.value))
    assert formula_like.data_type == "s" and formula_like.value.startswith("=HYPERLINK")
    assert "\x00" not in formula_like.value
    assert any(c.value == "Förtydligas i version 2." for row in cells for c in row)


def test_the_cli_keeps_what_it_compiles(session, out, runner, tmp_path):
    from remiss.models import Compilation

    runner.invoke("remiss", "compile", str(out.round.id), "-o", str(tmp_path / "a.docx"))
    (kept,) = session.scalars(select(Compilation)).all()
    assert kept.created_by is None and (tmp_path / "a.docx").read_bytes() == kept.file.data


def test_the_charts_font_draws_swedish_letters():
    from remiss.compilation_document import _font

    font = _font(20)

    def drawn(text):
        return bytes(font.getmask(text))

    missing = drawn("\u4e00")  # a letter the shipped font leaves out: drawn as the empty box
    for letter in "åäöÅÄÖé–":
        assert drawn(letter) != missing, letter


def test_the_page_names_the_replies_that_came_after_the_latest_compilation(client, session, out):
    from remiss.compilation import record_compilation

    record_compilation(session, None, NOW, out.round, ZONE)
    culture = next(r for r in out.round.referrals if r.body.name == "Kulturnämnden")
    secretary = builders.create_secretary(session, culture.body)
    draft = ReplyDraft(fields=ReplyFields(stance="approves", summary="Kulturnämnden tillstyrker."))
    saved = responses.save_reply(session, secretary, NOW, culture, version=None, draft=draft)
    session.commit()
    client.sign_in(out.round.strategy.officer.email)
    assert "sedan den senaste sammanställningen" not in _page(client, out.round.id).get_data(as_text=True)
    responses.submit_reply(session, secretary, NOW, culture, version=saved.lock_version)
    session.commit()
    html = _page(client, out.round.id).get_data(as_text=True)
    assert "1 svar har kommit in eller ändrats sedan den senaste sammanställningen: Kulturnämnden." in html


def test_a_late_reply_says_so_in_the_overview_and_the_appendix(session, out):
    culture = next(r for r in out.round.referrals if r.body.name == "Kulturnämnden")
    secretary = builders.create_secretary(session, culture.body)
    draft = ReplyDraft(fields=ReplyFields(stance="approves", summary="Sent men väl."))
    saved = responses.save_reply(session, secretary, LATER, culture, version=None, draft=draft)
    responses.submit_reply(session, secretary, LATER, culture, version=saved.lock_version)
    session.commit()
    document = _open(compile_round(session, out.round, LATER, ZONE))
    rows = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert rows["Kulturnämnden"] == "Sen"
    texts = [p.text for p in document.paragraphs]
    appendix = texts[texts.index("Kulturnämnden", texts.index("Bilaga: remissvaren i sin helhet")):]
    assert "Inkom: 6 april 2021 (efter sista svarsdag)" in appendix
    assert "Inkom: 27 januari 2021" in texts  # on time: no such words


def test_a_round_is_brought_up_for_compilation_for_twelve_weeks_after_its_last_deadline(session, out):
    from remiss.compilation import rounds_awaiting_compilation

    def awaiting(day: date) -> bool:
        at = datetime.combine(day, datetime.min.time(), tzinfo=ZONE).replace(hour=9)
        return out.round in rounds_awaiting_compilation(session, at, ZONE)

    assert not awaiting(date(2021, 3, 26))  # the deadline day itself
    assert awaiting(date(2021, 3, 27)) and awaiting(date(2021, 6, 18))  # twelve weeks on
    assert not awaiting(date(2021, 6, 19))  # dealt with some other way by then


def test_a_cancelled_rounds_comments_can_still_be_read_but_it_is_not_compiled(client, session, out):
    from remiss import rounds
    from remiss.compilation import record_compilation
    from remiss.errors import WorkflowError

    officer = out.round.strategy.officer
    rounds.cancel_round(session, officer, NOW, out.round, "Strategin skrivs om.")
    session.commit()
    client.sign_in(officer.email)
    page = client.get(f"/rounds/{out.round.id}").get_data(as_text=True)
    assert f"/rounds/{out.round.id}/handling" in page and f"/rounds/{out.round.id}/compilation\"" not in page
    with pytest.raises(WorkflowError):
        record_compilation(session, officer, NOW, out.round, ZONE)
