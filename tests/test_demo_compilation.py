"""The Kalmar demo can be compiled the moment it is loaded: its round holds the social board's real
reply and replies of every kind (on time, late, declined, an anstånd, silence), and the
remissammanställning made from it reads right and opens in LibreOffice."""
import io
import os
import re
import shutil
import subprocess
from datetime import datetime
from zoneinfo import ZoneInfo

import docx
import pytest
from sqlalchemy import func, select

from remiss import responses
from remiss.compilation import STANCES, compile_round
from remiss.demo import CASE_REFERENCE, load_demo
from remiss.models import (
    AuditEvent, ExtensionRequest, ExtensionState, ReferralRound, ReferralState, ResponseVersion, Strategy,
)

from .conftest import missing

ZONE = ZoneInfo("Europe/Stockholm")
# Four days after 26 March 2021, the real round's deadline: the demo's deadline falls on that very day.
NOW = datetime(2021, 3, 30, 9, 0, tzinfo=ZONE)
PASSWORD = "correct horse battery"
# What the overview table must say of every body: (Svar, Ställningstagande), in Swedish order.
OVERVIEW = {
    "Barn- och ungdomsnämnden": ("Inskickat", "Tillstyrker med synpunkter"),
    "Kalmar kommunbolag AB": ("Inget svar", ""),
    "Kalmar Vatten AB": ("Inskickat", "Inga synpunkter"),
    "Kalmar Öland Airport AB": ("Inget svar", ""),
    "Kalmarhem AB": ("Inskickat", "Tillstyrker"),
    "Kultur- och fritidsnämnden": ("Begärt anstånd", ""),
    "Miljönämnden": ("Inskickat", "Avstyrker"),
    "Omsorgsnämnden": ("Inskickat", "Tillstyrker med synpunkter"),  # registered by the officer from an e-mail
    "Samhällsbyggnadsnämnden": ("Anstånd till 16 april 2021 – svar väntas", ""),
    "Servicenämnden": ("Inget svar", ""),
    "Socialnämnden": ("Inskickat", "Tillstyrker med synpunkter"),
    "Utbildningsnämnden": ("Sen", "Tillstyrker med synpunkter"),
    "Överförmyndarnämnden": ("Avstår", "Avstår från att yttra sig"),
}
SILENT = ["Kalmar kommunbolag AB", "Kalmar Öland Airport AB", "Servicenämnden"]
WAITING = ["Kultur- och fritidsnämnden", "Samhällsbyggnadsnämnden"]  # anstånd asked for, anstånd running
AFTER_SECTIONS = ["Övriga synpunkter", "Remissinstanser med anstånd", "Remissinstanser som inte svarat",
                  "Bilaga: remissvaren i sin helhet"]


@pytest.fixture
def demo_round(session):
    load_demo(session, NOW, PASSWORD)
    session.commit()
    return session.scalar(select(ReferralRound).join(Strategy).where(Strategy.case_reference == CASE_REFERENCE))


def _compiled(session, round_):
    return docx.Document(io.BytesIO(compile_round(session, round_, NOW, ZONE)))


def _outline(document) -> list[tuple[str, str, bool]]:
    """(style name, text, opens with a bold run) of every paragraph; style names read once per style id."""
    names = {style.style_id: style.name for style in document.styles}
    outline = []
    for paragraph in document.paragraphs:
        runs = paragraph.runs
        style = names.get(paragraph._p.style or "Normal", "")
        outline.append((style, paragraph.text, bool(runs) and bool(runs[0].bold)))
    return outline


def _parts(outline) -> dict[str, list[tuple[str, bool, str]]]:
    """(text, opens in bold, style) of the paragraphs under each heading, up to the next one."""
    parts, current = {}, None
    for style, text, bold in outline:
        if style.startswith("Heading "):
            current = text
            parts[current] = []
        elif current is not None:
            parts[current].append((text, bold, style))
    return parts


def _commenters(paragraphs, names) -> list[str]:
    """The bodies whose comment opens a paragraph ("Socialnämnden (tillstyrker): …", name and stance in bold)."""
    found = [text.partition(": ")[0].partition(" (")[0] for text, bold, _ in paragraphs if bold]
    return [name for name in found if name in names]


def _heading_at(outline, text: str) -> int:
    """Where the heading `text` stands (the table of contents before it names it too)."""
    return next(n for n, (style, found, _) in enumerate(outline) if style.startswith("Heading ") and found == text)


def _latest_contents(session, round_) -> dict[str, dict]:
    """The latest submitted version of every answered body, by name: what the compilation must show."""
    found = {}
    for referral in round_.referrals:
        response = responses.response_of(session, referral)
        if response is not None and response.versions:
            found[referral.body.name] = max(response.versions, key=lambda v: v.number).content
    return found


