"""Messages raised in workflows/ carry both languages (as the policy engine's reasons do), and the
web layer shows the reader's: credit codes, ID numbers, money, dates, the password policy and the
admin's policy form; lists, asides and counts follow the locale too."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from marketplace.accounts.roles import Role
from marketplace.accounts.security import password_problem
from marketplace.extensions import db
from marketplace.formatting import today_shanghai
from marketplace.i18n import in_brackets, input_error, join_list, localized
from marketplace.verification.models import PolicyVersion
from tests.factories import UserFactory
from tests.test_english_pages import chinese_left, in_english
from workflows.identifiers import parse_date, parse_money, resident_id_problem, uscc_problem
from workflows.receivables_file import parse_receivables
from workflows.text import InputError, Sentence
from workflows.verification.policy import PolicyError, Thresholds


@pytest.mark.parametrize(("problem", "zh", "en"), [
    (lambda: uscc_problem(""), "统一社会信用代码不能为空", "The unified social credit code is empty"),
    (lambda: uscc_problem("9132"), "统一社会信用代码应为18位，实际为4位",
     "The unified social credit code must have 18 characters, not 4"),
    (lambda: resident_id_problem("11010519491231002"), "身份证号码应为18位，实际为17位",
     "The ID number must have 18 characters, not 17"),
    (lambda: password_problem("short"), "密码至少10位", "The password needs at least 10 characters"),
    (lambda: password_problem("onlyletters"), "密码须包含字母、数字、符号中的至少两类",
     "The password needs at least two of: letters, digits, symbols"),
])
def test_a_checkers_sentence_is_chinese_and_carries_its_english(problem, zh, en):
    sentence = problem()
    assert isinstance(sentence, Sentence)
    assert sentence == zh and sentence.text("zh_Hans_CN") == zh and sentence.text("en") == en


@pytest.mark.parametrize(("parse", "text", "en"), [
    (parse_money, "12.345", "The amount can have at most two decimal places"),
    (parse_date, "2024-02-30", "The date “2024-02-30” does not exist"),
    (parse_date, "next week", "“next week” is not a date; use the YYYY-MM-DD format"),
])
def test_a_bad_value_raises_an_input_error_in_both_languages(app, parse, text, en):
    with pytest.raises(InputError) as caught:
        parse(text)
    assert isinstance(caught.value, ValueError) and caught.value.text("en") == en
    with app.test_request_context():
        assert input_error(caught.value) == str(caught.value)
        with force_locale("en"):
            assert input_error(caught.value) == en


def test_policy_problems_carry_their_english():
    with pytest.raises(PolicyError) as caught:
        Thresholds.from_dict({"lookback_months": "99", "h2_max_cv": "abc"})
    (problem,) = caught.value.problems
    assert problem == "H2 月收入变异系数上限应为数字，实际为“abc”"
    assert problem.en == "H2: maximum coefficient of variation must be a number, not “abc”"
    (problem,) = Thresholds(lookback_months=99).validate()
    assert problem.en == "Look-back months must be between 1 and 36, not 99"


def test_lists_and_asides_follow_the_locale(app):
    with app.test_request_context():
        assert join_list(["甲", "乙"]) == "甲、乙" and in_brackets("v2") == "（v2）"
        assert localized(uscc_problem("")) == "统一社会信用代码不能为空"
        with force_locale("en"):
            assert join_list(["A", "B"]) == "A, B" and join_list(["a", "b"], "clauses") == "a; b"
            assert in_brackets("v2") == " (v2)"
            assert localized(uscc_problem("")) == "The unified social credit code is empty"
            assert localized("plain") == "plain"


def test_the_admin_policy_form_is_in_english_with_english_errors(app, client, login):
    admin = UserFactory(role=Role.PLATFORM_ADMIN)
    in_english(client, login, admin)
    page = client.get("/admin/policies/new").get_data(as_text=True)
    assert "Look-back months (lookback_months)" in page and "H2: maximum coefficient of variation" in page
    assert not chinese_left(page, admin.name, admin.organisation.name)
    data = {name: str(value) for name, value in Thresholds().as_dict().items()}
    data.update(version="2026.9", effective_from=today_shanghai().isoformat(), lookback_months="99", h2_max_cv="abc")
    page = client.post("/admin/policies/new", data=data).get_data(as_text=True)
    assert "H2: maximum coefficient of variation must be a number, not “abc”" in page
    assert not chinese_left(page, admin.name, admin.organisation.name)
    assert db.session.scalar(select(func.count()).select_from(PolicyVersion)) == 0


def test_english_counts_agree_with_their_number(app):
    from flask import render_template_string

    with app.test_request_context(), force_locale("en"):
        days = "{{ ngettext('%(n)s天', '%(n)s天', n, n=n) }}"
        assert render_template_string(days, n=1) == "1 day"
        assert render_template_string(days, n=90) == "90 days"


def test_import_row_problems_carry_their_english():
    header = "债务人名称,债务人统一社会信用代码,发票号码,金额,开票日期,到期日\n"
    data = (header + "甲公司,,A1,12.345,2024-01-05,2023-12-01\n").encode()
    rows, errors = parse_receivables(data, "r.csv")
    assert rows == []
    by_text = {str(e.reason): e.reason.text("en") for e in errors}
    assert by_text["债务人统一社会信用代码：不能为空"] == "Debtor's unified social credit code: empty"
    assert by_text["金额：最多两位小数"] == "Amount: the amount can have at most two decimal places"


def test_a_note_the_system_wrote_on_the_timeline_follows_the_readers_language(app, client, login):
    """Stored in Chinese whoever acted (here a bank user reading English), shown in English to an
    English reader through the catalog."""
    from marketplace.desks import decisions
    from tests.desks.helpers import claimed, routed, target_of

    case = routed(app)
    target = claimed(app, target_of(case), case.bank_staff)
    with app.test_request_context(), force_locale("en"):
        decisions.decline(target, case.bank_staff, "cash_flow", "")
    assert case.request.state == "returned"
    note = "没有其他可推送的银行，请根据拒绝原因调整后重新提交"
    assert note in [e.note for e in case.request.events]
    in_english(client, login, case.owner)
    page = client.get(f"/financing/{case.request.id}").get_data(as_text=True)
    assert note not in page and "No other bank is available to route to." in page
