"""Bulk import: every row or none, errors on the line the user sees, and templates that read back.
A row's 确认状态 is the enterprise's declaration, never the debtor's answer."""

from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import quote

import pytest
from openpyxl import Workbook

from marketplace.formatting import today_shanghai
from tests.factories import ReceivableFactory, make_uscc
from tests.receivables.helpers import audit_count, page_text, receivables_of
from workflows.receivables_file import HEADERS, parse_receivables

DEBTOR_A = make_uscc(101, prefix="91310000")
DEBTOR_B = make_uscc(102, prefix="91440300")


def row(invoice: str, **changes) -> dict[str, str]:
    today = today_shanghai()
    values = {
        "debtor_name": "上海甲贸易有限公司",
        "debtor_uscc": DEBTOR_A,
        "invoice_no": invoice,
        "contract_no": "HT-1",
        "amount": "1000.00",
        "issue_date": (today - timedelta(days=20)).isoformat(),
        "due_date": (today + timedelta(days=70)).isoformat(),
        "confirmation": "待确认",
        "reason": "",
    }
    values.update(changes)
    return values


def csv_bytes(*rows: dict[str, str], encoding: str = "utf-8") -> bytes:
    lines = [",".join(HEADERS.values())] + [",".join(r[field] for field in HEADERS) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(*rows: dict[str, str]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(HEADERS.values()))
    for r in rows:
        sheet.append([r[field] for field in HEADERS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def post_file(client, data: bytes, name: str, follow: bool = True):
    return client.post("/receivables/import", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", follow_redirects=follow)


@pytest.mark.parametrize(("data", "name"), [
    (csv_bytes(row("A-1"), row("A-2", debtor_uscc=DEBTOR_B, debtor_name="深圳乙科技有限公司")), "应收.csv"),
    (csv_bytes(row("A-1"), row("A-2", debtor_uscc=DEBTOR_B, debtor_name="深圳乙科技有限公司"), encoding="gbk"),
     "应收-gbk.csv"),
    (xlsx_bytes(row("A-1"), row("A-2", debtor_uscc=DEBTOR_B, debtor_name="深圳乙科技有限公司")), "应收.xlsx"),
])
def test_a_valid_file_imports_every_row(signed_in, enterprise, data, name):
    response = post_file(signed_in, data, name)

    assert "已导入 2 笔应收账款" in page_text(response)
    stored = receivables_of(enterprise)
    assert [(r.debtor_uscc, r.invoice_no, r.confirmation) for r in stored] == [
        (DEBTOR_A, "A-1", "pending"), (DEBTOR_B, "A-2", "pending"),
    ]
    assert stored[1].debtor_name == "深圳乙科技有限公司"
    assert audit_count("receivables.imported") == 1


def test_rows_marked_confirmed_or_disputed_are_stored_pending_with_the_enterprises_declaration(
        signed_in, enterprise, user):
    data = csv_bytes(row("A-1", confirmation="已确认"), row("A-2", confirmation="有异议", reason="货物退回一半"),
                     row("A-3", confirmation="有异议"), row("A-4"))

    html = page_text(post_file(signed_in, data, "a.csv"))

    confirmed, disputed, disputed_without_reason, pending = receivables_of(enterprise)
    for receivable in (confirmed, disputed, disputed_without_reason, pending):
        assert receivable.confirmation == "pending"  # only the debtor answers
        assert (receivable.confirmed_via, receivable.confirmed_at, receivable.dispute_reason) == (None, None, None)
    assert (confirmed.declared_confirmation, confirmed.declared_by_id) == ("confirmed", user.id)
    assert confirmed.declared_at is not None and confirmed.declared_reason is None
    assert (disputed.declared_confirmation, disputed.declared_reason) == ("disputed", "货物退回一半")
    assert (disputed_without_reason.declared_confirmation, disputed_without_reason.declared_reason) == ("disputed", None)
    assert (pending.declared_confirmation, pending.declared_at) == (None, None)
    # the summary says what became of the declarations, and the list shows them as such
    assert "已导入 4 笔应收账款" in html
    assert "其中 3 笔填写了确认状态（声明已确认 1 笔，声明有异议 2 笔）" in html and "不视为债务人的确认" in html
    assert html.count('data-testid="rcv-declared"') == 3 and "企业声明已确认，待债务人确认" in html


def test_a_file_with_only_pending_rows_says_nothing_about_declarations(signed_in, enterprise):
    html = page_text(post_file(signed_in, csv_bytes(row("A-1"), row("A-2", confirmation="")), "a.csv"))
    assert "已导入 2 笔应收账款" in html and "填写了确认状态" not in html


def test_the_old_template_header_is_still_read_as_the_declaration(signed_in, enterprise):
    header = ",".join(HEADERS.values()).replace("企业声明确认状态", "确认状态").replace(",异议原因", "")
    body = ",".join(row("A-1", confirmation="已确认")[field] for field in HEADERS if field != "reason")
    post_file(signed_in, f"{header}\r\n{body}\r\n".encode(), "old.csv")

    (stored,) = receivables_of(enterprise)
    assert (stored.confirmation, stored.declared_confirmation) == ("pending", "confirmed")


def test_the_declaration_shows_on_the_receivable_page_with_its_time(signed_in, enterprise):
    post_file(signed_in, csv_bytes(row("A-1", confirmation="已确认")), "a.csv")
    (stored,) = receivables_of(enterprise)

    html = page_text(signed_in.get(f"/receivables/{stored.id}"))

    assert 'data-testid="declaration"' in html and "企业声明已确认，待债务人确认" in html
    assert "不视为债务人的确认" in html
    assert 'data-testid="send-link"' in html  # the debtor can still be asked


def test_one_bad_row_stores_nothing_and_names_its_line(signed_in, enterprise):
    data = csv_bytes(row("A-1"), row("A-2"), row("A-3", amount="12.345"), row("A-4"))

    response = post_file(signed_in, data, "a.csv")

    html = page_text(response)
    assert receivables_of(enterprise) == []
    assert 'data-testid="import-errors"' in html
    assert 'data-testid="import-error-line">4<' in html
    assert "最多两位小数" in html
    assert audit_count("receivables.imported") == 0


def test_every_bad_row_is_listed(signed_in, enterprise):
    data = csv_bytes(row("A-1", debtor_uscc="91310000MA1K3ABC01"), row("A-2"), row("A-3", amount="-5"))
    html = page_text(post_file(signed_in, data, "a.csv"))
    assert html.count('data-testid="import-error"') == 2
    assert 'import-error-line">2<' in html and 'import-error-line">4<' in html


def test_a_row_duplicating_a_stored_receivable_is_refused_with_its_line(signed_in, enterprise):
    ReceivableFactory(enterprise=enterprise, debtor_uscc=DEBTOR_A, invoice_no="A-2")

    html = page_text(post_file(signed_in, csv_bytes(row("A-1"), row("a-2")), "a.csv"))

    assert 'import-error-line">3<' in html and "已登记过" in html
    assert len(receivables_of(enterprise)) == 1


def test_a_row_with_an_invoice_another_enterprise_registered_is_refused_with_its_line(signed_in, enterprise):
    ReceivableFactory(debtor_uscc=DEBTOR_A, invoice_no="A-2")  # another enterprise's

    html = page_text(post_file(signed_in, csv_bytes(row("A-1"), row("a-2")), "a.csv"))

    assert 'import-error-line">3<' in html and "已由其他企业登记" in html
    assert receivables_of(enterprise) == []


def test_a_row_with_the_enterprise_itself_as_debtor_is_refused(signed_in, enterprise):
    html = page_text(post_file(signed_in, csv_bytes(row("A-1"), row("A-2", debtor_uscc=enterprise.uscc)), "a.csv"))
    assert 'import-error-line">3<' in html and "债务人不能是本企业" in html
    assert receivables_of(enterprise) == []


def test_an_invoice_number_longer_than_the_column_is_refused(signed_in, enterprise):
    html = page_text(post_file(signed_in, csv_bytes(row("9" * 65)), "a.csv"))
    assert "发票号码" in html and "64" in html and 'import-error-line">2<' in html
    assert receivables_of(enterprise) == []


def test_a_file_that_is_not_a_table_shows_why(signed_in, enterprise):
    html = page_text(post_file(signed_in, b"\x00\x01\x02binary junk", "a.csv"))
    assert "不是CSV、Excel或网页表格文件" in html
    assert receivables_of(enterprise) == []


def test_a_file_without_the_header_shows_why(signed_in, enterprise):
    response = post_file(signed_in, "名称,金额\r\n甲,100\r\n".encode(), "a.csv")
    assert response.status_code == 422
    assert 'data-testid="error-file"' in page_text(response)
    assert receivables_of(enterprise) == []


def test_posting_without_a_file_asks_for_one(signed_in):
    response = signed_in.post("/receivables/import", data={}, content_type="multipart/form-data")
    assert "请选择要导入的文件" in page_text(response)


@pytest.mark.parametrize(("extension", "mimetype"), [
    ("csv", "text/csv"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
])
def test_the_templates_download_under_their_chinese_name_and_parse_back_cleanly(signed_in, extension, mimetype):
    response = signed_in.get(f"/receivables/template?format={extension}")

    assert response.status_code == 200 and response.mimetype == mimetype
    assert quote(f"应收账款导入模板.{extension}") in response.headers["Content-Disposition"]
    rows, errors = parse_receivables(response.get_data(), f"template.{extension}", today=today_shanghai())
    assert errors == [] and len(rows) == 1


def test_the_template_example_row_imports(signed_in, enterprise):
    data = signed_in.get("/receivables/template?format=xlsx").get_data()
    assert "已导入 1 笔应收账款" in page_text(post_file(signed_in, data, "模板.xlsx"))


def test_the_import_page_says_a_stated_confirmation_is_only_a_declaration(signed_in):
    html = page_text(signed_in.get("/receivables/import"))
    assert 'data-testid="import-declaration-note"' in html and "不视为债务人确认" in html


def test_an_unknown_template_format_answers_404(signed_in):
    assert signed_in.get("/receivables/template?format=pdf").status_code == 404


def test_an_amount_too_large_to_store_is_refused(signed_in, enterprise):
    html = page_text(post_file(signed_in, csv_bytes(row("A-1", amount="100000000000000000")), "a.csv"))
    assert "金额超出系统可登记的上限" in html
    assert receivables_of(enterprise) == []
