"""A sample bank statement in the shape most Chinese banks export: a title line, an account block
with several label/value pairs on one line, the header, separate 借方/贷方 columns, a balance, a
subtotal and a disclaimer below the table. Offered for download on the upload page so a user can
see what the importer reads; the upload page's tests parse it."""

from __future__ import annotations

import csv
import io

SAMPLE_HOLDER = "示例科技有限公司"

_ROWS = (
    # date, summary, counterparty, counterparty account, debit (out), credit (in), balance
    ("2026-01-05 09:12:44", "货款", "苏州示例客户甲有限公司", "3202001122334455667", "", "120,000.00", "320,000.00"),
    ("2026-01-08 14:03:10", "工资", "", "", "86,500.00", "", "233,500.00"),
    ("2026-01-20 10:45:00", "材料款", "无锡示例供应商有限公司", "6228480012345678901", "45,000.00", "", "188,500.00"),
    ("2026-02-03 16:20:31", "货款", "苏州示例客户乙有限公司", "3101200099887766554", "", "98,000.00", "286,500.00"),
    ("2026-02-15 11:00:00", "电费", "国网江苏省电力有限公司苏州供电分公司", "", "3,216.40", "", "283,283.60"),
    ("2026-03-02 09:30:18", "货款", "苏州示例客户甲有限公司", "3202001122334455667", "", "150,000.00", "433,283.60"),
)


def sample_statement_csv() -> bytes:
    """The sample as UTF-8 CSV with a BOM (Excel opens it with the Chinese intact)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["账户交易明细查询"])
    writer.writerow(["户名：", SAMPLE_HOLDER, "账号：", "32250199880600001234", "币种：", "人民币"])
    writer.writerow(["开户行：", "示例银行苏州分行", "起止日期：", "2026-01-01", "至", "2026-03-31"])
    writer.writerow(["交易时间", "摘要", "对方户名", "对方账号", "借方发生额", "贷方发生额", "余额"])
    writer.writerows(_ROWS)
    writer.writerow(["合计", "", "", "", "134,716.40", "368,000.00", ""])
    writer.writerow(["以上数据仅供参考，具体以银行记账为准。"])
    return out.getvalue().encode("utf-8-sig")