def _expected_lines(body_name: str, text: str, content: dict) -> list[str]:
    """A comment as the compilation shows it: the body and its stance, then the text a paragraph a line."""
    lines = [line.rstrip() for line in text.split("\n") if line.strip()]
    return [f"{_lead(body_name, content)}: {lines[0]}", *lines[1:]]


def _lead(body_name: str, content: dict) -> str:
    return f"{body_name} ({STANCES[content['stance']].lower()})"


def _contains_run(texts: list[str], wanted: list[str]) -> bool:
    return any(texts[i:i + len(wanted)] == wanted for i in range(len(texts) - len(wanted) + 1))


# ---------------------------------------------------------------- the demo's round

def test_the_demo_round_holds_replies_of_every_kind(session, demo_round):
    by_code = {r.body.code: r for r in demo_round.referrals}
    states = {code: r.state for code, r in by_code.items()}
    answered = [code for code, state in states.items() if state in (ReferralState.SUBMITTED, ReferralState.DECLINED)]
    assert len(answered) >= 5
    assert states["ÖFN"] == ReferralState.DECLINED
    deadline_passed = NOW > datetime.combine(demo_round.deadline, datetime.max.time(), tzinfo=ZONE)
    assert deadline_passed, "the main deadline has passed, so a late reply can exist"

    late = [code for code, r in by_code.items() if responses.response_of(session, r) is not None
            and responses.response_of(session, r).late]
    assert late == ["UN"]
    assert by_code["UN"].answered_at > datetime.combine(demo_round.deadline, datetime.max.time(), tzinfo=ZONE)

    extensions = {e.referral.body.code: e for e in session.scalars(select(ExtensionRequest))}
    assert extensions["SBN"].state == ExtensionState.GRANTED
    assert by_code["SBN"].deadline == extensions["SBN"].granted_deadline > NOW.date()
    assert states["SBN"] == ReferralState.INVITED, "the body with anstånd can still answer on time"
    assert extensions["KFN"].state == ExtensionState.REQUESTED

    social = responses.response_of(session, by_code["SN"]).versions[-1].content
    assert social["case_reference"] == "SN 2021/0163.02.10"
    assert social["signatory_name"] == "Cecilia Frid"
    assert social["proposed_decision"].startswith("Socialnämnden överlämnar upprättat förslag till yttrande")
    assert [c["heading"] for c in social["comments"]] == ["Verksamhetsutveckling och extern finansiering",
                                                          "Ansvar och organisation"]
    assert [a["filename"] for a in social["attachments"]] == ["kalmar-social-board-reply.docx"]

    actions = session.execute(select(AuditEvent.action, func.count()).group_by(AuditEvent.action)).all()
    counted = dict(actions)
    assert counted["reply.submitted"] == 7 and counted["reply.declined"] == 1
    assert counted["extension.granted"] == 1 and counted["extension.requested"] == 2
    assert session.scalar(select(func.max(ResponseVersion.submitted_at))) < NOW


# ---------------------------------------------------------------- its compilation

def test_the_compilation_of_the_demo_follows_the_draft(session, demo_round):
    outline = _outline(_compiled(session, demo_round))
    headings = [(style, text) for style, text, _ in outline if style.startswith("Heading ")]
    headings = headings[:headings.index(("Heading 1", AFTER_SECTIONS[-1])) + 1]

    # Each section one level below the document's chapters and as deep as in the draft (2.1 under 2), so
    # Word's table of contents keeps the outline; a section has a heading when it or one under it was
    # commented on, the others are named in one line.
    sections = demo_round.draft.sections
    assert len(sections) == 21
    commented = {f"{c['number']} {c['heading']}" for content in _latest_contents(session, demo_round).values()
                 for c in content["comments"]}

    def with_comments(i: int) -> bool:
        below = [sections[i]]
        for section in sections[i + 1:]:
            if section.level <= sections[i].level:
                break
            below.append(section)
        return any(f"{s.number} {s.heading}" in commented for s in below)

    shown = [(f"Heading {max(s.level, 1) + 1}", f"{s.number} {s.heading}")
             for i, s in enumerate(sections) if with_comments(i)]
    gathered = [s.number for i, s in enumerate(sections) if not with_comments(i)]
    assert {"Heading 2", "Heading 3"} <= {style for style, _ in shown} and gathered
    expected = [("Heading 1", "Synpunkter per avsnitt"), *shown] + [("Heading 1", text) for text in AFTER_SECTIONS]
    assert headings[-len(expected):] == expected
    assert headings[:-len(expected)][:2] == [("Heading 1", "Inledning"), ("Heading 1", "Översikt")]
    line = _parts(outline)["Synpunkter per avsnitt"][0][0]
    assert line == f"Inga synpunkter har lämnats på avsnitt {', '.join(gathered[:-1])} och {gathered[-1]}."


