"""Msgids that the code translates at run time from a variable, so `pybabel extract` cannot see them.

Never imported: it exists only so that extraction puts these strings in messages.pot.
Keep in step with the sources named above each group below;
delete an entry here once its source wraps the literal in a no-op marker (e.g. lazy_gettext / N_).
"""


def _(message: str) -> str:
    return message


# marketplace/accounts/views.py: LOGIN_FAILED, shown through _(LOGIN_FAILED)
_("邮箱或密码错误")

# marketplace/errors.py: MESSAGES, shown through _(title) and _(message)
_("请求有误")
_("请检查输入后重试。")
_("无权访问")
_("您没有权限查看此页面。如需访问，请联系您机构的管理员。")
_("页面不存在")
_("您要找的页面不存在或已被删除。")
_("请求方式不支持")
_("此页面不支持该操作。")
_("文件过大")
_("上传的文件超过大小限制。")
_("操作过于频繁")
_("请稍后再试。")
_("系统错误")
_("系统出现了问题，我们已记录并会尽快处理。请稍后再试。")

# marketplace/supermarket/services.py: ProductRefused messages, shown through _(str(refusal))
# in marketplace/supermarket/views.py
_("该产品已上架")
_("只有已上架的产品可以下架")

# workflows/loans.py: ValueError messages of due_dates() and equal_principal_schedule(), shown through
# _(str(error)) in marketplace/loans/views.py (schedule, restructure) when the proposed schedule
# cannot be made
_("期限须至少1天")
_("还款间隔须至少1个月")
_("金额必须大于零")
_("金额太小，不能分成这么多期")

# workflows/invoices.py: FIELDS, the invoice list's columns, shown through _l(label) in
# marketplace/receivables/invoice_forms.py
_("数电票号码")
_("发票代码")
_("发票号码")
_("购买方名称")
_("购买方纳税人识别号")
_("销售方纳税人识别号")
_("开票日期")
_("金额")
_("税额")
_("价税合计")
_("发票状态")
_("是否红字")
_("是否正数发票")
_("到期日")

# timeline notes the system writes, stored in Chinese whoever acted and shown through
# stored_text (marketplace/i18n.py): marketplace/desks/decisions.py, marketplace/guarantees/services.py,
# marketplace/desks/consent_ended.py
_("没有其他可推送的银行，请根据拒绝原因调整后重新提交")
_("没有其他可推送的担保机构，请根据拒绝原因调整后重新提交")
_("没有其他可推送的担保机构，请调整后重新提交")

# a transfer closed with its cancelled fee (marketplace/payments/services.py), shown through stored_text
_("费用已取消，转账记录随之关闭；如款项已到账，请收款机构退回")
