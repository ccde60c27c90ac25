"""The confirmed white-list push as a spreadsheet for banks (the bureau's XLSX writer)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask_babel import gettext as _

from marketplace.bureau.spreadsheets import INTEGER, TEXT, Column, Sheet, to_xlsx
from marketplace.i18n import is_english
from marketplace.lists.models import WhitelistPushEntry
from marketplace.reference.industries import industry_name
from marketplace.reference.regions import region_name
from workflows.identifiers import mask_id


def whitelist_sheet(entries: Sequence[WhitelistPushEntry], month: date | None) -> Sheet:
    english = is_english()
    columns = [Column(_("推送月份"), TEXT, 10), Column(_("企业名称"), TEXT, 36),
               Column(_("统一社会信用代码"), TEXT, 22), Column(_("地区"), TEXT, 24), Column(_("行业"), TEXT, 24),
               Column(_("信用等级"), TEXT, 8), Column(_("评分"), INTEGER, 8), Column(_("推荐理由"), TEXT, 60)]
    rows = [(month.strftime("%Y-%m") if month else "", e.enterprise.name, mask_id(e.enterprise.uscc),
             region_name(e.enterprise.region_code), industry_name(e.enterprise.industry_code) or "",
             e.grade, e.score, e.reason_en if english else e.reason_zh) for e in entries]
    return Sheet(_("白名单推送"), columns, rows)


def whitelist_xlsx(entries: Sequence[WhitelistPushEntry], month: date | None) -> bytes:
    return to_xlsx([whitelist_sheet(entries, month)])
