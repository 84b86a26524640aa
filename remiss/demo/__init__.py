"""The Kalmar demo: the executive office's referral of its international strategy (KS 2020/0946).

The .docx files beside this module are copies of ../shared/fixtures, so the demo
works from a plain clone. Loading is idempotent: what exists is left as it is.
"""
from datetime import datetime, time, timedelta
from functools import partial
from importlib.resources import files

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import accounts, bodies, calendar, drafts, extension_requests, responses, rounds, strategies
from ..models import Body, BodyKind, ReferralRound, Role, Stance, Strategy, User
from ..responses import ReplyDraft, ReplyFields

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
    """The Kalmar round, live relative to `now`, with its replies, so it can be compiled at once."""
    if session.scalar(select(ReferralRound.id).where(ReferralRound.strategy_id == strategy.id)) is not None:
        return
    # Launched eight weeks ago and due on the last business day at least four days ago (`--today
    # 2021-03-30` gives the real round's 26 March 2021). The main deadline has passed, so the board
    # shows what the officer meets when compiling — a late reply, bodies that never answered — while
    # the anstånd granted below (three weeks past it) is still ahead: that body can answer on time.
    officer, launched, zone = logins["officer"], now - timedelta(weeks=8), _zone()
    deadline = calendar.previous_business_day(calendar.local_date(now - timedelta(days=4), zone))
    round_ = rounds.create_round(
        session, officer, launched, strategy, draft=strategy.drafts[-1], deadline=deadline,
        body_ids=[b.id for b in recipients], reply_label=REPLY_LABEL, cover_letter=COVER_LETTER,
        reminder_offsets="-14,-7,-2,0,+1,+7", contact=officer)
    rounds.launch_round(session, officer, launched, round_)
    steps = _timeline(session, now, round_, logins, zone)
    for _when, step in sorted(steps, key=lambda s: s[0]):  # in the order they happened, as the audit log reads
        step()


def _timeline(session: Session, now: datetime, round_: ReferralRound, logins: dict, zone) -> list:
    """(when, step) for everything the bodies and the officer did after the launch. Every step is a
    workflow call at its own past `now`, so versions, receipts and audit events are real."""
    referrals = {r.body.code: r for r in round_.referrals}

    def at(business_days_before: int, hour: int, minute: int = 0) -> datetime:
        day = round_.deadline
        for _ in range(business_days_before):
            day = calendar.previous_business_day(day - timedelta(days=1))
        return datetime.combine(day, time(hour, minute), tzinfo=zone)

    return (_reply_steps(session, now, round_, referrals, logins, zone, at)
            + _registered_steps(session, now, round_, referrals, logins, zone)
            + _extension_steps(session, round_.deadline, referrals, logins, at))


def _reply_steps(session: Session, now: datetime, round_: ReferralRound, referrals: dict, logins: dict, zone,
                 at) -> list:
    steps = []
    for code, reply in REPLIES.items():
        saved = at(reply["saved"], 9, 30)
        # Utbildningsnämnden's board met after the deadline: it sends its reply yesterday, late.
        sent = now - timedelta(days=1) if reply["sent"] is None else at(reply["sent"], 14, 15)
        decided = at(reply["decided"], 12).date() if reply["sent"] is not None else \
            calendar.local_date(now - timedelta(days=2), zone)
        draft = _reply_draft(round_, reply, decided)
        steps += [(saved, partial(_save, session, logins[code], saved, referrals[code], draft)),
                  (sent, partial(_submit, session, logins[code], sent, referrals[code]))]
    social = _social_board_reply(round_, decided=at(3, 12).date())
    steps += [(at(5, 10), partial(_save, session, logins["SN"], at(5, 10), referrals["SN"], social,
                                  attach=SOCIAL_BOARD_REPLY)),
              (at(2, 11), partial(_submit, session, logins["SN"], at(2, 11), referrals["SN"]))]
    steps.append((at(12, 10), partial(
        responses.decline, session, logins["ÖFN"], at(12, 10), referrals["ÖFN"],
        "Strategin berör överförmyndarnämndens verksamhet endast i liten utsträckning. Nämnden avstår "
        "därför från att yttra sig.")))
    return steps


