"""The remissammanställning of a round of 300 replies with 20 comments each, against the same text
written with bare python-docx, both measured in this run.

compile_round reads the round from SQLite and writes the whole .docx; the baseline gets the same text
as plain Python data and only builds and saves the document. Printed: the time ratio (each side's best
CPU time of 3, alternating; target ≤ 1.3) with wall times beside it; the peak of Python allocations
during compile_round (tracemalloc) and the peak growth of the resident set of a fresh process compiling
once (target < 100 MB for both); the time split between reading, building the document, drawing the
chart and saving; and the top functions of one profiled run. Targets are printed, not asserted; an
error while compiling exits non-zero.
"""
import cProfile
import io
import json
import pstats
import random
import subprocess
import sys
import sysconfig
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from .common import remiss_app

BODIES = 300
SECTIONS = 20
RUNS = 3
TIME_TARGET = 1.3  # compile_round over bare python-docx
MEMORY_TARGET_MB = 100
HOT_SPOTS = 12
PASSWORD = "bench-password-1"
LAUNCHED = datetime(2021, 1, 27, 9, tzinfo=timezone.utc)
ANSWERED = datetime(2021, 3, 10, 9, tzinfo=timezone.utc)
COMPILED = datetime(2021, 4, 6, 9, tzinfo=timezone.utc)  # after the deadline
DEADLINE = date(2021, 3, 26)
ZONE = ZoneInfo("Europe/Stockholm")
ROOT = Path(__file__).resolve().parent.parent
STANCES = ("approves", "approves_with_comments", "rejects", "no_comments")
HEADINGS = ("Inledning", "Bakgrund", "Syfte och mål", "Vision", "Internationellt samarbete", "Näringsliv",
            "Utbildning", "Kultur och fritid", "Miljö och klimat", "Social hållbarhet", "Digitalisering",
            "Kommunikation", "Organisation", "Ansvar", "Finansiering", "Uppföljning", "Styrdokument",
            "Omvärldsanalys", "Genomförande", "Revidering")
SENTENCES = (
    "Nämnden ser positivt på att strategin tar ett samlat grepp om kommunens internationella arbete.",
    "Det behöver förtydligas vilken förvaltning som ansvarar för uppföljningen av målen.",
    "Formuleringen om samverkan med regionen bör kompletteras med en tidsplan.",
    "Nämnden saknar en beskrivning av hur barn och unga ska få möjlighet att delta.",
    "Kostnaderna för genomförandet redovisas inte, vilket försvårar nämndens bedömning.",
    "Avsnittet bör ta hänsyn till de krav som följer av lagen om offentlig upphandling.",
    "Det är bra att strategin lyfter fram vikten av ett gott värdskap för nyanlända.",
    "Nämnden föreslår att målen formuleras så att de går att mäta och följa upp årligen.",
    "Skrivningen om digitala mötesplatser behöver stämmas av mot kommunens informationssäkerhetspolicy.",
    "Föreningslivet och det civila samhället bör nämnas som viktiga parter i arbetet.",
    "Nämnden vill understryka att resurser för översättning och tolkning behöver säkerställas.",
    "Texten kan med fördel kortas och göras mer lättläst för invånarna.",
    "Miljö- och klimataspekterna av resor i tjänsten bör vägas in när samarbeten planeras.",
    "Ansvarsfördelningen mellan kommunstyrelsen och nämnderna framgår inte tydligt.",
)


@dataclass
class Reply:
    """What one body answered, as plain data: the baseline's whole input."""

    body_name: str
    stance: str
    case_reference: str
    comments: list[str]  # one per section, in draft order
    general_comments: str
    summary: str
    proposed_decision: str
    deciding_body: str
    decision_date: date
    decision_paragraph: str
    signatory_name: str
    signatory_title: str


def _text(rng: random.Random, low: int = 300, high: int = 600) -> str:
    """Swedish prose of `low`–`high` characters, one line."""
    wanted, words = rng.randint(low, high), []
    while sum(len(w) + 1 for w in words) < wanted:
        words.append(rng.choice(SENTENCES))
    return " ".join(words)[:wanted].rstrip() + "."


