"""Uploading a statement in a real browser (the upload goes by XHR with a progress bar): the
result the server answers with is what the user sees, not lost to a second page load."""

from __future__ import annotations

import pytest

from tests.e2e.pages import sign_in
from workflows.verification.statement_sample import SAMPLE_HOLDER, sample_statement_csv

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


@pytest.fixture
def sample_holder(live_app):
    from marketplace.extensions import db
    from tests.factories import EnterpriseFactory, make_enterprise_user

    with live_app.app_context():
        user = make_enterprise_user(enterprise=EnterpriseFactory(name=SAMPLE_HOLDER),
                                    email="upload@sample.e2e")
        db.session.commit()
        email = user.email
        db.session.remove()
    return email


def test_the_upload_result_and_a_duplicate_are_shown(page, live_server, sample_holder, tmp_path):
    sample = tmp_path / "statement-sample.csv"
    sample.write_bytes(sample_statement_csv())
    sign_in(page, live_server, sample_holder)

    page.goto(live_server + "/statements/")
    page.get_by_test_id("statement-format").locator("summary").click()
    assert "贷方发生额" in page.get_by_test_id("statement-headers").inner_text()
    page.get_by_test_id("statement-file").set_input_files(str(sample))
    page.get_by_test_id("statement-submit").click()
    page.get_by_test_id("statement-report").wait_for()
    assert "已导入 6 笔交易，期间 2026-01-05 至 2026-03-02" in page.get_by_test_id("flash").first.inner_text()
    assert "/statements/" in page.url and page.url.rstrip("/").split("/")[-1].isdigit()

    page.goto(live_server + "/statements/")
    page.get_by_test_id("statement-file").set_input_files(str(sample))
    page.get_by_test_id("statement-submit").click()
    page.get_by_test_id("statement-report").wait_for()
    assert "本次未存入任何新数据" in page.get_by_test_id("flash").first.inner_text()
