"""Hostile uploads on the statement page and the receivables import: a quick, clean refusal
(422, the reason in the page's language), nothing stored, parsed in a limited child process."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.receivables.models import Receivable
from marketplace.statements.models import StatementFile
from tests import bombs
from tests.factories import make_enterprise_user

BOMBS = {
    "流水.xlsx": bombs.shared_string_bomb,
    "流水-空行.xlsx": bombs.empty_rows_bomb,
    "流水.xls": bombs.colspan_bomb,
}


@pytest.fixture(scope="module")
def bomb_files():
    return {name: make() for name, make in BOMBS.items()}


@pytest.fixture
def small_child(app):
    """Parse in a child process capped far below what parsing a bomb whole takes."""
    saved = app.config["UPLOAD_PARSE_MEMORY_MB"], app.config["UPLOAD_PARSE_ISOLATED"]
    app.config.update(UPLOAD_PARSE_MEMORY_MB=400, UPLOAD_PARSE_ISOLATED=True)
    yield
    app.config["UPLOAD_PARSE_MEMORY_MB"], app.config["UPLOAD_PARSE_ISOLATED"] = saved


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("name", list(BOMBS))
def test_a_statement_bomb_is_refused_with_422_and_nothing_stored(client, login, small_child, bomb_files, name):
    login(make_enterprise_user())
    response = client.post("/statements/upload", data={"file": (io.BytesIO(bomb_files[name]), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "过大或结构异常，无法解析" in response.get_data(as_text=True)
    assert count(StatementFile) == 0


@pytest.mark.parametrize("name", list(BOMBS))
def test_a_receivables_bomb_is_refused_with_422_and_nothing_stored(client, login, small_child, bomb_files, name):
    login(make_enterprise_user())
    response = client.post("/receivables/import", data={"file": (io.BytesIO(bomb_files[name]), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "过大或结构异常，无法解析" in response.get_data(as_text=True)
    assert count(Receivable) == 0


def test_the_refusal_is_in_english_on_english_pages(client, login, small_child, bomb_files):
    login(make_enterprise_user())
    client.get("/lang/en")
    response = client.post("/receivables/import", data={"file": (io.BytesIO(bomb_files["流水.xls"]), "a.xls")},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "too large or malformed" in response.get_data(as_text=True)


def test_a_parse_that_runs_out_of_time_is_refused_cleanly(app, client, login, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_PARSE_SECONDS", 0.2)
    monkeypatch.setitem(app.config, "UPLOAD_INLINE_BYTES", 0)
    monkeypatch.setattr("marketplace.statements.services.parse_statement", _slow_parse)
    login(make_enterprise_user())
    table = b"<table><tr><td>a</td></tr></table>"
    response = client.post("/statements/upload", data={"file": (io.BytesIO(table), "a.xls")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "文件过大或结构异常，无法解析" in response.get_data(as_text=True)
    assert count(StatementFile) == 0


def _slow_parse(data, filename, limits):
    import time
    time.sleep(5)