def _registered_steps(session: Session, now: datetime, round_: ReferralRound, referrals: dict, logins: dict,
                      zone) -> list:
    """Omsorgsnämnden e-mailed its reply as a letter; the officer registered it two working days after it
    came in, the first working day after the deadline. By the date it came in, it is on time."""
    registered = datetime.combine(calendar.next_business_day(round_.deadline + timedelta(days=1)), time(10, 30),
                                  tzinfo=zone)
    registered = min(registered, now - timedelta(hours=1))  # a demo loaded just after a long holiday
    received = calendar.local_date(registered, zone)
    for _ in range(2):
        received = calendar.previous_business_day(received - timedelta(days=1))
    decided = calendar.previous_business_day(received - timedelta(days=3))
    sections = _section_ids(round_)
    draft = ReplyDraft(
        ReplyFields(stance=Stance.APPROVES_WITH_COMMENTS.value,
                    summary="Omsorgsnämnden ställer sig bakom förslaget till strategi. Internationellt utbyte kan "
                            "bidra till kompetensförsörjningen inom vård och omsorg.",
                    proposed_decision="Omsorgsnämnden antar yttrandet och överlämnar det till kommunstyrelsen.",
                    case_reference="ON 2021/0038", deciding_body="Omsorgsnämnden", decision_date=decided,
                    decision_paragraph="22", signatory_title="Förvaltningschef"),
        {sections["Principer för genomförande"]:
            "Projekt som rör omsorgens brukare behöver planeras så att verksamheten inte påverkas av att "
            "personal deltar i utbyten. Nämnden föreslår att det framgår av principerna.",
         sections["Uppföljning"]:
            "Nämnden vill att uppföljningen redovisar hur många medarbetare som har deltagit i "
            "internationella utbyten, per förvaltning."})
    return [(registered, partial(responses.register_reply, session, logins["officer"], registered,
                                 referrals["ON"], received_on=received, draft=draft))]


def _extension_steps(session: Session, deadline, referrals: dict, logins: dict, at) -> list:
    # Samhällsbyggnadsnämnden asked for three more weeks and got them: its deadline is still ahead.
    extended = calendar.next_business_day(deadline + timedelta(weeks=3))
    return [
        (at(10, 8, 45), partial(
            extension_requests.request_extension, session, logins["SBN"], at(10, 8, 45), referrals["SBN"],
            requested_deadline=extended,
            reason="Yttrandet bereds tillsammans med översiktsplanen och kan behandlas av nämnden först på "
                   "sammanträdet tre veckor efter sista svarsdag.")),
        (at(9, 13), partial(
            extension_requests.grant_extension, session, logins["officer"], at(9, 13), referrals["SBN"],
            deadline=extended, reason="Anstånd beviljas så att nämnden kan behandla yttrandet på sitt sammanträde.")),
        # Kultur- och fritidsnämnden asked in time for its April meeting; the request waits for the officer.
        (at(3, 16), partial(
            extension_requests.request_extension, session, logins["KFN"], at(3, 16), referrals["KFN"],
            requested_deadline=calendar.next_business_day(deadline + timedelta(weeks=2)),
            reason="Nämnden sammanträder först efter sista svarsdag och vill behandla yttrandet på sitt "
                   "sammanträde.")),
    ]


def _save(session: Session, secretary: User, when: datetime, referral, draft: ReplyDraft,
          attach: str | None = None) -> None:
    responses.save_reply(session, secretary, when, referral, version=None, draft=draft)
    if attach:
        responses.add_attachment(session, secretary, when, referral, filename=attach,
                                 data=files(__package__).joinpath(attach).read_bytes(),
                                 description="Tjänsteskrivelse med förslag till yttrande")


def _submit(session: Session, secretary: User, when: datetime, referral) -> None:
    version = responses.response_of(session, referral).lock_version
    responses.submit_reply(session, secretary, when, referral, version=version)