def test_every_comment_of_the_demo_stands_under_its_section_with_its_body(session, demo_round):
    parts = _parts(_outline(_compiled(session, demo_round)))
    contents = _latest_contents(session, demo_round)
    names = set(OVERVIEW)

    expected: dict[str, list[str]] = {}
    for body_name in sorted(contents):
        for comment in contents[body_name]["comments"]:
            expected.setdefault(f"{comment['number']} {comment['heading']}", []).append(body_name)
    for section in demo_round.draft.sections:
        heading = f"{section.number} {section.heading}"
        assert sorted(_commenters(parts.get(heading, []), names)) == sorted(expected.get(heading, [])), heading
    for body_name, content in contents.items():
        for comment in content["comments"]:
            texts = [text for text, *_ in parts[f"{comment['number']} {comment['heading']}"]]
            assert _contains_run(texts, _expected_lines(body_name, comment["text"], content)), \
                (body_name, comment["heading"])

    # The social board's real comments, from its Word reply, under the headings it named.
    under_71 = [text for text, *_ in parts["7.1 Verksamhetsutveckling och extern finansiering"]]
    social = "Socialnämnden (tillstyrker med synpunkter)"
    assert f"{social}: Ansvar för kommunens förvaltningar och bolag:" in under_71
    assert any(t.startswith("När det gäller själva arbetet med att söka medel") for t in under_71)
    under_9 = [text for text, *_ in parts["9 Ansvar och organisation"]]
    assert any(t.startswith(f"{social}: En stor del av socialtjänstens utvecklingsarbete") for t in under_9)
    assert any(t.startswith("Sammanfattningsvis bedömer socialnämnden") for t in under_9)

    general = [text for text, *_ in parts["Övriga synpunkter"]]
    with_general = sorted(name for name, content in contents.items() if content["general_comments"].strip())
    assert sorted(_commenters(parts["Övriga synpunkter"], names)) == with_general
    assert len(with_general) >= 2
    for body_name in with_general:
        assert _contains_run(general, _expected_lines(body_name, contents[body_name]["general_comments"],
                                                      contents[body_name]))


def test_the_overview_has_every_demo_body_with_its_answer_and_stance(session, demo_round):
    document = _compiled(session, demo_round)

    [table] = [t for t in document.tables if t.rows[0].cells[0].text == "Remissinstans"]
    header, *rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert header[:2] == ["Remissinstans", "Svar"] and "Ställningstagande" in header
    groups = [row[0] for row in rows if len(set(row)) == 1]  # a row across the table names the group
    rows = [row for row in rows if len(set(row)) > 1]
    assert groups == ["Nämnder", "Bolag"]
    stance = header.index("Ställningstagande")
    assert {row[0]: (row[1], row[stance]) for row in rows} == OVERVIEW
    kinds = {r.body.name: r.body.kind for r in demo_round.referrals}
    assert [row[0] for row in rows] == sorted(OVERVIEW, key=lambda name: (kinds[name] != "board",
                                                                          list(OVERVIEW).index(name))), \
        "one row per body, the boards first, each group in Swedish order"
    dated = {row[0] for row in rows if row[header.index("Datum")]}
    assert dated == {name for name, (answer, _) in OVERVIEW.items() if answer in ("Inskickat", "Sen", "Avstår")}


def test_the_bodies_that_did_not_answer_are_listed_and_only_they(session, demo_round):
    outline = _outline(_compiled(session, demo_round))

    listed = _parts(outline)["Remissinstanser som inte svarat"]
    assert [text for text, _, style in listed if style == "List Bullet"] == SILENT
    appendix = [text for style, text, _ in outline[_heading_at(outline, AFTER_SECTIONS[-1]):] if style == "Heading 2"]
    assert sorted(appendix) == sorted(set(OVERVIEW) - set(SILENT) - set(WAITING))


# ---------------------------------------------------------------- LibreOffice

@pytest.fixture
def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        missing("the LibreOffice test needs soffice (apt-get install libreoffice-writer-nogui)")
    return found


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the document is the same on either
def test_the_demo_compilation_converts_to_pdf_with_libreoffice(soffice, session, demo_round, tmp_path):
    source = tmp_path / "remissammanstallning.docx"
    source.write_bytes(compile_round(session, demo_round, NOW, ZONE))
    out = tmp_path / "pdf"

    # A profile of its own: two conversions sharing one would wait on each other's lock or fail.
    result = subprocess.run(
        [soffice, f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}", "--headless", "--norestore",
         "--convert-to", "pdf", "--outdir", str(out), str(source)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)})

    assert result.returncode == 0, result.stdout + result.stderr
    pdf = out / "remissammanstallning.pdf"
    assert pdf.exists(), result.stdout + result.stderr
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = re.findall(rb"/Type\s*/Page[^s]", data)
    assert len(pages) >= 3, "the title page, the overview and the comments at least"
