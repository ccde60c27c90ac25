"""The statement of account (还款明细) PDF, for the enterprise and for the bank that lent: the
schedule, the repayments and how each was allocated, what is outstanding, days past due."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from decimal import Decimal

from marketplace.formatting import today_shanghai
from tests.factories import make_enterprise_user
from tests.loans.helpers import accepted, repay, scheduled
from tests.supermarket.products import lender


def pdf_text(data: bytes, tmp_path) -> str:
    assert data.startswith(b"%PDF")
    pdf = tmp_path / "statement.pdf"
    pdf.write_bytes(data)
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert any(name in fonts for name in ("WenQuanYi", "Noto", "CJK", "Hei")), fonts  # a Chinese font embedded
    return "".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
                   .stdout.split())


def test_the_statement_shows_schedule_allocation_and_days_past_due(app, client, login, tmp_path):
    deal = accepted(app, accepted_days_ago=60)
    start = today_shanghai() - timedelta(days=60)
    loan = scheduled(app, deal, on=start, rows=[(start + timedelta(days=20), Decimal("100000.00"), Decimal("200.00")),
                                                (start + timedelta(days=90), Decimal("100000.00"), Decimal("700.00"))])
    repay(app, deal, loan, "150.00", on=start + timedelta(days=25))
    response = login(deal.owner).get(f"/financing/{deal.request.id}/loan/statement.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data, tmp_path)
    assert "还款明细" in text and deal.request.enterprise.name in text
    assert "第1期：150.00/0.00" in text  # interest first
    assert "40（31-60天档）" in text  # the loan's days past due and bucket
    assert "100,050.00" in text  # the first instalment's unpaid part
    bank = login(deal.bank).get(f"/institution/requests/{deal.request.id}/loan/statement.pdf")
    assert bank.status_code == 200 and bank.data.startswith(b"%PDF")


def test_only_the_borrower_and_its_bank_get_the_statement(app, client, login):
    deal = accepted(app)
    rid = deal.request.id
    assert login(deal.owner).get(f"/financing/{rid}/loan/statement.pdf").status_code == 404  # no loan yet
    scheduled(app, deal)
    assert login(make_enterprise_user()).get(f"/financing/{rid}/loan/statement.pdf").status_code == 404
    assert login(lender(name="别家银行")).get(f"/institution/requests/{rid}/loan/statement.pdf").status_code == 404
    page = login(deal.owner).get(f"/financing/{rid}/loan").get_data(as_text=True)
    assert 'data-testid="statement-pdf"' in page