def _section_ids(round_: ReferralRound) -> dict[str, int]:
    return {s.heading: s.id for s in round_.draft.sections}


def _reply_draft(round_: ReferralRound, reply: dict, decided) -> ReplyDraft:
    sections = _section_ids(round_)
    fields = ReplyFields(stance=reply["stance"], summary=reply["summary"],
                         proposed_decision=reply.get("proposed_decision", ""),
                         case_reference=reply["case_reference"], deciding_body=reply["deciding_body"],
                         decision_date=decided if reply.get("paragraph") else None,
                         decision_paragraph=reply.get("paragraph", ""), signatory_title=reply["signatory_title"])
    comments = {sections[heading]: text for heading, text in reply.get("comments", {}).items()}
    return ReplyDraft(fields, comments, reply.get("general", ""))


def _social_board_reply(round_: ReferralRound, decided) -> ReplyDraft:
    """Socialnämnden's real reply of March 2021, read from its Word file the way an upload is."""
    from ..reply_documents import read_reply_docx

    found = read_reply_docx(files(__package__).joinpath(SOCIAL_BOARD_REPLY).read_bytes(),
                            round_.draft.sections, filename=SOCIAL_BOARD_REPLY,
                            strategy_reference=CASE_REFERENCE)
    fields = ReplyFields(stance=Stance.APPROVES_WITH_COMMENTS.value, summary=found.summary,
                         proposed_decision=found.proposed_decision, case_reference=found.case_reference,
                         deciding_body=found.deciding_body, decision_date=decided,
                         signatory_name=found.signatory_name, signatory_title=found.signatory_title)
    return ReplyDraft(fields, dict(found.comments), found.general_comments)


