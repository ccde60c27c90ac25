"""Receivables from issued invoices through the web: upload, preview (nothing stored), correct the
mapping or the term, confirm (pending receivables exist, the term is kept on the enterprise), and
each kind of bad input named in the preview with nothing stored."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from marketplace.accounts.roles import Role
from marketplace.audit import AuditEvent
from marketplace.extensions import db
from marketplace.receivables import services
from tests.factories import EnterpriseFactory, ReceivableFactory, UserFactory, make_enterprise_user
from tests.fixtures.invoices.make_fixtures import BUYER_A, BUYER_B, SELLER_NAME, SELLER_USCC
from tests.receivables.helpers import audit_count, page_text, receivables_of
from tests.test_english_pages import in_english

FIXTURES = Path(__file__).parents[1] / "fixtures" / "invoices"


@pytest.fixture
def enterprise():
    return EnterpriseFactory(uscc=SELLER_USCC, name=SELLER_NAME)


@pytest.fixture
def user(enterprise):
    return make_enterprise_user(Role.ENTERPRISE_APPLICANT, enterprise=enterprise)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def upload(client, *files: tuple[bytes, str], term: str = "45"):
    return client.post("/receivables/invoices/", data={
        "files": [(io.BytesIO(data), name) for data, name in files], "term_days": term,
    }, content_type="multipart/form-data")


def form_values(response) -> dict[str, str]:
    """The preview form's fields as the page renders them (the token, the term, the mapping)."""
    html = page_text(response)
    values = {name: unescape(value) for name, value in re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', html)}
    for name, body in re.findall(r'<select[^>]*name="(map_\w+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', body)
        values[name] = next((group for group in chosen.groups() if group is not None), "") if chosen else ""
    return values


def rows(response) -> list[tuple[str, str]]:
    """(where, action) of each preview row."""
    html = page_text(response)
    return [(unescape(where), action) for action, where in re.findall(
        r'data-testid="invoice-row" data-action="(\w+)">\s*<td[^>]*data-testid="invoice-where">([^<]*)<', html)]


def confirm(client, response, **changes):
    return client.post("/receivables/invoices/confirm", data={**form_values(response), **changes})


def test_an_invoice_list_is_previewed_without_storing_then_confirmed_into_pending_receivables(
        signed_in, enterprise):
    preview = upload(signed_in, (fixture("发票清单-标题行.xlsx"), "发票清单-标题行.xlsx"))

    assert preview.status_code == 200
    assert rows(preview) == [("第5行", "import"), ("第6行", "import"), ("第7行", "skip"), ("第8行", "skip")]
    text = page_text(preview)
    assert "已作废的发票不导入" in text and "红字发票" in text
    assert "将导入 2 笔，合计 1,508,061.72 元" in text
    assert receivables_of(enterprise) == []
    assert enterprise.default_payment_term_days is None

    done = confirm(signed_in, preview)

    assert done.status_code == 302
    stored = receivables_of(enterprise)
    assert [(r.debtor_name, r.debtor_uscc, r.invoice_no, r.face_amount, r.confirmation) for r in stored] == [
        (*BUYER_A, "26322000000011110001", Decimal("113000.00"), "pending"),
        (*BUYER_B, "26322000000011110002", Decimal("1395061.72"), "pending"),
    ]
    assert [(r.due_date - r.issue_date).days for r in stored] == [45, 45]
    assert enterprise.default_payment_term_days == 45
    assert audit_count("receivables.invoices_imported") == 1
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "receivables.invoices_imported"))
    assert (event.details["count"], event.details["skipped"], event.details["files"]) == (
        2, 2, ["发票清单-标题行.xlsx"])


def test_the_upload_page_offers_the_term_the_enterprise_set(signed_in, enterprise):
    enterprise.default_payment_term_days = 60
    db.session.flush()

    page = signed_in.get("/receivables/invoices/")

    assert page.status_code == 200
    assert re.search(r'name="term_days"[^>]*value="60"', page_text(page))


def test_a_corrected_mapping_and_term_are_used_on_confirmation(signed_in, enterprise):
    preview = upload(signed_in, (fixture("发票清单-gbk.csv"), "发票清单-gbk.csv"))
    values = form_values(preview)
    amount_column = values["map_amount"]

    again = signed_in.post("/receivables/invoices/preview",
                           data={**values, "map_total": amount_column, "map_amount": "", "term_days": "90"})

    assert again.status_code == 200
    assert rows(again) == [("第3行", "import"), ("第4行", "skip"), ("第5行", "import")]
    done = confirm(signed_in, again)
    assert done.status_code == 302
    stored = receivables_of(enterprise)
    assert [r.face_amount for r in stored] == [Decimal("8000.00"), Decimal("10000.00")]  # 金额, as mapped
    assert [(r.due_date - r.issue_date).days for r in stored] == [90, 90]
    assert enterprise.default_payment_term_days == 90


