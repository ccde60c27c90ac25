"""The queue's industry and region filters are pickers: a code or a name in either language, full-width
digits folded; an unknown or ambiguous one is ignored and said so, in the page's language."""

from __future__ import annotations

import pytest

from tests.desks.helpers import routed

QUEUE = "/institution/requests/"


def _queue(client, login, user, english=False, **args):
    login(user)
    if english:
        with client.session_transaction() as session:
            session["locale"] = "en"
    return client.get(QUEUE, query_string={"status": "all", **args})


FINDING = [
    {"industry": "39"}, {"industry": "３９"}, {"industry": "计算机、通信和其他电子设备制造业"},
    {"industry": "manufacture of computers, communication and other electronic equipment"},
    {"industry": "39 计算机、通信和其他电子设备制造业"},
    {"region": "3205"}, {"region": "３２０５"}, {"region": "江苏省苏州市"}, {"region": "3205 江苏省苏州市"},
    {"region": "Suzhou, Jiangsu"}, {"region": "苏州市虎丘区"}, {"region": "江苏省"},
]  # fmt: skip
MISSING = [{"industry": "13"}, {"industry": "3911"}, {"region": "33"}, {"region": "浙江省"}]


def test_a_code_or_a_name_finds_the_request_and_another_leaves_it_out(app, client, login):
    case = routed(app)
    row = f"/institution/requests/{case.request.id}"
    for args in FINDING:
        page = _queue(client, login, case.bank_staff, **args).get_data(as_text=True)
        assert row in page and 'data-testid="filter-refused"' not in page, args
    for args in MISSING:  # 3911 is a class of division 39, taken as a longer prefix
        page = _queue(client, login, case.bank_staff, **args).get_data(as_text=True)
        assert row not in page and 'data-testid="filter-refused"' not in page, args


def test_an_english_user_typing_a_chinese_name_is_understood_and_shown_the_english_name(app, client, login):
    case = routed(app)
    page = _queue(client, login, case.bank_staff, english=True, region="苏州市").get_data(as_text=True)
    assert 'data-testid="filter-refused"' not in page
    assert 'value="3205 Suzhou, Jiangsu"' in page  # the picker shows what it understood


def _said(app, english: bool, msgid: str, **params) -> str:
    """The message as the page's language says it (the English from the catalogue)."""
    from flask_babel import force_locale, gettext

    with app.test_request_context("/"), force_locale("en" if english else "zh_Hans_CN"):
        return str(gettext(msgid, **params))


@pytest.mark.parametrize("english", [False, True])
def test_an_unknown_industry_is_refused_clearly_and_not_applied(app, client, login, english):
    case = routed(app)
    page = _queue(client, login, case.bank_staff, english=english, industry="99").get_data(as_text=True)
    message = _said(app, english, "未知的行业：%(typed)s。请从列表中选择，或填写两位行业代码（GB/T 4754）", typed="99")
    assert message in page and 'data-testid="filter-refused"' in page
    assert f"/institution/requests/{case.request.id}" in page  # the filter was not applied
    assert 'value="99"' in page  # what was typed stays, to correct it


def test_an_unknown_or_ambiguous_region_is_refused_naming_the_candidates(app, client, login):
    case = routed(app)
    page = _queue(client, login, case.bank_staff, region="999999").get_data(as_text=True)
    assert "未知的地区：999999" in page
    page = _queue(client, login, case.bank_staff, english=True, region="Suzhou").get_data(as_text=True)
    assert 'data-testid="filter-refused"' in page
    assert "Suzhou, Jiangsu (3205)" in page and "Suzhou, Anhui (3413)" in page


def test_the_pickers_list_names_in_the_page_language_without_javascript(app, client, login):
    case = routed(app)
    page = _queue(client, login, case.bank_staff).get_data(as_text=True)
    assert 'list="industry-options"' in page and '<option value="34 通用设备制造业">' in page
    assert 'list="region-options"' in page and '<option value="3205 江苏省苏州市">' in page
    page = _queue(client, login, case.bank_staff, english=True).get_data(as_text=True)
    assert '<option value="34 Manufacture of General Purpose Machinery">' in page
    assert '<option value="3205 Suzhou, Jiangsu">' in page