SOCIAL_BOARD_REPLY = "kalmar-social-board-reply.docx"
# The other bodies' replies, in the style of the real one: "saved", "sent" and "decided" are business
# days before the deadline; "sent" None is a reply sent after it, decided at a meeting after the deadline.
# A decision date goes with a §.
REPLIES = {
    "KVAB": {
        "stance": Stance.NO_COMMENTS.value, "saved": 15, "sent": 15, "decided": 15,
        "summary": "Kalmar Vatten AB har tagit del av förslaget till strategi och har inga synpunkter på det.",
        "case_reference": "KVAB 2021/014", "deciding_body": "Kalmar Vatten AB", "signatory_title": "VD",
    },
    "KHEM": {
        "stance": Stance.APPROVES.value, "saved": 9, "sent": 8, "decided": 9, "paragraph": "12",
        "summary": "Kalmarhem AB tillstyrker förslaget till strategi för internationellt arbete.",
        "proposed_decision": "Styrelsen för Kalmarhem AB tillstyrker förslaget och överlämnar yttrandet till "
                             "kommunstyrelsen.",
        "comments": {
            "Samverkan och strategiska partnerskap":
                "Bolaget deltar redan i nätverk om energieffektivisering av bostadsbeståndet runt Östersjön och "
                "ser gärna att sådana branschnätverk räknas till de strategiskt viktiga nätverken.",
            "Förvaltningar/ kommunala bolag":
                "Ett internationellt perspektiv förs in i bolagets affärsplan från och med 2022.",
        },
        "case_reference": "KHEM 2021/0031", "deciding_body": "Styrelsen för Kalmarhem AB",
        "signatory_title": "VD",
    },
    "MN": {
        "stance": Stance.REJECTS.value, "saved": 7, "sent": 4, "decided": 5, "paragraph": "41",
        "summary": "Miljönämnden avstyrker förslaget i dess nuvarande utformning. Nämnden delar strategins syfte, "
                   "men klimatpåverkan från resorna och kraven på nämndernas resurser behöver ses över innan "
                   "strategin antas.",
        "proposed_decision": "Miljönämnden avstyrker förslaget till strategi och överlämnar yttrandet till "
                             "kommunstyrelsen.",
        "comments": {
            "Principer för genomförande":
                "Att flygresor klimatkompenseras räcker inte. Strategin bör ange att resor inom Europa i första "
                "hand görs med tåg och att digitala möten är förstahandsvalet, i linje med kommunens "
                "miljöprogram.",
            "Nämnder och bolagsstyrelser i kommunkoncernen":
                "Kravet att varje nämnd ska resurssätta det internationella arbetet är inte finansierat. "
                "Miljönämndens tillsyn är till stor del avgiftsfinansierad och nämnden kan inte avsätta egna "
                "resurser utan att tillsynen blir lidande.",
            "Uppföljning":
                "Indikatorerna mäter aktivitet, inte nytta. Nämnden föreslår indikatorer för vad projekten har "
                "gett i verksamheten och för resornas klimatpåverkan.",
        },
        "general": "Nämnden medverkar gärna när strategin arbetas om.",
        "case_reference": "MN 2021/0112", "deciding_body": "Miljönämnden", "signatory_title": "Miljöchef",
    },
    "BUN": {
        "stance": Stance.APPROVES_WITH_COMMENTS.value, "saved": 6, "sent": 1, "decided": 2, "paragraph": "27",
        "summary": "Barn- och ungdomsnämnden ställer sig positiv till förslaget. Internationellt samarbete kan "
                   "bidra till att utveckla förskolan och grundskolan.",
        "proposed_decision": "Barn- och ungdomsnämnden antar förvaltningens förslag till yttrande och överlämnar "
                             "det till kommunstyrelsen.",
        "comments": {
            "Profilering och marknadsföring":
                "Skolornas internationella utbyten, till exempel inom Erasmus+, synliggör Kalmar och bör nämnas "
                "här. Även förskolans personal bör omfattas av möjligheten till internationellt utbyte.",
            "Principer för genomförande":
                "Nämnden välkomnar att ett barn- och ungdomsfokus ska prioriteras i samarbetet med vänorterna och "
                "föreslår att det också framgår att barns rätt att komma till tals, enligt barnkonventionen, "
                "ska beaktas i projekt som rör barn och unga.",
            "Samordning av internationellt arbete":
                "Stödet från kommunledningskontoret bör även omfatta redovisning och revision av beviljade "
                "projekt, som ofta är det mest resurskrävande momentet för en förvaltning.",
        },
        "general": "Strategin bör beskriva hur resultat från projekten tas till vara i den ordinarie verksamheten "
                   "när projekttiden är slut.",
        "case_reference": "BUN 2021/0087", "deciding_body": "Barn- och ungdomsnämnden",
        "signatory_title": "Förvaltningschef",
    },
    "UN": {
        "stance": Stance.APPROVES_WITH_COMMENTS.value, "saved": 2, "sent": None, "paragraph": "19",
        "summary": "Utbildningsnämnden tillstyrker förslaget med synpunkter. Ärendet kunde inte behandlas på "
                   "något sammanträde före sista svarsdag, och yttrandet kommer därför in sent.",
        "proposed_decision": "Utbildningsnämnden antar yttrandet som sitt eget och överlämnar det till "
                             "kommunstyrelsen.",
        "comments": {
            "Syfte och mål":
                "Syftet bör kompletteras med att det internationella arbetet ska stärka elevernas och "
                "medarbetarnas internationella kompetens.",
            "Vänorter":
                "Texten anger avtal med nio städer, men förteckningen räknar upp åtta. Uppgiften bör kontrolleras.",
            "Verksamhetsutveckling och extern finansiering":
                "Gymnasieskolan och vuxenutbildningen har lång erfarenhet av Erasmus+. Strategin bör nämna att "
                "skolor kan ackreditera sig i programmet, så att ansökan inte behöver göras för varje projekt.",
        },
        "general": "Utbildningsförvaltningen deltar gärna i ett kommungemensamt nätverk för EU-frågor.",
        "case_reference": "UN 2021/0054", "deciding_body": "Utbildningsnämnden",
        "signatory_title": "Utbildningsdirektör",
    },
}


def _zone():
    from ..invitations import zone

    return zone()
