"""The remissammanställning: a round's submitted replies compiled into one .docx, section by section in
draft order, with an overview of every body and the full replies as an appendix."""
import io
from datetime import datetime, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import docx
import pytest
from sqlalchemy.orm.attributes import flag_modified

from remiss import responses
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
    """The paragraphs between a Heading 1 and the next."""
    start = outline.index(("Heading 1", heading))
    found = []
    for style, text in outline[start + 1:]:
        if style == "Heading 1":
            break
        found.append(text)
    return found


def test_the_compilation_follows_the_draft_with_every_comment_under_its_section(session, out):
    document = _open(compile_round(session, out.round, LATER, ZONE))
    outline = _outline(document)
    assert outline[0] == ("Title", "Internationell strategi")
    title_page = " ".join(text for _, text in outline[:8])
    assert "KS 2020/0946" in title_page and "Stina Strateg" in title_page and "26 mars 2021" in title_page
    headings = [text for style, text in outline if style == "Heading 1"]
    assert headings == ["Översikt", "1 Inledning", "2 Syfte och mål", "3 Ansvar", "Övriga synpunkter",
                        "Remissinstanser som inte svarat", "Bilaga: remissvaren i sin helhet"]
    assert _under(outline, "1 Inledning") == ["Socialnämnden: Bakgrunden är bra."]
    assert _under(outline, "3 Ansvar") == ["Socialnämnden: Ansvaret behöver förtydligas."]
    assert _under(outline, "2 Syfte och mål") == ["Inga synpunkter på detta avsnitt."]
    assert _under(outline, "Övriga synpunkter") == ["Socialnämnden: Tack för möjligheten att yttra oss."]
    comment = next(p for p in document.paragraphs if p.text.startswith("Socialnämnden: Ansvaret"))
    assert comment.runs[0].bold and comment.runs[0].text.startswith("Socialnämnden")
    assert _under(outline, "Remissinstanser som inte svarat") == ["Kulturnämnden"]
    appendix = [text for style, text in outline if style == "Heading 2"]
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
