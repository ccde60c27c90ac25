"""Reading the tax bureau's invoice lists and e-invoice XML into receivables to review (pure).

The sample files in tests/fixtures/invoices are what an enterprise uploads; the hostile ones are
made here from them: another taxpayer's list, altered or malformed signatures, amounts that do not
add up, a zip bomb."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.fixtures.invoices.make_fixtures import BUYER_A, SELLER_USCC, XML
from workflows.invoices import (
    DIGEST_OK_NOTE,
    UNSIGNED_NOTE,
    UNVERIFIED_NOTE,
    InvoiceTable,
    MappingIncomplete,
    assess,
    invoices_from_table,
    read_invoice_file,
    read_invoice_xml,
    sample_invoice_xml,
)
from workflows.tabular import TableError, TableLimits, TableTooLarge

pytestmark = pytest.mark.no_db

FIXTURES = Path(__file__).parents[1] / "fixtures" / "invoices"
TODAY = date(2026, 12, 7)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def assessed(data: bytes, name: str, *, seller: str = SELLER_USCC, term: int | None = 30, mapping=None):
    read = read_invoice_file(data, name)
    invoices = invoices_from_table(read, mapping) if isinstance(read, InvoiceTable) else read
    return assess(invoices, seller_uscc=seller, term_days=term, today=TODAY)


def summary(results):
    return [(r.invoice.where, r.action) for r in results]


# --- invoice lists ----------------------------------------------------------------------------


def test_an_xlsx_export_with_title_rows_maps_its_columns_and_skips_voided_and_red_letter_invoices():
    table = read_invoice_file(fixture("发票清单-标题行.xlsx"), "发票清单-标题行.xlsx")

    assert table.header_line == 4
    assert table.seller_hint == SELLER_USCC
    assert {name: table.headers[column] for name, column in table.mapping.items()}.items() >= {
        "digital_no": "数电票号码", "buyer_name": "购买方名称", "buyer_uscc": "购方识别号",
        "seller_uscc": "销方识别号", "total": "价税合计", "status": "发票状态", "positive_flag": "是否正数发票",
    }.items()
    results = assessed(fixture("发票清单-标题行.xlsx"), "发票清单-标题行.xlsx")
    assert summary(results) == [("第5行", "import"), ("第6行", "import"), ("第7行", "skip"), ("第8行", "skip")]
    first, serial = results[0].row, results[1].row
    assert (first.debtor_name, first.debtor_uscc, first.invoice_no) == (*BUYER_A, "26322000000011110001")
    assert first.amount == Decimal("113000.00")  # 价税合计, not 金额
    assert (first.issue_date, first.due_date) == (date(2026, 11, 2), date(2026, 12, 2))
    assert serial.issue_date == date(2026, 11, 9)  # an Excel serial number in General format
    assert serial.amount == Decimal("1395061.72")  # "1,395,061.72" as text
    assert "作废" in results[2].notes[0]
    assert "红字" in results[3].notes[0]


def test_a_gbk_csv_joins_invoice_code_and_number_and_reads_chinese_dates():
    results = assessed(fixture("发票清单-gbk.csv"), "发票清单-gbk.csv")

    assert summary(results) == [("第3行", "import"), ("第4行", "skip"), ("第5行", "import")]
    assert results[0].row.invoice_no == "032002300111-01234567"
    assert results[0].row.issue_date == date(2026, 11, 3)  # 2026年11月3日
    assert "红冲" in results[1].notes[0]


def test_a_list_of_another_taxpayer_is_refused_row_by_row():
    results = assessed(fixture("发票清单-gbk.csv"), "发票清单-gbk.csv", seller="91320505MA1XXXXX00")

    refused = [r for r in results if r.action == "error"]
    assert len(refused) == 2
    assert all("不是本企业开具的发票" in r.notes[0] for r in refused)


def test_amounts_that_do_not_add_up_and_a_repeated_invoice_are_errors_naming_the_row():
    text = fixture("发票清单-gbk.csv").decode("gbk")
    text = text.replace("11,300.00", "11,310.00")  # 金额 + 税额 ≠ 价税合计 on line 5
    text += text.splitlines()[2] + "\r\n"  # line 3 again, as line 6
    results = assessed(text.encode("gbk"), "list.csv")

    assert summary(results)[-2:] == [("第5行", "error"), ("第6行", "error")]
    assert "≠ 价税合计11,310.00" in results[-2].notes[0]
    assert results[-1].notes == ("与第3行重复（同一购买方和发票号码）",)


def test_a_buyer_without_a_valid_credit_code_is_an_error_in_the_lists_words():
    text = fixture("发票清单-gbk.csv").decode("gbk").replace(BUYER_A[1], "310101123456789")
    results = assessed(text.encode("gbk"), "list.csv")

    assert results[0].action == "error"
    assert results[0].notes[0].startswith("购买方纳税人识别号：")


def test_without_a_term_an_invoice_without_its_own_due_date_cannot_be_imported():
    results = assessed(fixture("发票清单-gbk.csv"), "发票清单-gbk.csv", term=None)

    assert results[0].action == "error"
    assert "到期日：不能为空" in results[0].notes


def test_a_mapping_without_the_buyer_is_incomplete_and_a_corrected_one_is_used():
    table = read_invoice_file(fixture("发票清单-gbk.csv"), "发票清单-gbk.csv")
    without_buyer = {**table.mapping, "buyer_name": None}

    with pytest.raises(MappingIncomplete) as incomplete:
        invoices_from_table(table, without_buyer)
    assert incomplete.value.missing == ["购买方名称"]
    # the user points 价税合计 at the 金额 column: the face amount follows the mapping
    moved = invoices_from_table(table, {**table.mapping, "total": table.mapping["amount"], "amount": None})
    assert moved[0].total == "8,000.00"


def test_a_file_without_an_invoice_header_is_refused():
    with pytest.raises(TableError, match="未找到发票清单的表头"):
        read_invoice_file("客户,金额\n甲,1\n".encode(), "other.csv")


# --- e-invoice XML -----------------------------------------------------------------------------


def test_e_invoice_xml_files_are_read_signed_or_not():
    results = assessed(fixture("数电票-1.xml"), "数电票-1.xml") + assessed(fixture("数电票-2.xml"), "数电票-2.xml")

    assert [r.action for r in results] == ["import", "import"]
    assert results[0].notes == (DIGEST_OK_NOTE,)
    assert "签名未验证" in DIGEST_OK_NOTE
    assert results[1].notes == (UNSIGNED_NOTE,)
    assert results[0].row.amount == Decimal("22600.00")
    assert results[0].row.issue_date == date(2026, 11, 20)


def test_an_xml_altered_after_signing_fails_its_digest():
    altered = fixture("数电票-1.xml").replace(b"22600.00", b"92600.00").replace(b"20000.00", b"90000.00")

    invoice = read_invoice_xml(altered, "改过.xml")

    assert invoice.problems == ("签名校验失败：文件内容与签名摘要不一致，发票文件在签名后被修改过",)


@pytest.mark.parametrize(("change", "problem"), [
    ((b"<ds:DigestValue>", b"<ds:DigestValue>!!"), "摘要值（DigestValue）"),
    ((b"<ds:SignedInfo>", b"<ds:Other>"), None),  # not well-formed any more
    ((b"c2FtcGxl", b"%%%%"), "签名值（SignatureValue）"),
])
def test_a_malformed_signature_block_is_an_error(change, problem):
    data = fixture("数电票-1.xml").replace(*change)
    if problem is None:  # the block's tags no longer match
        data = data.replace(b"</ds:SignedInfo>", b"</ds:Other>")
        problem = "缺少SignedInfo"

    invoice = read_invoice_xml(data, "坏签名.xml")

    assert len(invoice.problems) == 1 and problem in invoice.problems[0]


def test_a_signature_that_cannot_be_checked_offline_is_named_unverified():
    other_digest = fixture("数电票-1.xml").replace(b"xmlenc#sha256", b"xmldsig-more#whirlpool")
    bare_value = sample_invoice_xml(XML, XML.invoices[1], signed=False).replace(
        "</EInvoice>", "<SignatureValue>c2lnbmF0dXJl</SignatureValue></EInvoice>")

    assert read_invoice_xml(other_digest, "a.xml").signature == UNVERIFIED_NOTE
    assert read_invoice_xml(bare_value.encode(), "b.xml").signature == UNVERIFIED_NOTE


def test_an_xml_with_amounts_that_do_not_add_up_is_an_error():
    data = sample_invoice_xml(XML, XML.invoices[1], signed=False).replace(
        "<TotalTaxAm>3900.00", "<TotalTaxAm>3999.00")

    results = assessed(data.encode(), "金额错.xml")

    assert results[0].action == "error"
    assert "金额30,000.00 + 税额3,999.00 ≠ 价税合计33,900.00" in results[0].notes[0]


@pytest.mark.parametrize(("data", "problem"), [
    (b'<?xml version="1.0"?><!DOCTYPE EInvoice [<!ENTITY x "y">]><EInvoice>&x;</EInvoice>', "DTD或实体"),
    (b'<?xml version="1.0"?><!DOCTYPE EInvoice SYSTEM "http://example.com/e.dtd"><EInvoice/>', "DTD或实体"),
    (b"<?xml version='1.0'?><Invoice><A>1</A></Invoice>", "根元素应为EInvoice"),
    (b"<?xml version='1.0'?><EInvoice><Header>", "不是有效的XML文件"),
    (b"<?xml version='1.0'?><EInvoice><Header/></EInvoice>", "缺少元素<InvoiceNumber>"),
])
def test_xml_that_is_not_a_usable_e_invoice_is_named_without_being_resolved(data, problem):
    invoice = read_invoice_xml(data, "x.xml")

    assert problem in invoice.problems[0]
    assert assess([invoice], seller_uscc=SELLER_USCC, term_days=30)[0].action == "error"


# --- zips ---------------------------------------------------------------------------------------


def test_a_zip_of_xml_files_reads_each_and_passes_over_the_pdf_copies():
    results = assessed(fixture("数电票.zip"), "数电票.zip")

    assert summary(results) == [("数电票.zip › 数电票-1.xml", "import"), ("数电票.zip › 数电票-2.xml", "import")]


def test_a_zip_with_one_bad_file_names_it_and_keeps_the_others():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("好.xml", fixture("数电票-2.xml"))
        archive.writestr("坏.xml", b"not xml at all")

    results = assessed(buffer.getvalue(), "批量.zip")

    assert summary(results) == [("批量.zip › 好.xml", "import"), ("批量.zip › 坏.xml", "error")]


def test_a_zip_bomb_is_refused_from_its_directory():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("bomb.xml", b"<EInvoice>" + b" " * (64 * 1024 * 1024) + b"</EInvoice>")
    assert len(buffer.getvalue()) < 200 * 1024

    with pytest.raises(TableTooLarge, match="压缩比异常"):
        read_invoice_file(buffer.getvalue(), "bomb.zip")


def test_a_zip_over_the_entry_limit_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number in range(6):
            archive.writestr(f"{number}.xml", fixture("数电票-2.xml"))

    with pytest.raises(TableTooLarge, match="压缩包内文件超过5个"):
        read_invoice_file(buffer.getvalue(), "many.zip", TableLimits(max_zip_entries=5))


def test_a_zip_without_xml_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.pdf", b"%PDF")

    with pytest.raises(TableError, match="没有XML格式的电子发票"):
        read_invoice_file(buffer.getvalue(), "pdf.zip")


@pytest.mark.parametrize("written", ["2026-11-21", "2026-11-21 10:11:12", "20261121101112000", "2026年11月21日"])
def test_the_issue_time_is_read_as_e_invoices_write_it(written):
    data = sample_invoice_xml(XML, XML.invoices[1], signed=False).replace(
        "<IssuDate>2026-11-21</IssuDate>", f"<IssueTime>{written}</IssueTime>")

    results = assessed(data.encode(), "time.xml")

    assert results[0].row.issue_date == date(2026, 11, 21)


def test_pdf_and_ofd_invoices_are_refused_with_what_to_upload_instead():
    ofd = io.BytesIO()
    with zipfile.ZipFile(ofd, "w") as archive:
        archive.writestr("OFD.xml", "<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'/>")
        archive.writestr("Doc_0/Document.xml", "<ofd:Document xmlns:ofd='http://www.ofdspec.org/2016'/>")

    for data, name in ((b"%PDF-1.7 ...", "发票.pdf"), (ofd.getvalue(), "发票.ofd")):
        with pytest.raises(TableError, match="PDF或OFD版式发票"):
            read_invoice_file(data, name)
