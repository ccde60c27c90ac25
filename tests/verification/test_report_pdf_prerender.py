"""A new verification report's PDF is made by a worker ahead of its first download
(REPORT_PDF_PRERENDER): the download is then a read of the cache, in the default language; a
redelivered task renders nothing again; other languages are rendered on their first download."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from marketplace import pdf
from marketplace.extensions import db
from marketplace.outbox import OutboxMessage
from marketplace.verification import report_document, services
from marketplace.verification.services import reports_of
from tests.verification.cases import build, submit


@pytest.fixture
def prerendering(app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "REPORT_PDF_PRERENDER", True)
    monkeypatch.setitem(app.config, "PDF_CACHE_FOLDER", str(tmp_path / "pdf-cache"))
    return app


def renders_counted(monkeypatch) -> list[int]:
    made = []
    render = pdf.render_pdf

    def counting(template, **context):
        made.append(1)
        return render(template, **context)

    monkeypatch.setattr(report_document, "render_pdf", counting)
    return made


def cached_in(app, case, report, locale="zh_Hans_CN") -> bool:
    with app.test_request_context(), force_locale(locale):
        return pdf.is_cached(report_document.pdf_cache_key(case.request, report))


def test_a_new_reports_pdf_is_rendered_after_the_verification_and_the_download_reads_it(
        prerendering, client, login, monkeypatch):
    app = prerendering
    case = build(app, "excellent")
    made = renders_counted(monkeypatch)
    submit(app, case)  # eager tasks: the verification, then the render it queued
    (report,) = reports_of(case.request.id)
    assert made == [1] and cached_in(app, case, report)
    assert db.session.scalar(select(OutboxMessage.task).where(OutboxMessage.key == f"report-pdf:{report.id}")) \
        == services.RENDER_PDF_TASK

    login(case.owner)
    response = client.get(f"/financing/{case.request.id}/reports/{report.id}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert made == [1]  # read from the cache, not rendered again


def test_a_redelivered_render_renders_nothing_and_a_missing_report_is_said(prerendering, monkeypatch):
    app = prerendering
    case = build(app, "mixed")
    submit(app, case)
    (report,) = reports_of(case.request.id)
    made = renders_counted(monkeypatch)
    with app.test_request_context():
        assert report_document.prerender(report.id) == "cached"
        assert report_document.prerender(report.id + 10_000) == "missing"
    assert made == []


def test_a_report_past_the_pdf_limits_is_refused_quietly_ahead_and_said_on_download(prerendering, client, login,
                                                                                     monkeypatch):
    app = prerendering
    monkeypatch.setitem(app.config, "PDF_MAX_PAGES", 1)
    case = build(app, "excellent")
    submit(app, case)  # the worker's render is refused: the verification and routing stand
    (report,) = reports_of(case.request.id)
    assert not cached_in(app, case, report)
    with app.test_request_context():
        assert report_document.prerender(report.id) == "refused"
    login(case.owner)
    assert client.get(f"/financing/{case.request.id}/reports/{report.id}.pdf").status_code == 503


def test_english_is_rendered_on_its_first_download(prerendering, client, login, monkeypatch):
    app = prerendering
    case = build(app, "excellent")
    submit(app, case)
    (report,) = reports_of(case.request.id)
    assert not cached_in(app, case, report, "en")
    made = renders_counted(monkeypatch)
    login(case.owner)
    client.get("/lang/en")
    response = client.get(f"/financing/{case.request.id}/reports/{report.id}.pdf")
    assert response.status_code == 200 and made == [1] and cached_in(app, case, report, "en")


def test_in_the_embedded_eager_mode_nothing_is_prerendered_unless_asked(app, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_PDF_PRERENDER", None)  # unset: follows the task mode
    case = build(app, "excellent")
    submit(app, case)
    (report,) = reports_of(case.request.id)
    assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.key == f"report-pdf:{report.id}")) is None
