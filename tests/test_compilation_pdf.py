"""The remissammanställning as a tagged PDF/A made by LibreOffice: at once from the CLI, from the page
through the scheduler (never inside the web request), kept with the compilation; and a clear message,
never an error page, where LibreOffice is not installed."""
import os
import re
import shutil
import subprocess
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from remiss import jobs, pdf
from remiss.compilation import record_compilation, summarize
from remiss.demo import CASE_REFERENCE, load_demo
from remiss.errors import WorkflowError
from remiss.models import Compilation, ReferralRound, Strategy

from . import builders
from .conftest import missing

ZONE = ZoneInfo("Europe/Stockholm")
DEMO_NOW = datetime(2021, 3, 30, 9, 0, tzinfo=ZONE)
NOW = datetime(2021, 3, 29, 9, 0, tzinfo=ZONE)
NO_LIBREOFFICE = "LibreOffice är inte installerat"
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def soffice() -> str:
    found = pdf.soffice_path()
    if found is None:
        missing("the PDF tests need soffice (apt-get install libreoffice-writer-nogui)")
    for tool in ("pdfinfo", "pdftotext"):
        if shutil.which(tool) is None:
            missing(f"the PDF tests need {tool} (apt-get install poppler-utils)")
    return found


@pytest.fixture
def without_libreoffice(monkeypatch, tmp_path):
    """A PATH on which neither soffice nor libreoffice is found."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert pdf.soffice_path() is None
    return empty


@pytest.fixture
def out(session, frozen_clock):
    """A round with one reply, compiled once on the page's behalf."""
    frozen_clock.set(NOW)
    officer = builders.create_officer(session, name="Stina Strateg")
    strategy = builders.create_strategy(session, officer=officer, title="Internationell strategi")
    body = builders.create_body(session, name="Socialnämnden")
    round_ = builders.create_round(session, strategy, [body])
    kept = record_compilation(session, officer, NOW, round_, ZONE, background="Bakgrunden.")
    session.commit()
    return SimpleNamespace(round=round_, officer=officer, kept=kept,
                           page=f"/rounds/{round_.id}/compilation",
                           ask=f"/rounds/{round_.id}/compilations/{kept.id}/pdf",
                           download=f"/rounds/{round_.id}/compilations/{kept.id}.pdf")


def assert_tagged_pdfa(data: bytes, tmp_path) -> None:
    """A PDF with a structure tree (tagged, as pdfinfo reads it) that declares PDF/A-2b in its XMP metadata."""
    path = tmp_path / "checked.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, timeout=60).stdout
    assert re.search(r"^Tagged:\s+yes", info, re.M), info
    assert b"/StructTreeRoot" in data and re.search(rb"/MarkInfo\s*<<\s*/Marked\s+true", data)
    assert re.search(rb"pdfaid:part(>|=\")2", data), "PDF/A part 2 in the XMP metadata"
    assert re.search(rb"pdfaid:conformance(>|=\")B", data), "conformance level B"


def layout_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "read.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          timeout=60).stdout


# ---------------------------------------------------------------- LibreOffice installed

@sqlite_only  # the document is the same on either database
def test_the_cli_writes_the_demo_compilation_as_tagged_pdfa_showing_the_introduction(
        soffice, session, runner, frozen_clock, tmp_path):
    frozen_clock.set(DEMO_NOW)
    load_demo(session, DEMO_NOW, "correct horse battery")
    session.commit()
    round_ = session.scalar(select(ReferralRound).join(Strategy).where(Strategy.case_reference == CASE_REFERENCE))
    target = tmp_path / "sammanstallning.pdf"

    result = runner.invoke("remiss", "compile", str(round_.id), "-o", str(target))

    assert result.exit_code == 0, result.output
    data = target.read_bytes()
    assert data.startswith(b"%PDF")
    assert_tagged_pdfa(data, tmp_path)
    (kept,) = session.scalars(select(Compilation)).all()
    assert kept.pdf_file.data == data and kept.pdf_file.filename.endswith(".pdf")
    assert kept.file.filename.endswith(".docx"), "the Word document is kept beside it"
    words = " ".join(layout_text(data, tmp_path).split())
    for label, value in summarize(session, round_, DEMO_NOW, ZONE).introduction:
        assert " ".join(value.split()) in words, (label, value)
    assert "13 remissinstanser: 9 nämnder, 4 bolag" in words
    # The table of contents was updated on the way: its lines end in page numbers.
    assert re.search(r"^\s*Inledning\s*\.{3,}\s*\d+\s*$", layout_text(data, tmp_path), re.MULTILINE)


