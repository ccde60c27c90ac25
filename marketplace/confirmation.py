"""Irreversible actions ask first, with or without JavaScript.

A form for such an action carries `data-confirm="question"`; static/app.js asks the question with
confirm() and, on yes, adds the hidden field `confirmed=1`. A POST to an endpoint listed in
IRREVERSIBLE without that field (a client without JavaScript) is not acted on: this module's
before_request answers with a confirmation page of its own (templates/confirm.html) that says what
the action does, re-posts the same form data with a fresh CSRF token and `confirmed=1`, and links
back. Only the confirmed POST reaches the view.

Forms whose own fields already make the user confirm on the server (a required "我确认……"
checkbox: filing an objection, applying for credit repair, disabling a user) are not listed; nor
may a form that uploads files be (the page cannot carry them): give it such a checkbox instead.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from marketplace.web_security import safe_next

CONFIRMED_FIELD = "confirmed"

# endpoint -> (the action, as in "确认要<action>吗？"; what follows from it)
IRREVERSIBLE: dict[str, tuple] = {
    "financing.withdraw": (_l("撤回该融资申请"), _l("撤回后申请将终止，质押的应收账款将被释放。")),
    "desk.decline": (_l("拒绝该申请"), _l("拒绝后本机构将不再处理该申请。")),
    "desk_enterprise.accept": (_l("接受该报价"), _l("接受后其他报价将关闭，且不能撤销。")),
    "guarantees.accept": (_l("接受该担保方案"), _l("接受后需缴纳担保费，且不能撤销。")),
    "loans.disburse": (_l("登记放款"), _l("放款登记后不能修改或撤销，企业将收到通知。")),
    "loans.repay": (_l("登记还款"), _l("还款登记后不能修改或撤销。")),
    "loans.prepay": (_l("登记提前还款"), _l("提前还款登记后不能修改或撤销，剩余还款计划将重算或关闭。")),
    "loans.restructure": (_l("登记重组"), _l("重组登记后不能撤销，企业将收到通知。")),
    "loans.schedule": (_l("登记还款计划"), _l("还款计划登记后不能修改，借款将进入还款阶段。")),
    "provider_objections.detail": (_l("提交异议答复"), _l("答复提交后不能修改，处理结果将立即生效并通知企业。")),
    "admin_objections.objection": (_l("提交异议答复"), _l("答复提交后不能修改，处理结果将立即生效并通知企业。")),
    "admin_objections.repair": (_l("提交信用修复审核决定"),
                                _l("审核决定提交后不能修改；通过后该记录将不再向金融机构展示。")),
    "bureau_objections.repair": (_l("提交信用修复审核决定"),
                                 _l("审核决定提交后不能修改；通过后该记录将不再向金融机构展示。")),
    "receivables.answer_confirmation": (_l("提交对该应收账款的答复"), _l("确认或异议提交后不可撤回。")),
    "debtor_requests.revoke": (_l("撤回该确认请求"), _l("撤回后债务人的链接立即作废。")),
    "receivables.delete": (_l("删除该应收账款"), _l("该应收账款及其材料、确认记录将一并删除且不可恢复。")),
    "receivables.delete_document": (_l("删除该材料"), _l("删除后不可恢复。")),
    "lists.compute": (_l("重新计算名单"), _l("将按当前数据重新计算本辖区该年度的名单，未确认的旧提议会被取代。")),
    "lists.confirm": (_l("发布本年度名单"), _l("确认发布后不能修改。")),
    "lists.reject": (_l("驳回该名单提议"), _l("驳回后本提议不再发布。")),
    "lists.confirm_push": (_l("推送白名单"), _l("推送名单将出现在各银行的融资线索中，不能撤回。")),
    "payments.confirm_transfer": (_l("确认已收到该转账"), _l("确认后不能撤销。")),
    "payments.confirm_recorded_transfer": (_l("确认该转账已到账"), _l("确认后不能撤销。")),
    "enterprises.sign_commitment": (_l("签署信用承诺书"), _l("签署后不可撤回，将以本企业名义作出承诺。")),
    "enterprises.revoke_consent": (_l("撤销该数据授权"),
                                   _l("撤销后该机构将无法再查询相关数据，正在审查的融资申请也将对其关闭。")),
    "enterprises.enable_user": (_l("重新启用该用户"), _l("启用后该用户可以再次登录。")),
    "admin.enable_user": (_l("重新启用该用户"), _l("启用后该用户可以再次登录。")),
    "admin.reset_totp": (_l("重置该用户的动态验证码"), _l("该用户下次登录时需要重新绑定动态验证码。")),
    "supermarket.publish_product": (_l("上架该产品"), _l("上架后所有企业都能在金融超市看到并申请该产品。")),
    "supermarket.retire_product": (_l("下架该产品"), _l("下架后企业将无法再看到和选择该产品，已提交的申请不受影响。")),
    "actions.detail": (_l("办结该事项"), _l("办结后该事项不再处于待办状态。")),
    "meetings.close": (_l("结束会议并定稿纪要"), _l("结束后纪要、议程和参会机构都不能再修改。")),
    "meetings.remove_topic": (_l("删除该议题"), _l("删除后不可恢复。")),
}


def is_confirmed() -> bool:
    return request.form.get(CONFIRMED_FIELD) == "1"


def _back_url() -> str:
    """Where "cancel" leads: the page the form was on (this site only), else the home page."""
    referrer = request.referrer or ""
    try:
        parts = urlsplit(referrer)
    except ValueError:
        parts = None
    if parts is not None and parts.netloc == request.host:
        back = safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))
        if back:
            return back
    return url_for("main.index")


def ask_unless_confirmed():
    """before_request (after the route-access check): the confirmation page for an unconfirmed
    POST to an irreversible endpoint; None lets the request through to its view."""
    if request.method != "POST" or request.endpoint not in IRREVERSIBLE or is_confirmed():
        return None
    action, consequence = IRREVERSIBLE[request.endpoint]
    fields = [(name, value) for name, value in request.form.items(multi=True)
              if name not in (CONFIRMED_FIELD, "csrf_token")]
    return render_template("confirm.html", action=action, consequence=consequence, fields=fields,
                           target=request.full_path if request.query_string else request.path,
                           back=_back_url())


def init_app(app: Flask) -> None:
    app.before_request(ask_unless_confirmed)
