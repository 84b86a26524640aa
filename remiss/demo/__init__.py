"""The Kalmar demo: the executive office's referral of its international strategy (KS 2020/0946).

The .docx files beside this module are copies of ../shared/fixtures, so the demo
works from a plain clone. Loading is idempotent: what exists is left as it is.
"""
from datetime import datetime, timedelta
from importlib.resources import files

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import accounts, bodies, calendar, drafts, extension_requests, rounds, strategies
from ..models import Body, BodyKind, ReferralRound, Role, Strategy, User

DOMAIN = "demo.kalmar.example"
# The referral went to "KI-Nämndsekreterare; KI-Bolagschefer": Kalmar's boards and companies.
BODIES = [
    ("Socialnämnden", BodyKind.BOARD, "SN"),
    ("Kultur- och fritidsnämnden", BodyKind.BOARD, "KFN"),
    ("Barn- och ungdomsnämnden", BodyKind.BOARD, "BUN"),
    ("Utbildningsnämnden", BodyKind.BOARD, "UN"),
    ("Servicenämnden", BodyKind.BOARD, "SEN"),
    ("Samhällsbyggnadsnämnden", BodyKind.BOARD, "SBN"),
    ("Miljönämnden", BodyKind.BOARD, "MN"),
    ("Omsorgsnämnden", BodyKind.BOARD, "ON"),
    ("Överförmyndarnämnden", BodyKind.BOARD, "ÖFN"),
    ("Kalmarhem AB", BodyKind.COMPANY, "KHEM"),
    ("Kalmar Vatten AB", BodyKind.COMPANY, "KVAB"),
    ("Kalmar Öland Airport AB", BodyKind.COMPANY, "KOA"),
    ("Kalmar kommunbolag AB", BodyKind.COMPANY, "KKB"),
]
STRATEGY_TITLE = "Strategi för internationellt arbete och externfinansierade projekt i Kalmar kommun"
CASE_REFERENCE = "KS 2020/0946"
DRAFT_FILE = "kalmar-strategy-draft.docx"


def _mailbox(code: str) -> str:
    plain = code.lower().replace("ö", "o").replace("ä", "a").replace("å", "a")
    return f"{plain}@{DOMAIN}"


def _ensure_user(session: Session, now: datetime, email: str, **fields) -> User:
    return session.scalar(select(User).where(User.email == email)) or accounts.create_user(
        session, None, now, email=email, **fields)


def load_demo(session: Session, now: datetime, password: str) -> dict:
    """Create what is missing of the demo; returns the logins. The caller commits."""
    by_code = {b.code: b for b in session.scalars(select(Body))}
    for name, kind, code in BODIES:
        if code not in by_code:
            by_code[code] = bodies.create_body(session, None, now, name=name, kind=kind, code=code,
                                               mailbox=_mailbox(code))
    logins = {
        "admin": _ensure_user(session, now, f"admin@{DOMAIN}", name="Systemförvaltare (demo)",
                              role=Role.ADMIN, password=password, title="Systemförvaltare"),
        "officer": _ensure_user(session, now, f"strateg@{DOMAIN}", name="Strateg (demo)", role=Role.OFFICER,
                                password=password, title="Strateg, kommunledningskontoret"),
    }
    for name, _kind, code in BODIES:
        logins[code] = _ensure_user(
            session, now, f"sekreterare.{_mailbox(code)}", name=f"Sekreterare {name} (demo)",
            role=Role.SECRETARY, body_ids=[by_code[code].id], password=password,
            title="Bolagschef" if _kind == BodyKind.COMPANY else "Nämndsekreterare")
    strategy = _ensure_strategy(session, now, logins["officer"])
    _ensure_round(session, now, strategy, logins, [by_code[code] for _n, _k, code in BODIES])
    return logins


def _ensure_strategy(session: Session, now: datetime, officer: User) -> Strategy:
    strategy = session.scalar(select(Strategy).where(Strategy.case_reference == CASE_REFERENCE))
    if strategy is None:
        strategy = strategies.create_strategy(
            session, officer, now, title=STRATEGY_TITLE, case_reference=CASE_REFERENCE, officer=officer,
            description="Strategin anger syfte, mål, inriktning och ansvarsfördelning för det internationella "
                        "arbetet i Kalmar kommun. Den är koncernövergripande.")
    if not strategy.drafts:
        data = files(__package__).joinpath(DRAFT_FILE).read_bytes()
        drafts.import_docx(session, officer, now, strategy, filename=DRAFT_FILE, data=data)
    return strategy


REPLY_LABEL = "Remissvar Internationell strategi"
# The executive office's referral letter (missiv) of 2021-01-27, from ../shared/seeds/000.
COVER_LETTER = """Utvecklingen i omvärlden inverkar på vardagen för både invånare och näringsliv i Kalmar, samtidigt har \
externfinansiering från både EU och nationella myndigheter blivit allt viktigare för att driva utvecklingsarbete i \
svenska kommuner.

Inför EU:s kommande budgetperiod 2021–2027 finns det i kommunstyrelsens verksamhetsplan och budget 2020 ett särskilt \
uppdrag att ta fram en strategi för internationellt arbete i Kalmar kommun. Den internationella strategin anger syfte, \
mål, inriktning och ansvarsfördelning för det internationella arbetet. Strategin är koncernövergripande och betonar \
vikten av att samtliga förvaltningar och bolag arbetar för en ökad användning av extern finansiering i sin \
verksamhetsutveckling.

Med anledning av ovanstående önskar kommunstyrelsens arbetsutskott nämndernas och bolagens synpunkter på förslag till \
”Strategi för internationellt arbete och externfinansierade projekt i Kalmar kommun” enligt bifogad handling."""


def _ensure_round(session: Session, now: datetime, strategy: Strategy, logins: dict, recipients: list[Body]) -> None:
    """The Kalmar round, live relative to `now`: launched eight weeks ago, due in three weeks,
    with one pending anstånd request (kultur- och fritidsnämnden wants its April meeting)."""
    if session.scalar(select(ReferralRound.id).where(ReferralRound.strategy_id == strategy.id)) is not None:
        return
    officer, launched = logins["officer"], now - timedelta(weeks=8)
    deadline = calendar.previous_business_day(calendar.local_date(now + timedelta(weeks=3), _zone()))
    round_ = rounds.create_round(
        session, officer, launched, strategy, draft=strategy.drafts[-1], deadline=deadline,
        body_ids=[b.id for b in recipients], reply_label=REPLY_LABEL, cover_letter=COVER_LETTER,
        reminder_offsets="-14,-7,-2,0,+1,+7", contact=officer)
    rounds.launch_round(session, officer, launched, round_)
    culture = next(r for r in round_.referrals if r.body.code == "KFN")
    extension_requests.request_extension(
        session, logins["KFN"], now - timedelta(days=2), culture,
        requested_deadline=calendar.next_business_day(deadline + timedelta(weeks=2)),
        reason="Nämnden sammanträder först efter sista svarsdag och vill behandla yttrandet på sitt sammanträde.")


def _zone():
    from ..invitations import zone

    return zone()
