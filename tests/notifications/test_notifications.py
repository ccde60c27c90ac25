"""Notifications: rows at once, email only after the commit, once, and never after a rollback."""

from __future__ import annotations

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.notifications.services import notify
from marketplace.notifications.tasks import send_notification_email
from tests.factories import make_enterprise_user


def test_email_is_sent_after_the_commit_and_only_once(app, caplog):
    user = make_enterprise_user(email="n@ent.cn")
    with app.test_request_context():
        caplog.set_level("INFO")
        (row,) = notify([user], "test", "债务人已确认", "发票 123 已确认", "/receivables/1")
        assert row.emailed_at is None and "债务人已确认" not in caplog.text  # nothing before commit
        db.session.commit()
        assert db.session.scalar(select(Notification.emailed_at).where(Notification.id == row.id)) is not None
        assert "to=n@ent.cn" in caplog.text
        assert send_notification_email(row.id) is False  # a redelivered task sends nothing


def test_rolled_back_work_sends_nothing(app, caplog):
    user = make_enterprise_user()
    with app.test_request_context():
        caplog.set_level("INFO")
        db.session.begin_nested()
        notify([user], "test", "不应发送", "x")
        db.session.rollback()
        db.session.commit()
        assert "不应发送" not in caplog.text


def test_user_sees_and_reads_own_notifications_only(app, client, login):
    me, other = make_enterprise_user(), make_enterprise_user()
    with app.test_request_context():
        (mine,) = notify([me], "test", "给我的消息", "正文", "/financing/")
        (theirs,) = notify([other], "test", "别人的消息", "正文")
        db.session.commit()
    login(me)
    page = client.get("/notifications/").get_data(as_text=True)
    assert "给我的消息" in page and "别人的消息" not in page
    assert 'class="badge badge-bad">1<' in page
    assert client.post(f"/notifications/{mine.id}/read").headers["Location"] == "/financing/"
    assert client.post(f"/notifications/{theirs.id}/read").status_code == 404
    assert db.session.scalar(select(Notification.read_at).where(Notification.id == mine.id)) is not None
