"""A database connection that drops in the middle of a request (a restart, a failover, a killed
backend) answers a clear 503 page with Retry-After, not a 500; other database errors still take
the 500 path."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from tests.factories import make_enterprise_user


class Dropped(Exception):
    pass


def test_a_dropped_connection_answers_503_with_a_clear_page(app, client, login, monkeypatch):
    from marketplace.financing import views

    def dropped(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Dropped("terminating connection due to administrator command"),
                               connection_invalidated=True)

    monkeypatch.setattr(views, "render_template", dropped)
    login(make_enterprise_user())
    response = client.get("/financing/")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "数据库连接短暂中断" in response.get_data(as_text=True)


def test_other_database_errors_are_not_dressed_as_a_disconnect(app, client, login, monkeypatch):
    from marketplace.financing import views

    def broken(*_args, **_kwargs):
        raise IntegrityError("INSERT", {}, Dropped("duplicate key"))

    monkeypatch.setattr(views, "render_template", broken)
    login(make_enterprise_user())
    with pytest.raises(IntegrityError):  # TESTING propagates what the 500 path would answer
        client.get("/financing/")