def _replies() -> list[Reply]:
    rng = random.Random(946)
    return [Reply(body_name=f"Nämnd {i:03d}", stance=STANCES[i % len(STANCES)], case_reference=f"N{i} 2021/{i + 1}",
                  comments=[_text(rng) for _ in range(SECTIONS)], general_comments=_text(rng),
                  summary=_text(rng, 200, 400), proposed_decision=_text(rng, 100, 200),
                  deciding_body=f"Nämnd {i:03d}", decision_date=date(2021, 3, 1 + i % 20),
                  decision_paragraph=str(10 + i % 40), signatory_name="Anna Ordförande",
                  signatory_title="ordförande") for i in range(BODIES)]


def _draft_text() -> str:
    return "\n\n".join(f"# {heading}\nText om {heading.lower()}." for heading in HEADINGS[:SECTIONS])


# --- setup: the round through the workflow ----------------------------------------------------------

def _seed(app, replies: list[Reply]) -> int:
    """300 bodies with a secretary each, a 20-section draft, a launched round, and every reply saved and
    submitted through remiss.responses (receipts and mails queued as in use). Returns the round's id."""
    from remiss import accounts, bodies, drafts, responses, rounds, strategies
    from remiss.extensions import db
    from remiss.models import Role
    from remiss.responses import ReplyDraft, ReplyFields

    with app.app_context():
        s = db.session
        officer = accounts.create_user(s, None, LAUNCHED, email="strateg@bench.example", name="Stina Strateg",
                                       role=Role.OFFICER, password=PASSWORD)
        secretaries = {}
        for i, reply in enumerate(replies):
            body = bodies.create_body(s, None, LAUNCHED, name=reply.body_name, kind="board", code=f"N{i}",
                                      mailbox=f"n{i}@bench.example")
            secretaries[body.id] = accounts.create_user(s, None, LAUNCHED, email=f"sekreterare{i}@bench.example",
                                                        name=f"Sekreterare {i}", role=Role.SECRETARY,
                                                        body_ids=[body.id], password=PASSWORD)
        strategy = strategies.create_strategy(s, officer, LAUNCHED, title="Internationell strategi",
                                              officer=officer, case_reference="KS 2020/0946")
        draft = drafts.import_text(s, officer, LAUNCHED, strategy, text=_draft_text())
        assert len(draft.sections) == SECTIONS, f"the draft has {len(draft.sections)} sections"
        round_ = rounds.create_round(s, officer, LAUNCHED, strategy, draft=draft, deadline=DEADLINE,
                                     body_ids=list(secretaries), reply_label="Remissvar Internationell strategi",
                                     cover_letter="Missiv.", reminder_offsets="-7,0", contact=officer)
        rounds.launch_round(s, officer, LAUNCHED, round_)
        s.commit()
        by_name = {r.body_name: r for r in replies}
        section_ids = [section.id for section in draft.sections]
        for referral in round_.referrals:
            reply, secretary = by_name[referral.body.name], secretaries[referral.body_id]
            fields = ReplyFields(stance=reply.stance, summary=reply.summary,
                                 proposed_decision=reply.proposed_decision, case_reference=reply.case_reference,
                                 deciding_body=reply.deciding_body, decision_date=reply.decision_date,
                                 decision_paragraph=reply.decision_paragraph, signatory_name=reply.signatory_name,
                                 signatory_title=reply.signatory_title)
            saved = responses.save_reply(s, secretary, ANSWERED, referral, version=None, draft=ReplyDraft(
                fields, dict(zip(section_ids, reply.comments)), reply.general_comments))
            responses.submit_reply(s, secretary, ANSWERED, referral, version=saved.lock_version)
            s.commit()
        round_id = round_.id
        s.remove()
        return round_id


# --- the two sides ----------------------------------------------------------------------------------

def _project(app, round_id: int) -> bytes:
    """compile_round as a request would call it: a fresh session, the round loaded first."""
    from remiss.compilation import compile_round
    from remiss.extensions import db
    from remiss.models import ReferralRound

    with app.app_context():
        round_ = db.session.get(ReferralRound, round_id)
        try:
            return compile_round(db.session, round_, COMPILED, ZONE)
        finally:
            db.session.remove()


