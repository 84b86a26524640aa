"""The officer's matters (ärenden): creating, editing, where each stands, and its history."""
import re

from sqlalchemy import func, select

from remiss.models import AuditEvent, RoundState, Strategy

from . import builders


def test_officer_creates_a_strategy_and_is_taken_to_add_its_draft(client, session):
    officer = builders.create_officer(session)
    session.commit()
    client.sign_in(officer.email)

    response = client.post("/strategies/new", {"title": "Strategi för internationellt arbete",
                                               "case_reference": "  KS  2020/0946 ", "officer": str(officer.id),
                                               "description": "Koncernövergripande."})

    strategy = session.scalars(select(Strategy)).one()
    assert response.status_code == 302
    assert response.location == f"/strategies/{strategy.id}/drafts/new"
    assert strategy.case_reference == "KS 2020/0946"
    assert strategy.officer_id == officer.id
    assert session.scalar(select(func.count()).where(AuditEvent.action == "strategy.created")) == 1


def test_a_taken_case_reference_is_refused_and_what_was_typed_is_kept(client, session):
    strategy = builders.create_strategy(session, case_reference="KS 2020/0946")
    session.commit()
    client.sign_in(strategy.officer.email)

    response = client.post("/strategies/new", {"title": "Ett annat ärende", "case_reference": "KS 2020/0946",
                                               "officer": str(strategy.officer_id)})

    assert response.status_code == 422
    assert "Diarienumret används redan av ett annat ärende." in response.text
    assert 'value="Ett annat ärende"' in response.text
    assert session.scalar(select(func.count(Strategy.id))) == 1


def test_officer_edits_a_strategy_and_the_change_is_in_its_history(client, session):
    strategy = builders.create_strategy(session, title="Gammal titel")
    session.commit()
    client.sign_in(strategy.officer.email)

    response = client.post(f"/strategies/{strategy.id}/edit", {
        "title": "Ny titel", "case_reference": strategy.case_reference, "officer": str(strategy.officer_id)})

    assert response.status_code == 302
    session.expire_all()
    assert session.get(Strategy, strategy.id).title == "Ny titel"
    page = client.get(f"/strategies/{strategy.id}").text
    assert "Ärendet ändrades" in page
    assert "Ärendet skapades" in page


def test_the_list_says_where_each_strategy_stands(client, session):
    officer = builders.create_officer(session)
    body = builders.create_body(session)
    builders.create_strategy(session, officer=officer, title="Nytt ärende")
    drafted = builders.create_strategy(session, officer=officer, title="Med utkast")
    builders.create_draft(session, drafted)
    out = builders.create_strategy(session, officer=officer, title="Ute på remiss")
    builders.create_round(session, out, [body], state=RoundState.OPEN)
    session.commit()
    client.sign_in(officer.email)

    page = client.get("/strategies/").text

    def state_of(title):
        row = re.search(rf"<tr>(?:(?!</tr>).)*{title}(?:(?!</tr>).)*</tr>", page, re.S).group(0)
        return re.findall(r"<td>([^<]*)</td>", row)[-1]

    assert state_of("Nytt ärende") == "nytt"
    assert state_of("Med utkast") == "utkast finns"
    assert state_of("Ute på remiss") == "på remiss"


def test_a_secretary_cannot_create_a_strategy(client, session):
    secretary = builders.create_secretary(session, builders.create_body(session))
    session.commit()
    client.sign_in(secretary.email)

    assert client.get("/strategies/new").status_code == 404
    assert client.post("/strategies/new", {"title": "x", "case_reference": "KS 1"}).status_code == 404
    assert session.scalar(select(func.count(Strategy.id))) == 0
