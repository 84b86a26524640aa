"""Importing a 200-page draft against python-docx merely opening the same file and reading its text.

The draft is the Word corpus's `long-200-pages.docx` (201 pages in LibreOffice, about 79,000 words,
252 automatically numbered headings, a table of contents, a table per chapter and a list per
section). Runs alternate between the two sides and the medians of their CPU times are compared; the
target is a ratio of at most 2.
"""
import io
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

TARGET = 2.0
RUNS = 7
LONG_DRAFT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "word" / "long-200-pages.docx"


def _bare(data: bytes) -> int:
    """python-docx opening the file and reading every paragraph's and cell's text."""
    import docx

    document = docx.Document(io.BytesIO(data))
    words = sum(len(p.text.split()) for p in document.paragraphs)
    for table in document.tables:
        for row in table.rows:
            words += sum(len(cell.text.split()) for cell in row.cells)
    return words


def _cpu(call) -> float:
    start = time.process_time()
    call()
    return time.process_time() - start


def run() -> None:
    from remiss import accounts, drafts, strategies
    from remiss.docx_files import check_docx, parse_docx
    from remiss.extensions import db
    from remiss.models import Role

    from .common import remiss_app

    data = LONG_DRAFT.read_bytes()
    parsed = parse_docx(data)
    words = len(parsed.plain_text().split())
    print(f"draft: {len(data) // 1024} kB .docx, {words} words, {len(parsed.sections)} sections "
          f"(python-docx reads {_bare(data)} words)", flush=True)
    now = datetime(2021, 1, 4, 8, 0, tzinfo=timezone.utc)
    with remiss_app() as app, app.test_request_context():
        officer = accounts.create_user(db.session, None, now, email="strateg@bench.example", name="Strateg",
                                       role=Role.OFFICER)
        strategy = strategies.create_strategy(db.session, officer, now, title="Bench", officer=officer,
                                              case_reference="KS 2021/1")
        limit = app.config["MAX_UPLOAD_SIZE"]

        def full_import():
            drafts.import_docx(db.session, officer, now, strategy, filename="lang.docx", data=data)
            db.session.flush()

        sides = {"bare": lambda: _bare(data), "parse": lambda: (check_docx(data, "lang.docx", limit),
                                                                  parse_docx(data)),
                 "import": full_import}
        times: dict[str, list[float]] = {name: [] for name in sides}
        for name, call in sides.items():
            call()  # warm up
        for _ in range(RUNS):
            for name, call in sides.items():
                times[name].append(_cpu(call))
        db.session.rollback()
    bare, parse, full = (statistics.median(times[n]) for n in ("bare", "parse", "import"))
    for label, value in (("reading the draft (check + parse)", parse), ("the whole import (+ sections stored, "
                                                                        "keys against the previous version)", full)):
        ratio = value / bare
        verdict = "within" if ratio <= TARGET else "OVER"
        print(f"draft import, 200 pages, median of {RUNS} alternated runs: {label} {value * 1000:.0f} ms CPU; "
              f"python-docx open + iterate {bare * 1000:.0f} ms; ratio {ratio:.2f} ({verdict} the target ≤ {TARGET})",
              flush=True)