def test_skapa_pdf_asks_the_scheduler_which_makes_it_and_the_page_offers_it(soffice, client, session, out,
                                                                             tmp_path):
    client.sign_in(out.officer.email)
    assert f'action="{out.ask}"' in client.get(out.page).text

    asked = client.post(out.ask)

    assert asked.status_code == 302 and asked.headers["Location"].endswith("#kept")
    page = client.get(out.page).text
    assert "PDF:en skapas…" in page and out.download not in page
    session.expire_all()
    assert out.kept.pdf_requested_at is not None and out.kept.pdf_file_id is None, "not made in the request"
    assert client.get(out.download).status_code == 404
    assert client.post(out.ask).status_code == 302  # asking twice queues nothing more

    jobs.tick(session, NOW)  # the scheduler's minute

    session.expire_all()
    assert out.kept.pdf_file_id is not None and out.kept.pdf_requested_at is None
    page = client.get(out.page).text
    assert out.download in page and "PDF:en skapas…" not in page
    download = client.get(out.download)
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.data == out.kept.pdf_file.data
    assert "attachment" in download.headers["Content-Disposition"]
    assert_tagged_pdfa(download.data, tmp_path)
    assert jobs.make_pending_pdfs(session, NOW) == {"made": 0, "failed": 0}


# ---------------------------------------------------------------- LibreOffice missing

def test_without_libreoffice_the_page_says_so_and_nothing_fails(client, session, out, without_libreoffice):
    client.sign_in(out.officer.email)

    page = client.get(out.page)
    assert page.status_code == 200 and NO_LIBREOFFICE in page.text and f'action="{out.ask}"' not in page.text
    asked = client.post(out.ask, follow_redirects=True)
    assert asked.status_code == 200 and NO_LIBREOFFICE in asked.text
    session.expire_all()
    assert out.kept.pdf_requested_at is None

    # Asked for while LibreOffice was there, made by a scheduler where it is not: the page says why.
    out.kept.pdf_requested_at = NOW
    session.commit()
    assert jobs.make_pending_pdfs(session, NOW) == {"made": 0, "failed": 1}
    session.expire_all()
    assert out.kept.pdf_requested_at is None and out.kept.pdf_file_id is None
    page = client.get(out.page)
    assert page.status_code == 200 and page.text.count(NO_LIBREOFFICE) == 2  # the notice, and the failure


def test_without_libreoffice_the_cli_says_so_and_keeps_nothing(runner, session, out, without_libreoffice,
                                                                tmp_path):
    target = tmp_path / "sammanstallning.pdf"

    result = runner.invoke("remiss", "compile", str(out.round.id), "-o", str(target))

    assert result.exit_code != 0 and NO_LIBREOFFICE in result.output
    assert not target.exists()
    assert session.scalars(select(Compilation)).all() == [out.kept], "no compilation kept without its PDF"


@sqlite_only
def test_a_libreoffice_that_fails_or_hangs_gives_a_clear_error(app, monkeypatch, tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    monkeypatch.setenv("PATH", str(fake))
    soffice = fake / "soffice"
    soffice.write_text("#!/bin/sh\necho 'Error: source file could not be loaded' >&2\nexit 1\n")
    soffice.chmod(0o755)
    with pytest.raises(WorkflowError) as failed:
        pdf.docx_to_pdf(b"PK not really a docx")
    assert "source file could not be loaded" in str(failed.value.message)

    soffice.write_text(f"#!/bin/sh\necho $$ > {tmp_path / 'pid'}\nexec /bin/sleep 60\n")
    with pytest.raises(WorkflowError) as hung:
        pdf.docx_to_pdf(b"PK", timeout=1)
    assert "inom 1 sekunder" in str(hung.value.message)
    pid = int((tmp_path / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # killed, not left running
