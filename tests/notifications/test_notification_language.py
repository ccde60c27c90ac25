"""Notices are kept as message keys with parameters and read in the reader's language: on the list
page in the page's language, by email in the recipient's; a row with text alone shows its text."""

from __future__ import annotations

from flask_babel import force_locale
from sqlalchemy import insert, select

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.notifications.messages import later, later_plural, listing, render
from marketplace.notifications.models import Notification
from marketplace.notifications.services import notify
from tests.factories import make_enterprise_user
from tests.test_english_pages import chinese_left, in_english


def sla_notice(user):
    """What the SLA clock sends: a nested (zh, en) state label among data parameters."""
    return notify([user], "sla.breached", later("融资申请 #%(id)s 已超时：%(state)s", id=7, state=("银行审查中", "Bank review")),
                  later("%(enterprise)s 的融资申请 #%(id)s 处于“%(state)s”状态，处理时限（%(due)s）已过，已标记为超时。",
                        enterprise="某某科技有限公司", id=7, state=("银行审查中", "Bank review"), due="2026-12-01 09:00"))


def test_a_notice_keeps_its_key_and_chinese_text_and_is_shown_in_the_readers_language(app, client, login):
    user = make_enterprise_user()
    with app.test_request_context(), force_locale("en"):  # triggered from an English page
        (row,) = sla_notice(user)
        db.session.commit()
    assert row.title == "融资申请 #7 已超时：银行审查中"  # the text columns stay Chinese, whoever triggered it
    assert row.title_key == "融资申请 #%(id)s 已超时：%(state)s"
    assert row.title_params == {"id": 7, "state": {"zh": "银行审查中", "en": "Bank review"}}
    login(user)
    chinese_page = client.get("/notifications/").get_data(as_text=True)
    assert "融资申请 #7 已超时：银行审查中" in chinese_page
    in_english(client, login, user)
    page = client.get("/notifications/").get_data(as_text=True)
    assert "Financing request #7 overdue: Bank review" in page
    assert "某某科技有限公司" in page  # data stays as it was typed
    assert not chinese_left(page, "某某科技有限公司", user.name, user.organisation.name)


def test_an_email_is_written_in_the_recipients_language(app, caplog):
    english, chinese = make_enterprise_user(email="en@ent.cn", locale="en"), make_enterprise_user(email="zh@ent.cn")
    caplog.set_level("INFO")
    with app.test_request_context():
        sla_notice(english)
        sla_notice(chinese)
        db.session.commit()
    mails = {line.split("to=")[1].split()[0]: line for line in caplog.text.splitlines() if "to=" in line}
    assert "subject=Financing request #7 overdue: Bank review" in mails["en@ent.cn"]
    assert "subject=融资申请 #7 已超时：银行审查中" in mails["zh@ent.cn"]


def test_a_row_with_text_alone_shows_its_text(app, client, login):
    user = make_enterprise_user()
    db.session.execute(insert(Notification).values(user_id=user.id, kind="old", title="旧的消息", body="旧正文"))
    db.session.flush()
    in_english(client, login, user)
    page = client.get("/notifications/").get_data(as_text=True)
    assert "旧的消息" in page and "旧正文" in page
    row = db.session.scalar(select(Notification).where(Notification.user_id == user.id))
    assert row.title_key is None and row.shown_title == "旧的消息"


def test_lists_plurals_and_nested_messages_follow_the_locale(app):
    names = listing(["甲银行", "乙银行"])
    with app.test_request_context():
        assert render(later("担保函 %(no)s 已出具，申请已推送：%(names)s。", no="G-1", names=names)) == \
            "担保函 G-1 已出具，申请已推送：甲银行、乙银行。"
        with force_locale("en"):
            assert render(names) == "甲银行, 乙银行"
            assert render(listing(["a", "b"], "clauses")) == "a; b"
            one = later_plural("有 %(n)s 笔应收账款等待贵单位确认", "有 %(n)s 笔应收账款等待贵单位确认", 1)
            three = later_plural("有 %(n)s 笔应收账款等待贵单位确认", "有 %(n)s 笔应收账款等待贵单位确认", 3)
            assert render(one) == "1 receivable awaits your confirmation"
            assert render(three) == "3 receivables await your confirmation"


def test_a_stored_plural_notice_is_shown_with_the_right_form(app):
    user = make_enterprise_user()
    with app.test_request_context():
        (row,) = notify([user], "receivable.reminder",
                        later_plural("%(n)s 笔应收账款的债务人尚未确认", "%(n)s 笔应收账款的债务人尚未确认", 1), "x")
        with force_locale("en"):
            assert row.shown_title == "The debtor of 1 receivable has not confirmed it yet"
        assert row.title == "1 笔应收账款的债务人尚未确认"


def test_the_language_a_signed_in_user_chooses_is_kept_for_their_emails(app, client, login):
    user = make_enterprise_user()
    login(user)
    client.get("/lang/en")
    assert db.session.scalar(select(User.locale).where(User.id == user.id)) == "en"
    client.get("/lang/xx")  # not a language: nothing changes
    assert db.session.scalar(select(User.locale).where(User.id == user.id)) == "en"
