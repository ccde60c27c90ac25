"""CSRF applies to changes made with a session cookie, never to bearer-token calls.

The API has no write endpoint yet, so this builds an app with CSRF on and a POST endpoint on an
ApiBlueprint, as the desks' API will have.
"""

from __future__ import annotations

import pytest

from marketplace.api import ApiBlueprint
from marketplace.permissions import ROUTE_ACCESS, SIGNED_IN
from tests.api.conftest import token_headers
from tests.conftest import make_test_config
from tests.factories import make_enterprise_user


@pytest.fixture
def csrf_app(database_url, tmp_path_factory, monkeypatch):
    from marketplace import api, create_app

    probe = ApiBlueprint("api_probe", __name__, url_prefix="/probe", tag="probe")

    @probe.route("", methods=["POST"])
    def echo():
        return {"ok": True}

    real = api._api_blueprints
    monkeypatch.setattr(api, "_api_blueprints", lambda: [*real(), probe])
    monkeypatch.setitem(ROUTE_ACCESS, "api_probe.echo", SIGNED_IN)
    config = make_test_config(database_url, tmp_path_factory) | {"WTF_CSRF_ENABLED": True}
    return create_app(config, instance_path=str(tmp_path_factory.mktemp("instance")))


def test_a_bearer_post_needs_no_csrf_token(csrf_app):
    with csrf_app.test_request_context():
        user = make_enterprise_user()
    headers = token_headers(csrf_app, user)
    response = csrf_app.test_client().post("/api/v1/probe", headers=headers)
    assert response.status_code == 200 and response.json == {"ok": True}


def test_a_session_cookie_post_without_a_csrf_token_is_refused_as_json(csrf_app):
    with csrf_app.test_request_context():
        user = make_enterprise_user()
    client = csrf_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    response = client.post("/api/v1/probe")
    assert response.status_code == 400
    assert response.json["code"] == 400 and response.json["message"]


def test_an_anonymous_post_is_a_401(csrf_app):
    response = csrf_app.test_client().post("/api/v1/probe")
    assert response.status_code == 401 and response.json["code"] == 401
