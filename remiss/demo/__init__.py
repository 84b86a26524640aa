"""The Kalmar demo: the executive office's referral of its international strategy (KS 2020/0946).

The .docx files beside this module are copies of ../shared/fixtures, so the demo
works from a plain clone. Loading is idempotent: what exists is left as it is.
"""
from datetime import datetime
from importlib.resources import files

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import accounts, bodies, strategies
from ..models import Body, BodyKind, Role, Strategy, User

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
    _ensure_strategy(session, now, logins["officer"])
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
        strategies.add_draft_file(session, officer, now, strategy, filename=DRAFT_FILE, data=data)
    return strategy
