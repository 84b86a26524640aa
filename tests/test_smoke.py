from remiss.models import Role

from . import builders


def test_officer_signs_in_and_sees_strategies(client, session):
    strategy = builders.create_strategy(session, title="Strategi för internationellt arbete")
    session.commit()
    client.sign_in(strategy.officer.email)
    page = client.get("/strategies/")
    assert page.status_code == 200
    assert "Strategi för internationellt arbete" in page.text


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/strategies/")
    assert response.status_code == 302
    assert response.location.startswith("/sign-in")


def test_invitation_mail_reaches_the_smtp_server(client, session, smtp, runner):
    admin = builders.create_user(session, role=Role.ADMIN)
    body = builders.create_body(session)
    session.commit()
    client.sign_in(admin.email)
    response = client.post("/admin/users/new", {"email": "Ny@Kommun.example", "name": "Ny Sekreterare",
                                                "role": "secretary", "bodies": [str(body.id)], "locale": "sv"})
    assert response.status_code == 302, response.text
    result = runner.invoke("remiss", "outbox", "send")
    assert result.exit_code == 0, result.output
    [mail] = smtp.to("ny@kommun.example")
    assert "/password/" in mail.get_body(("plain",)).get_content()
