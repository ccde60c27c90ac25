"""The credit file, objection, list and calendar pages in English (issue 14, issue 17): their own
labels come from the English catalog; only data (names, record titles, reference names) stays Chinese."""

from __future__ import annotations

from marketplace.accounts.roles import Role
from marketplace.credit import objections
from marketplace.extensions import db
from marketplace.reference.industries import industry_name
from marketplace.reference.regions import region_name
from tests.credit.test_objections import make_case
from tests.factories import UserFactory
from tests.test_english_pages import chinese_left, get, in_english


def data_of(case) -> tuple[str, ...]:
    enterprise = case["enterprise"]
    return (enterprise.name, enterprise.legal_rep_name or "", enterprise.address or "", enterprise.park or "",
            enterprise.contact_name or "", industry_name(enterprise.industry_code) or "",
            region_name(enterprise.region_code) or "", case["record"].title, case["tax"].organisation.name,
            case["user"].name, "该笔税款已缴清", "完税证明")


def test_the_credit_file_and_an_objection_are_in_english(app, client, login):
    with app.test_request_context():
        case = make_case()
        objection = objections.file_objection(case["record"], case["user"], "该笔税款已缴清")
        db.session.commit()
    in_english(client, login, case["user"])
    page = get(client, "/enterprise/credit-file")
    assert "Credit file" in page and "Under objection" in page
    assert not chinese_left(page, *data_of(case))
    detail = get(client, f"/enterprise/credit-file/objections/{objection.id}")
    assert not chinese_left(detail, *data_of(case))
    form = get(client, f"/enterprise/credit-file/records/{case['record'].id}/repair")
    assert not chinese_left(form, *data_of(case))


def test_the_bureau_lists_and_the_admin_calendar_are_in_english(app, client, login):
    with app.test_request_context():
        case = make_case()
        db.session.commit()
    in_english(client, login, case["suzhou"])
    for url in ("/bureau/lists", "/bureau/whitelist-pushes", "/bureau/objections", "/bureau/repairs"):
        assert not chinese_left(get(client, url), *data_of(case), case["suzhou"].name,
                                case["suzhou"].organisation.name), url
    admin = UserFactory(role=Role.PLATFORM_ADMIN)
    in_english(client, login, admin)
    for url in ("/admin/calendar", "/admin/calendar/2027"):
        assert not chinese_left(get(client, url), admin.name, admin.organisation.name), url
