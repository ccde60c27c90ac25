"""An answer with attachments: a double click (two submissions of the same answer at once)
leaves one answer, the loser a clear refusal, and exactly the files of the stored rows on disk;
a failure after the files were written removes them; an attachment is served never sniffed,
under a generated ASCII name with the original one beside it."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.datastructures import FileStorage

from marketplace.desks import decisions, info
from marketplace.desks.models import InfoAttachment
from marketplace.extensions import db
from tests.desks.helpers import claimed, routed, target_of

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ORIGINAL = '增值税申报表"2026"\r\n.pdf'


def upload(name: str = ORIGINAL) -> FileStorage:
    return FileStorage(io.BytesIO(PDF), filename=name, content_type="application/pdf")


def stored_files(app) -> set[str]:
    folder = Path(app.config["UPLOAD_FOLDER"]) / "documents"
    return {path.name for path in folder.iterdir()} if folder.exists() else set()


def asked(app):
    case = routed(app)
    target = claimed(app, target_of(case), case.bank_staff)
    with app.test_request_context():
        question = info.ask(target, case.bank_staff, "请补充近6个月增值税纳税申报表")
    return case, question


def test_a_stale_second_submission_is_refused_and_writes_no_file(app):
    case, question = asked(app)
    before = stored_files(app)
    with app.test_request_context():
        info.answer(question, case.owner, "已上传", [upload()])
    first = stored_files(app) - before
    assert len(first) == 1
    set_committed_value(question, "answered_at", None)  # the second click's copy, loaded before the first
    with app.test_request_context(), pytest.raises(decisions.DecisionRefused, match="已经回复过了"):
        info.answer(question, case.owner, "已上传", [upload()])
    assert stored_files(app) - before == first


def test_a_failure_before_or_after_the_files_are_written_leaves_none(app, monkeypatch):
    case, question = asked(app)
    db.session.commit()
    before = stored_files(app)
    with monkeypatch.context() as patch:
        patch.setattr(info, "notify", _broken)
        with app.test_request_context(), pytest.raises(RuntimeError):
            info.answer(question, case.owner, "已上传", [upload()])
        assert stored_files(app) == before  # not written yet
    db.session.rollback()
    real = info._write_files

    def written_then_broken(files):
        real(files)
        assert stored_files(app) != before
        raise RuntimeError("the commit failed")

    monkeypatch.setattr(info, "_write_files", written_then_broken)
    with app.test_request_context(), pytest.raises(RuntimeError):
        info.answer(question, case.owner, "已上传", [upload()])
    db.session.rollback()
    assert stored_files(app) == before


def _broken(*args, **kwargs):
    raise RuntimeError("the notification could not be stored")


def test_the_attachment_is_served_never_sniffed_under_a_safe_name(app, client, login):
    case, question = asked(app)
    with app.test_request_context():
        info.answer(question, case.owner, "已上传", [upload()])
    db.session.commit()
    (row,) = question.attachments
    login(case.bank_staff)
    response = client.get(f"/institution/requests/{case.request.id}/attachments/{row.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="attachment-{row.id}.pdf"; filename*=UTF-8\'\'')
    assert quote('增值税申报表2026.pdf', safe="") in disposition
    assert "\r" not in disposition and "\n" not in disposition and disposition.count('"') == 2


# --- the real race: two connections, everything committed ----------------------------------------

from tests.desks.test_claim_race import race_app  # noqa: E402, F401  (the fixture: a database of its own)

RACES = 5


@pytest.mark.xdist_group("claim-race")
class TestDoubleClick:
    @pytest.fixture(autouse=True)
    def db_session(self):
        """Real commits in a database of this test's own; no rollback fixture here."""
        yield None

    def test_two_submissions_at_once_leave_one_answer_one_refusal_and_no_orphan(self, race_app):  # noqa: F811
        outcomes = []
        for _ in range(RACES):
            question_id, user_id = self._question(race_app)
            barrier, results = threading.Barrier(2), []
            threads = [threading.Thread(target=self._answer, args=(race_app, question_id, user_id, barrier, results))
                       for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            outcomes.append(sorted(results))
        assert all(result[0] == "answered" and "已经回复过了" in result[1] for result in outcomes), outcomes
        with race_app.app_context():
            rows = set(db.session.scalars(select(InfoAttachment.stored_name)))
            db.session.remove()
        assert len(rows) == RACES and stored_files(race_app) == rows

    @staticmethod
    def _question(app) -> tuple[int, int]:
        with app.app_context():
            case, question = asked(app)
            db.session.commit()
            ids = question.id, case.owner.id
            db.session.remove()
            return ids

    @staticmethod
    def _answer(app, question_id: int, user_id: int, barrier: threading.Barrier, results: list) -> None:
        from marketplace.accounts.models import User
        from marketplace.desks.models import InfoRequest

        with app.test_request_context():
            question = db.session.get(InfoRequest, question_id)
            user = db.session.get(User, user_id)
            question.target.request  # noqa: B018  (loaded before the start line, as the page would have)
            barrier.wait()
            try:
                info.answer(question, user, "已上传", [upload()])
                db.session.commit()
                results.append("answered")
            except decisions.DecisionRefused as refused:
                db.session.rollback()
                results.append(str(refused))
            except Exception as error:  # noqa: BLE001  (a 500 would land here)
                db.session.rollback()
                results.append(f"error: {error!r}")
            finally:
                db.session.remove()
