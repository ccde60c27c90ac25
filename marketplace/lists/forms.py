"""Forms of the lists (the coordinator's review, the bank's filters) and the recommendation consent."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Optional, Regexp, ValidationError

from marketplace.form_validators import TextLength
from marketplace.lists.models import REASON_MAX
from marketplace.lists.services import MIN_YEAR
from workflows.credit_lists import LIST_KINDS


class ComputeForm(FlaskForm):
    """Compute the lists of a year now."""

    year = IntegerField(_l("年度"), validators=[InputRequired(_l("请填写年度"))])

    def validate_year(self, field):
        if field.data is not None and not MIN_YEAR <= field.data <= 9999:
            raise ValidationError(_l("年度无效（%(min)s年起）", min=MIN_YEAR))


class EntryDecisionForm(FlaskForm):
    """Include or exclude one proposed entry; excluding needs a reason (checked by the service too)."""

    decision = SelectField(_l("决定"), choices=[("included", _l("列入")), ("excluded", _l("不列入"))],
                           validators=[AnyOf(("included", "excluded"), message=_l("请选择列入或不列入"))],
                           validate_choice=False)
    reason = TextAreaField(_l("理由"), validators=[Optional(), TextLength(REASON_MAX)])

    def validate_reason(self, field):
        if self.decision.data == "excluded" and not (field.data or "").strip():
            raise ValidationError(_l("不列入须填写理由"))


class NoteForm(FlaskForm):
    """Confirm (optional note) or reject (reason required, checked by the service) a proposal."""

    note = TextAreaField(_l("说明"), validators=[Optional(), TextLength(REASON_MAX)])


class MonthForm(FlaskForm):
    """Propose a month's white-list push now."""

    month = StringField(_l("月份"), validators=[InputRequired(_l("请填写月份")),
                                               Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", message=_l("月份格式为 YYYY-MM"))])


class ListFilterForm(FlaskForm):
    """The published lists' filters (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    kind = SelectField(_l("名单"), choices=[("", _l("全部"))] + [(k, k) for k in LIST_KINDS],
                       validators=[Optional(), AnyOf(("", *LIST_KINDS), message=_l("名单类型无效"))],
                       validate_choice=False)
    year = IntegerField(_l("年度"), validators=[Optional()])


class MonthFilterForm(FlaskForm):
    class Meta:
        csrf = False

    month = StringField(_l("月份"), validators=[Optional(), Regexp(r"^\d{4}-(0[1-9]|1[0-2])$",
                                                                   message=_l("月份格式为 YYYY-MM"))])


class RecommendConsentForm(FlaskForm):
    consent = SelectField(_l("是否同意被推荐"), choices=[("yes", _l("同意")), ("no", _l("不同意"))],
                          validators=[AnyOf(("yes", "no"), message=_l("请选择是否同意"))], validate_choice=False)
