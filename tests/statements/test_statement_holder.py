"""Statement import service (issue 11, item 2): whose statement it is, and what the parser noticed.

The holder is the enterprise, or for an individual business (credit code 92...) its operator,
whose personal card it banks on. Warnings are kept with the stored file for its page.
"""

from __future__ import annotations

import json
from itertools import count
from pathlib import Path

import pytest
from sqlalchemy import func, select

from marketplace.audit import AuditEvent
from marketplace.extensions import db
from marketplace.statements import services
from marketplace.statements.models import StatementFile, StatementTransaction
from tests.factories import EnterpriseFactory, make_enterprise_user, make_uscc

BANKS = Path(__file__).resolve().parent.parent / "fixtures" / "statements" / "banks"
SERIALS = count(700_001)
MANIFEST = {entry["file"]: entry for entry in json.loads((BANKS / "manifest.json").read_text(encoding="utf-8"))}


def individual_business(name: str, operator: str):
    return EnterpriseFactory(name=name, legal_rep_name=operator,
                             uscc=make_uscc(next(SERIALS), prefix="92320509"))


def import_file(enterprise, name: str) -> StatementFile:
    user = make_enterprise_user(enterprise=enterprise)
    return services.import_statement(enterprise, user, (BANKS / name).read_bytes(), name)


def stored_count() -> int:
    return db.session.scalar(select(func.count()).select_from(StatementFile))


def test_an_individual_business_imports_its_operators_personal_card(ctx):
    enterprise = individual_business("苏州市吴中区建国五金经营部", "王建国")
    record = import_file(enterprise, "icbc_personal_gb18030_pairs.csv")
    assert record.account_name == "王建国"
    assert record.row_count == MANIFEST["icbc_personal_gb18030_pairs.csv"]["rows"]
    assert [w["code"] for w in record.parse_warnings] == ["holder_operator"]


def test_a_masked_holder_name_matches_the_operator(ctx):
    entry = MANIFEST["ccb_personal.xls"]
    enterprise = individual_business("苏州市相城区晓明农资经营部", entry["enterprise_operator"])
    record = import_file(enterprise, "ccb_personal.xls")
    assert record.account_name == "张*明" and record.row_count == entry["rows"]


def test_the_operators_card_is_refused_for_a_company(ctx):
    enterprise = EnterpriseFactory(name="苏州建国五金有限公司", legal_rep_name="王建国")  # 91...: a company
    before = stored_count()
    with pytest.raises(services.StatementRefused, match="流水账户户名“王建国”与本企业名称不一致"):
        import_file(enterprise, "icbc_personal_gb18030_pairs.csv")
    assert stored_count() == before


def test_another_persons_card_is_refused_for_an_individual_business_naming_its_operator(ctx):
    enterprise = individual_business("苏州市吴中区秀英百货店", "李秀英")
    before = db.session.scalar(select(func.count()).select_from(StatementTransaction))
    with pytest.raises(services.StatementRefused) as refused:
        import_file(enterprise, "icbc_personal_gb18030_pairs.csv")
    assert "王建国" in str(refused.value) and "李秀英" in str(refused.value)
    assert db.session.scalar(select(func.count()).select_from(StatementTransaction)) == before


def test_the_company_whose_holder_sits_beside_the_period_line_is_accepted(ctx):
    """The statement once refused as another company's because 至 was read as the holder."""
    entry = MANIFEST["cmb_corporate_to_line.csv"]
    record = import_file(EnterpriseFactory(name=entry["holder"]), "cmb_corporate_to_line.csv")
    assert record.account_name == entry["holder"] and record.row_count == entry["rows"]
    assert record.parse_warnings is None


def test_a_company_statement_of_another_company_is_still_refused(ctx):
    with pytest.raises(services.StatementRefused, match="与本企业名称不一致"):
        import_file(EnterpriseFactory(name="无锡别家贸易有限公司"), "cmb_corporate_to_line.csv")


def test_warnings_are_kept_with_the_stored_file_and_audited(ctx):
    entry = MANIFEST["psbc_farm_masked_balance.csv"]
    enterprise = individual_business("吴江区平望镇国平家庭农场", entry["holder"])
    record = import_file(enterprise, "psbc_farm_masked_balance.csv")
    codes = [w["code"] for w in record.parse_warnings]
    assert codes == ["balance_masked", "holder_operator"]
    assert all(set(w) == {"code", "line", "zh", "en"} for w in record.parse_warnings)
    assert [w.code for w in services.import_statement_warnings(record)] == codes
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "statement.imported")
                               .order_by(AuditEvent.id.desc())).first()
    assert event.details["warnings"] == codes


def test_a_rejected_file_carries_its_errors_in_both_languages(ctx):
    enterprise = EnterpriseFactory()
    data = "交易日期,交易金额,借贷标志\r\n2024-01-05,100.00,贷 Cr\r\n2024-01-06,5.00,转账\r\n".encode("gbk")
    with pytest.raises(services.StatementRejected) as rejected:
        services.import_statement(enterprise, make_enterprise_user(enterprise=enterprise), data, "a.csv")
    [error] = rejected.value.errors
    assert error.line == 3 and "转账" in error.reason and "not a known direction" in error.text("en")