def _bare(replies: list[Reply]) -> bytes:
    """The same text with plain python-docx: styles looked up once, the table filled row by row."""
    import docx

    document = docx.Document()
    styles = document.styles
    title, h1, h2 = styles["Title"], styles["Heading 1"], styles["Heading 2"]

    def fact(label: str, value: str) -> None:
        paragraph = document.add_paragraph()
        paragraph.add_run(f"{label}: ").bold = True
        paragraph.add_run(value)

    document.add_paragraph("Internationell strategi", style=title)
    document.add_paragraph("Remissammanställning")
    for label, value in (("Diarienummer", "KS 2020/0946"), ("Remissen skickades", "27 januari 2021"),
                         ("Sista svarsdag", "26 mars 2021"), ("Handläggare", "Stina Strateg"),
                         ("Sammanställd", "6 april 2021")):
        fact(label, value)
    document.add_page_break()

    document.add_paragraph("Översikt", style=h1)
    table = document.add_table(rows=len(replies) + 1, cols=5)
    table.style = styles["Table Grid"]
    values = [("Remissinstans", "Svar", "Datum", "Ställningstagande", "Deras diarienummer")]
    values += [(r.body_name, "Inskickat", "10 mars 2021", r.stance, r.case_reference) for r in replies]
    for row, texts in zip(table.rows, values):
        for cell, text in zip(row.cells, texts):
            cell.text = text

    for n, heading in enumerate(HEADINGS[:SECTIONS]):
        document.add_paragraph(heading, style=h1)
        for reply in replies:
            paragraph = document.add_paragraph()
            paragraph.add_run(f"{reply.body_name}: ").bold = True
            paragraph.add_run(reply.comments[n])
    document.add_paragraph("Övriga synpunkter", style=h1)
    for reply in replies:
        paragraph = document.add_paragraph()
        paragraph.add_run(f"{reply.body_name}: ").bold = True
        paragraph.add_run(reply.general_comments)
    document.add_paragraph("Remissinstanser som inte svarat", style=h1)
    document.add_paragraph("Alla remissinstanser har svarat.")

    document.add_paragraph("Bilaga: remissvaren i sin helhet", style=h1)
    for reply in replies:
        document.add_paragraph(reply.body_name, style=h2)
        for label, value in (("Ställningstagande", reply.stance), ("Deras diarienummer", reply.case_reference),
                             ("Inskickat", "10 mars 2021"), ("Beslutande organ", reply.deciding_body),
                             ("Beslutsdatum", reply.decision_date.isoformat()),
                             ("Paragraf", f"§ {reply.decision_paragraph}"),
                             ("Underskrift", f"{reply.signatory_name}, {reply.signatory_title}")):
            fact(label, value)
        for label, text in (("Sammanfattning", reply.summary), ("Förslag till beslut", reply.proposed_decision)):
            document.add_paragraph().add_run(f"{label}:").bold = True
            document.add_paragraph(text)

    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _check_same_text(project: bytes, bare: bytes, replies: list[Reply]) -> None:
    """Both documents hold every comment: the ratio compares the same work."""
    import docx

    for name, data in (("compile_round", project), ("bare python-docx", bare)):
        text = "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)
        missing = sum(comment not in text for reply in replies for comment in reply.comments)
        assert not missing, f"{name}: {missing} comments missing from the document"


def _best_times(app, round_id: int, replies: list[Reply]) -> tuple[dict, dict]:
    """Each side's best CPU and wall time over RUNS runs, alternating which goes first, and its document;
    the first run of each also warms up. The ratio is of CPU time: both sides run on one core, and the
    machine may be busy with other work that wall time would count."""
    sides = (lambda: _project(app, round_id), lambda: _bare(replies))
    results = ({"cpu": [], "wall": []}, {"cpu": [], "wall": []})
    for n in range(RUNS):
        for side in ((0, 1) if n % 2 == 0 else (1, 0)):
            cpu, wall = time.process_time(), time.perf_counter()
            results[side]["document"] = sides[side]()
            results[side]["cpu"].append(time.process_time() - cpu)
            results[side]["wall"].append(time.perf_counter() - wall)
    return tuple({"cpu": min(r["cpu"]), "wall": min(r["wall"]), "document": r["document"]} for r in results)


# --- memory -----------------------------------------------------------------------------------------

