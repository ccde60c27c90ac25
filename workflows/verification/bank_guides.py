"""Where the major banks' online banking exports the transaction details the statement importer
reads, and in which layouts (issue 19, item 3): the first-application checklist names the
enterprise's bank's menu instead of leaving the enterprise to guess.

The layouts are those of the bank-export corpus the importer is tested on
(tests/fixtures/statements/banks, tests/workflows/test_bank_exports.py). The menus are the usual
paths of each bank's corporate online banking; their wording differs a little between versions,
which the page says. Any other bank gets the generic description.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.identifiers import normalise_name


@dataclass(frozen=True)
class BankGuide:
    code: str
    name: tuple[str, str]  # (zh, en)
    aliases: tuple[str, ...]  # names and short names a statement or a person uses for the bank
    menu: tuple[str, str]  # (zh, en): the path to the export
    layouts: tuple[str, ...]  # file layouts of this bank the importer is tested on


GENERIC = BankGuide(
    "other", ("其他银行", "Other banks"), (),
    ("网上银行 → 账户管理（或“账户查询”）→ 交易明细查询 → 选择起止日期 → 导出 Excel 或 CSV",
     "Online banking → Accounts (or Account enquiry) → Transaction details → pick the dates → "
     "export as Excel or CSV"),
    ("CSV（GBK、GB18030、UTF-8）", "XLSX", "XLS"),
)

GUIDES: tuple[BankGuide, ...] = (
    BankGuide("icbc", ("中国工商银行", "ICBC"), ("工商银行", "工行", "ICBC"),
              ("企业网上银行 → 账户管理 → 明细查询 → 选择账户和日期 → 下载（Excel 或文本格式）",
               "Corporate online banking → Account management → Detail enquiry → pick the account and "
               "dates → Download (Excel or text)"),
              ("CSV（GBK，制表符分隔）", "CSV（GB18030）", "XLSX")),
    BankGuide("abc", ("中国农业银行", "Agricultural Bank of China"), ("农业银行", "农行", "ABC"),
              ("企业网上银行 → 账户管理 → 账户明细查询 → 导出 Excel",
               "Corporate online banking → Account management → Account details → Export Excel"),
              ("XLSX", "CSV（GBK）")),
    BankGuide("boc", ("中国银行", "Bank of China"), ("中行", "BOC"),
              ("企业网银 → 账户管理 → 交易明细查询 → 下载（Excel）",
               "Corporate online banking → Account management → Transaction details → Download (Excel)"),
              ("XLS（网页格式）", "XLSX")),
    BankGuide("ccb", ("中国建设银行", "China Construction Bank"), ("建设银行", "建行", "CCB"),
              ("企业网上银行 → 账户查询 → 明细查询 → 下载（Excel 或文本）",
               "Corporate online banking → Account enquiry → Detail enquiry → Download (Excel or text)"),
              ("CSV（UTF-8）", "CSV（GB18030）", "XLS")),
    BankGuide("bocom", ("交通银行", "Bank of Communications"), ("交行", "BOCOM"),
              ("企业网银 → 账户服务 → 账户明细查询 → 导出",
               "Corporate online banking → Account services → Account details → Export"),
              ("XLSX", "CSV（UTF-8）")),
    BankGuide("psbc", ("中国邮政储蓄银行", "Postal Savings Bank of China"), ("邮储银行", "邮政储蓄", "PSBC"),
              ("网上银行 → 账户管理 → 交易明细查询 → 导出 Excel",
               "Online banking → Account management → Transaction details → Export Excel"),
              ("CSV（GBK）",)),
    BankGuide("cmb", ("招商银行", "China Merchants Bank"), ("招行", "CMB"),
              ("企业网银 → 账务查询 → 交易查询 → 导出（Excel 或 CSV）",
               "Corporate online banking → Account enquiry → Transactions → Export (Excel or CSV)"),
              ("CSV（GBK）",)),
    BankGuide("spdb", ("上海浦东发展银行", "Shanghai Pudong Development Bank"), ("浦发银行", "浦发", "SPDB"),
              ("企业网银 → 账户管理 → 账户明细查询 → 下载 Excel",
               "Corporate online banking → Account management → Account details → Download Excel"),
              ("XLSX",)),
    BankGuide("cib", ("兴业银行", "Industrial Bank"), ("兴业", "CIB"),
              ("企业网银 → 账户管理 → 交易明细查询 → 导出",
               "Corporate online banking → Account management → Transaction details → Export"),
              ("CSV（UTF-8）",)),
    BankGuide("citic", ("中信银行", "China CITIC Bank"), ("中信", "CITIC"),
              ("企业网银 → 账户管理 → 账户明细查询 → 下载",
               "Corporate online banking → Account management → Account details → Download"),
              ("CSV（UTF-8）",)),
    BankGuide("ceb", ("中国光大银行", "China Everbright Bank"), ("光大银行", "光大", "CEB"),
              ("企业网银 → 账户管理 → 交易明细查询 → 导出 Excel",
               "Corporate online banking → Account management → Transaction details → Export Excel"),
              ("XLS（网页格式，GBK）",)),
    BankGuide("cmbc", ("中国民生银行", "China Minsheng Bank"), ("民生银行", "民生", "CMBC"),
              ("企业网银 → 账户管理 → 账户明细查询 → 导出 Excel",
               "Corporate online banking → Account management → Account details → Export Excel"),
              ("XLSX",)),
    BankGuide("pingan", ("平安银行", "Ping An Bank"), ("平安",),
              ("企业网银 → 账户管理 → 交易明细查询 → 导出",
               "Corporate online banking → Account management → Transaction details → Export"),
              ("CSV（UTF-8）", "TXT（UTF-16，制表符分隔）")),
    BankGuide("hxb", ("华夏银行", "Hua Xia Bank"), ("华夏", "HXB"),
              ("企业网银 → 账户查询 → 交易明细查询 → 导出",
               "Corporate online banking → Account enquiry → Transaction details → Export"),
              ("CSV（UTF-8）",)),
    BankGuide("rcb", ("农村商业银行", "Rural commercial banks"), ("农商银行", "农商行", "农村商业银行", "农信社"),
              ("网上银行或手机银行 → 账户查询 → 交易明细 → 导出或下载",
               "Online or mobile banking → Account enquiry → Transaction details → Export or download"),
              ("CSV（GBK）", "XLS")),
)
_BY_CODE = {guide.code: guide for guide in GUIDES}


def guide_for(code: str | None) -> BankGuide:
    """The guide of the bank with this code; the generic one for any other."""
    return _BY_CODE.get(code or "", GENERIC)


def guide_for_bank_name(name: str | None) -> BankGuide:
    """The guide of the bank a name belongs to ("中国工商银行苏州分行", "招行"); the generic one
    when no major bank's name or short name is in it. Longer names are tried first, so that
    "中国农业银行" is not taken for a rural commercial bank."""
    text = normalise_name(name or "")
    if not text:
        return GENERIC
    candidates = sorted(((normalise_name(alias), guide) for guide in GUIDES for alias in (guide.name[0], *guide.aliases)),
                        key=lambda pair: -len(pair[0]))
    return next((guide for alias, guide in candidates if alias in text), GENERIC)