def test_an_unmapped_column_is_asked_for_before_anything_is_previewed(signed_in, enterprise):
    preview = upload(signed_in, (fixture("发票清单-gbk.csv"), "发票清单-gbk.csv"))

    again = signed_in.post("/receivables/invoices/preview", data={**form_values(preview), "map_buyer_uscc": ""})

    assert 'data-testid="invoice-mapping-missing"' in page_text(again)
    assert "购买方纳税人识别号" in page_text(again)
    assert rows(again) == []
    refused = signed_in.post("/receivables/invoices/confirm", data={**form_values(preview), "map_buyer_uscc": ""},
                             follow_redirects=True)
    assert "请先为以下内容选择对应的列" in page_text(refused)
    assert receivables_of(enterprise) == []


def test_xml_files_one_by_one_and_a_zip_are_imported_and_named_by_file(signed_in, enterprise):
    preview = upload(signed_in, (fixture("数电票-1.xml"), "数电票-1.xml"), (fixture("数电票-2.xml"), "数电票-2.xml"))

    assert rows(preview) == [("数电票-1.xml", "import"), ("数电票-2.xml", "import")]
    assert "签名未验证" in page_text(preview)
    assert confirm(signed_in, preview).status_code == 302
    assert len(receivables_of(enterprise)) == 2

    again = upload(signed_in, (fixture("数电票.zip"), "数电票.zip"))  # the same invoices, zipped

    assert rows(again) == [("数电票.zip › 数电票-1.xml", "skip"), ("数电票.zip › 数电票-2.xml", "skip")]
    assert "已登记为应收账款" in page_text(again)
    assert 'data-testid="invoice-confirm"' not in page_text(again)


def test_an_altered_xml_is_named_and_left_out_while_the_good_one_is_imported(signed_in, enterprise):
    altered = fixture("数电票-1.xml").replace(b"22600.00", b"92600.00")

    preview = upload(signed_in, (altered, "改过的发票.xml"), (fixture("数电票-2.xml"), "数电票-2.xml"))

    assert rows(preview) == [("改过的发票.xml", "error"), ("数电票-2.xml", "import")]
    assert "签名后被修改过" in page_text(preview)
    assert receivables_of(enterprise) == []
    assert confirm(signed_in, preview).status_code == 302
    assert [r.invoice_no for r in receivables_of(enterprise)] == ["26322000000022220002"]


def test_another_taxpayers_list_is_refused_and_cannot_be_confirmed(login):
    other = make_enterprise_user(enterprise=EnterpriseFactory())
    client = login(other)

    preview = upload(client, (fixture("发票清单-gbk.csv"), "发票清单-gbk.csv"))

    assert rows(preview) == [("第3行", "error"), ("第4行", "skip"), ("第5行", "error")]
    assert "不是本企业开具的发票" in page_text(preview)
    assert 'data-testid="invoice-confirm"' not in page_text(preview)
    refused = confirm(client, preview)
    assert refused.status_code == 422
    assert "没有可以导入的发票" in page_text(refused)
    assert receivables_of(other.enterprise) == []


def test_invoices_registered_before_are_skipped_and_another_enterprises_are_errors(signed_in, enterprise):
    ReceivableFactory(enterprise=enterprise, debtor_name=BUYER_A[0], debtor_uscc=BUYER_A[1],
                      invoice_no="032002300111-01234567")
    ReceivableFactory(debtor_name=BUYER_B[0], debtor_uscc=BUYER_B[1], invoice_no="032002300111-01234569")

    preview = upload(signed_in, (fixture("发票清单-gbk.csv"), "发票清单-gbk.csv"))

    assert rows(preview) == [("第3行", "skip"), ("第4行", "skip"), ("第5行", "error")]
    assert "已由其他企业登记" in page_text(preview)


def test_an_invoice_registered_between_preview_and_confirmation_is_left_out(signed_in, enterprise):
    preview = upload(signed_in, (fixture("发票清单-gbk.csv"), "发票清单-gbk.csv"))
    ReceivableFactory(debtor_name=BUYER_B[0], debtor_uscc=BUYER_B[1], invoice_no="032002300111-01234569")

    again = confirm(signed_in, preview)

    # re-checked on confirmation: the one now taken is an error, the rest is stored
    assert again.status_code == 302
    assert [r.invoice_no for r in receivables_of(enterprise)] == ["032002300111-01234567"]


def test_an_invoice_stored_by_someone_else_at_the_same_moment_stores_nothing(signed_in, enterprise, monkeypatch):
    preview = upload(signed_in, (fixture("发票清单-gbk.csv"), "发票清单-gbk.csv"))
    ReceivableFactory(debtor_name=BUYER_B[0], debtor_uscc=BUYER_B[1], invoice_no="032002300111-01234569")
    monkeypatch.setattr(services, "registered_invoice_owners", lambda usccs: {})  # the re-check saw nothing yet

    response = confirm(signed_in, preview)

    assert response.status_code == 422
    assert "未导入任何发票" in page_text(response)
    assert receivables_of(enterprise) == []
    assert enterprise.default_payment_term_days is None