def _child(settings: str, round_id: int) -> None:
    """In a fresh process: the resident set before one compile_round and its peak during it, then the
    tracemalloc peak of a second compile. Prints JSON.

    The peak is the kernel's VmHWM of this process: getrusage's ru_maxrss would not do, as on Linux a
    child starts with its parent's maximum (here the parent holds the whole seeded round). Modules that
    compile_round imports on first use are imported before the first reading, as a worker has them."""
    import importlib
    import tracemalloc

    from remiss import create_app
    from remiss.compilation import compile_round
    from remiss.extensions import db
    from remiss.models import ReferralRound

    for name in ("docx", "remiss.dispositions", "remiss.compilation_document", "PIL.Image", "PIL.ImageDraw",
                 "PIL.ImageFont", "PIL.PngImagePlugin"):
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    app = create_app(json.loads(settings))
    with app.app_context():
        round_ = db.session.get(ReferralRound, round_id)
        before = _resident_kb("VmRSS")
        size = len(compile_round(db.session, round_, COMPILED, ZONE))
        peak = _resident_kb("VmHWM")
        db.session.remove()
        round_ = db.session.get(ReferralRound, round_id)
        tracemalloc.start()
        compile_round(db.session, round_, COMPILED, ZONE)
        traced = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    print(json.dumps({"rss_before_kb": before, "rss_peak_kb": peak, "traced_peak": traced, "size": size}))


def _resident_kb(field: str) -> int | None:
    """VmRSS (now) or VmHWM (peak) of this process in kB; None where /proc has no such line."""
    try:
        with open("/proc/self/status") as status:
            return next((int(line.split()[1]) for line in status if line.startswith(field + ":")), None)
    except OSError:
        return None


def _memory(app, round_id: int) -> dict:
    settings = {key: app.config[key] for key in ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI")}
    code = f"from bench.compilation import _child; _child({json.dumps(settings)!r}, {round_id})"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    if done.returncode:
        raise RuntimeError(f"the memory measurement failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- where the time goes ----------------------------------------------------------------------------

# Where compile_round reads, draws the chart and saves; what is missing (the module was reworked) is skipped.
READING = (("remiss.compilation", "summarize"), ("remiss.compilation", "latest_entries"),
           ("remiss.dispositions", "handling_rows"))
CHART = (("remiss.compilation_document", "chart_png"),)
SAVING = (("docx.document", "Document.save"),)


@contextmanager
def _timed(places, totals: dict, label: str):
    """Add the CPU time of the outermost call to any of `places` (module, attribute path) to
    totals[label]; while one runs, totals[label + " depth"] is above zero. Put back afterwards."""
    import importlib

    totals.setdefault(label, 0.0)
    depth = label + " depth"
    totals[depth] = 0
    patched = []
    for module_name, path in places:
        try:
            owner = importlib.import_module(module_name)
        except ImportError:
            continue
        *parents, name = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent, None)
        original = getattr(owner, name, None) if owner is not None else None
        if original is None:
            continue

        def wrapper(*args, _original=original, **kwargs):
            start = time.process_time()
            totals[depth] += 1
            try:
                return _original(*args, **kwargs)
            finally:
                totals[depth] -= 1
                if not totals[depth]:
                    totals[label] += time.process_time() - start

        setattr(owner, name, wrapper)
        patched.append((owner, name, original))
    try:
        yield
    finally:
        for owner, name, original in reversed(patched):
            setattr(owner, name, original)


def _split(app, round_id: int) -> dict:
    """One compile, its CPU time in parts: reading (the reading functions, and any SQL run outside them, such as
    lazy loads), the chart, saving, and the rest, which is building the document."""
    from sqlalchemy import event

    from remiss.extensions import db

    totals = {"lazy": 0.0, "statements": 0}
    started: list[float] = []

    def before_statement(*_):
        totals["statements"] += 1
        started.append(time.process_time())

    def after_statement(*_):
        elapsed = time.process_time() - started.pop()
        if not totals["read depth"]:
            totals["lazy"] += elapsed

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before_statement)
    event.listen(engine, "after_cursor_execute", after_statement)
    try:
        with _timed(READING, totals, "read"), _timed(CHART, totals, "chart"), _timed(SAVING, totals, "save"):
            start = time.process_time()
            _project(app, round_id)
            total = time.process_time() - start
    finally:
        event.remove(engine, "before_cursor_execute", before_statement)
        event.remove(engine, "after_cursor_execute", after_statement)
    parts = {"read": totals["read"] + totals["lazy"], "chart": totals["chart"], "save": totals["save"]}
    return {"total": total, **parts, "build": total - sum(parts.values()), "statements": totals["statements"]}


