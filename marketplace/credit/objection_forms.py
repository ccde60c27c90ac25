"""Forms of objections (异议) and credit repair (信用修复): the enterprise files, the provider or the
platform answers, the bureau or the platform decides. The services check everything again."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from marketplace.credit.objections import MAX_EVIDENCE, REASON_MAX, REPLY_MAX, TITLE_MAX
from marketplace.credit.repairs import COMMITMENT_MAX
from marketplace.credit.repairs import REASON_MAX as DECISION_REASON_MAX
from marketplace.form_validators import TextLength

EVIDENCE_LABEL = _l("证明材料（PDF、JPG、PNG，最多%(n)s个，可不传）", n=MAX_EVIDENCE)


class ObjectionForm(FlaskForm):
    reason = TextAreaField(_l("异议理由"), validators=[DataRequired(_l("请填写异议理由")),
                                                   TextLength(REASON_MAX)])
    evidence = MultipleFileField(EVIDENCE_LABEL)
    confirm = BooleanField(_l("我确认以上内容真实，并了解提出异议后该记录将标注“异议处理中”"),
                           validators=[DataRequired(_l("请勾选确认"))])


class RepairForm(FlaskForm):
    commitment = TextAreaField(_l("信用修复承诺"), validators=[DataRequired(_l("请填写信用修复承诺")),
                                                         TextLength(COMMITMENT_MAX)])
    evidence = MultipleFileField(EVIDENCE_LABEL)
    confirm = BooleanField(_l("我代表本企业作出以上信用修复承诺，并对所附材料的真实性负责"),
                           validators=[DataRequired(_l("请勾选确认"))])


OUTCOME_CHOICES = [("corrected", _l("已更正：按下方更正内容修改记录")), ("removed", _l("删除该记录")),
                   ("cannot_confirm", _l("无法核实，维持原记录"))]


class AnswerObjectionForm(FlaskForm):
    outcome = RadioField(_l("处理结果"), choices=OUTCOME_CHOICES, validators=[InputRequired(_l("请选择处理结果"))])
    reply = TextAreaField(_l("书面答复"), validators=[DataRequired(_l("请填写书面答复")),
                                                  TextLength(REPLY_MAX)])
    title = StringField(_l("更正后的标题"), validators=[Optional(), Length(max=TITLE_MAX)])
    # amounts and dates as text: the service parses them and names a bad one in Chinese
    amount = StringField(_l("更正后的金额（元）"), validators=[Optional(), Length(max=24)])
    occurred_on = StringField(_l("更正后的发生日期"), validators=[Optional(), Length(max=10)])
    ended_on = StringField(_l("更正后的结束日期"), validators=[Optional(), Length(max=10)])

    def corrections(self) -> dict:
        """The correction fields filled in (only for the outcome `corrected`)."""
        fields = {name: (getattr(self, name).data or "").strip() for name in ("title", "amount", "occurred_on",
                                                                             "ended_on")}
        return {name: value for name, value in fields.items() if value}


DECISION_CHOICES = [("approved", _l("通过：该记录不再向金融机构展示")), ("rejected", _l("不通过"))]


class RepairDecisionForm(FlaskForm):
    decision = RadioField(_l("审核结果"), choices=DECISION_CHOICES, validators=[InputRequired(_l("请选择审核结果"))])
    reason = TextAreaField(_l("审核意见"), validators=[DataRequired(_l("请填写审核意见")),
                                                   TextLength(DECISION_REASON_MAX)])