def test_a_zip_over_the_limits_is_refused_on_the_upload_page(signed_in, enterprise):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("bomb.xml", b"<EInvoice>" + b" " * (64 * 1024 * 1024) + b"</EInvoice>")

    response = upload(signed_in, (buffer.getvalue(), "bomb.zip"))

    assert response.status_code == 422
    assert "压缩比异常" in page_text(response)
    assert receivables_of(enterprise) == []


def test_a_list_and_xml_files_together_are_refused(signed_in):
    response = upload(signed_in, (fixture("发票清单-gbk.csv"), "a.csv"), (fixture("数电票-2.xml"), "b.xml"))

    assert response.status_code == 422
    assert "发票清单（Excel或CSV）请单独上传" in page_text(response)


@pytest.mark.parametrize("term", ["", "0", "400", "abc"])
def test_the_term_is_required_within_a_year(signed_in, term):
    response = upload(signed_in, (fixture("数电票-2.xml"), "b.xml"), term=term)

    assert response.status_code == 422
    assert 'data-testid="error-term_days"' in page_text(response)


def test_a_tampered_or_foreign_preview_is_refused(signed_in, enterprise, login):
    preview = upload(signed_in, (fixture("数电票-2.xml"), "b.xml"))
    values = form_values(preview)

    tampered = signed_in.post("/receivables/invoices/confirm", data={**values, "token": values["token"] + "x"},
                              follow_redirects=True)
    assert "预览数据无效" in page_text(tampered)
    stranger = login(make_enterprise_user(enterprise=EnterpriseFactory()))
    foreign = stranger.post("/receivables/invoices/confirm", data=values, follow_redirects=True)
    assert "预览数据无效" in page_text(foreign)
    assert receivables_of(enterprise) == []


def test_the_sample_list_is_the_enterprises_own_and_previews_each_kind_of_row(signed_in, enterprise):
    sample = signed_in.get("/receivables/invoices/sample.xlsx")

    assert sample.status_code == 200
    sheet = load_workbook(io.BytesIO(sample.data)).active
    assert SELLER_USCC in sheet["A2"].value
    preview = upload(signed_in, (sample.data, "sample.xlsx"))
    assert [action for _where, action in rows(preview)] == ["import", "import", "skip", "skip"]
    xml = signed_in.get("/receivables/invoices/sample.xml")
    assert xml.status_code == 200 and b"<EInvoice" in xml.data
    assert signed_in.get("/receivables/invoices/sample.pdf").status_code == 404


@pytest.mark.parametrize("role", [Role.BANK_OFFICER, Role.BUREAU_COORDINATOR])
def test_only_enterprise_users_reach_the_invoice_import(login, client, role):
    staff = login(UserFactory(role=role))
    for method, url in (("get", "/receivables/invoices/"), ("post", "/receivables/invoices/confirm"),
                        ("get", "/receivables/invoices/sample.xlsx")):
        assert getattr(staff, method)(url).status_code == 403
    with client.session_transaction() as session:
        session.clear()
    anonymous = client.get("/receivables/invoices/")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


HAN = re.compile(r"[\u4e00-\u9fff]")


def notes(response) -> list[str]:
    """The text of each preview row's notes."""
    return [unescape(re.sub(r"<[^>]+>", " ", body)).strip()
            for body in re.findall(r'data-testid="invoice-notes">(.*?)</td>', page_text(response), re.S)]


def test_an_english_reader_sees_the_workflows_notes_in_english(client, login, user):
    in_english(client, login, user)
    listing = "\n".join([
        "数电票号码,购买方名称,购买方纳税人识别号,销售方纳税人识别号,开票日期,金额,税额,价税合计,发票状态",
        f"26322000000033330001,{BUYER_A[0]},{BUYER_A[1]},{SELLER_USCC},2026-01-05,100.00,13.00,113.00,作废",
        f"26322000000033330002,{BUYER_B[0]},{BUYER_B[1]},{SELLER_USCC},2026-01-06,100.00,13.00,120.00,正常",
    ]).encode("utf-8")

    preview = upload(client, (listing, "invoices.csv"))

    assert rows(preview) == [("row 2", "skip"), ("row 3", "error")]
    voided, wrong = notes(preview)
    assert voided == "voided: not imported"
    assert "amount 100.00 + tax 13.00 ≠ total 120.00" in wrong
    assert not HAN.search(voided + wrong)


def test_an_e_invoices_problem_stays_english_after_the_preview_is_reposted(client, login, user):
    in_english(client, login, user)
    altered = fixture("数电票-1.xml").replace(b"22600.00", b"92600.00")
    first = upload(client, (altered, "altered.xml"), (fixture("数电票-2.xml"), "invoice-2.xml"))

    again = client.post("/receivables/invoices/preview", data=form_values(first))  # the draft from the token

    for response in (first, again):
        problem, signature = notes(response)
        assert "altered after signing" in problem and "not verified" in signature
        assert not HAN.search(problem + signature)