def _hot_spots(app, round_id: int) -> tuple[list[str], list[str]]:
    """One profiled compile: the functions with the most time of their own, then the project's own
    functions (remiss/) by time including what they call."""
    site_packages = sysconfig.get_paths()["purelib"] + "/"
    profile = cProfile.Profile()
    profile.runcall(_project, app, round_id)
    listings = []
    for order, restrictions in (("tottime", (HOT_SPOTS,)), ("cumulative", (r"/remiss/", HOT_SPOTS // 2))):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(order).print_stats(*restrictions)
        lines = out.getvalue().splitlines()
        header = next(n for n, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
        listings.append([line.replace(site_packages, "").replace(str(ROOT) + "/", "")
                         for line in lines[header:] if line.strip()])
    return listings[0], listings[1]


# --- the benchmark ----------------------------------------------------------------------------------

def run() -> None:
    replies = _replies()
    with remiss_app() as app:
        try:
            start = time.perf_counter()
            round_id = _seed(app, replies)
            print(f"setup: {BODIES} replies × {SECTIONS} comments saved and submitted through the workflow in "
                  f"{time.perf_counter() - start:.0f} s (not measured)", flush=True)
            _measure(app, round_id, replies)
        except Exception as error:  # noqa: BLE001 - reported; the other benchmarks still run
            import traceback

            print(f"compilation: {type(error).__name__}: {error}")
            traceback.print_exc(limit=-6)
            raise SystemExit(1) from error


def _measure(app, round_id: int, replies: list[Reply]) -> None:
    """Time, memory, the split and the hot spots, each printed as soon as measured."""
    project, bare = _best_times(app, round_id, replies)
    _check_same_text(project["document"], bare["document"], replies)
    ratio = project["cpu"] / bare["cpu"]
    print(f"compilation, {BODIES} replies × {SECTIONS} comments, best of {RUNS}: compile_round {project['cpu']:.2f} s "
          f"CPU ({project['wall']:.2f} s wall, {len(project['document']) // 1024} kB .docx); bare python-docx "
          f"{bare['cpu']:.2f} s CPU ({bare['wall']:.2f} s wall, {len(bare['document']) // 1024} kB); "
          f"ratio {ratio:.2f} {_target(ratio <= TIME_TARGET, f'≤ {TIME_TARGET}')}", flush=True)

    memory = _memory(app, round_id)
    traced = memory["traced_peak"] / 2**20
    print(f"tracemalloc peak during compile_round: {traced:.1f} MB "
          f"{_target(traced < MEMORY_TARGET_MB, f'< {MEMORY_TARGET_MB} MB')} "
          f"(Python objects only; lxml's XML tree is outside it)")
    if memory["rss_before_kb"] is None or memory["rss_peak_kb"] is None:
        print("resident memory of a fresh process: not measured (no /proc/self/status here)")
    else:
        grown = (memory["rss_peak_kb"] - memory["rss_before_kb"]) / 1024
        print(f"resident memory of a fresh process compiling once: {memory['rss_before_kb'] / 1024:.0f} MB "
              f"before, peak {memory['rss_peak_kb'] / 1024:.0f} MB, growth {grown:.0f} MB "
              f"{_target(grown < MEMORY_TARGET_MB, f'< {MEMORY_TARGET_MB} MB')}")

    split = _split(app, round_id)
    print(f"one compile_round in parts ({split['total']:.2f} s CPU, {split['statements']} SQL statements): "
          + ", ".join(f"{label} {split[key]:.2f} s ({split[key] / split['total']:.0%})"
                      for label, key in (("reading", "read"), ("building", "build"), ("chart", "chart"),
                                         ("saving", "save"))), flush=True)
    own, project_functions = _hot_spots(app, round_id)
    print(f"one profiled compile_round, the {HOT_SPOTS} functions with the most time of their own:")
    for line in own:
        print(f"  {line}")
    print("and the project's functions by time including what they call:")
    for line in project_functions:
        print(f"  {line}")


def _target(met: bool, target: str) -> str:
    return f"(target {target}: {'met' if met else 'missed'})"
