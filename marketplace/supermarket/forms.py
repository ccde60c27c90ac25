"""The product form (institution desk), the supermarket's filter form, and the action form."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from marketplace.financing.forms import MAX_TERM_DAYS
from marketplace.form_validators import WholeNumberRange
from marketplace.i18n import input_error, join_list, pick
from marketplace.reference.industries import INDUSTRY_DIVISIONS, industry_choices
from marketplace.reference.regions import find_regions, region_prefix_name
from marketplace.supermarket.models import (
    DEBTOR_KINDS,
    GRADES,
    PRODUCT_TYPES,
    RATE_CEILING,
    ProductVersion,
)
from marketplace.supermarket.services import Terms
from workflows.identifiers import parse_money
from workflows.matching import TYPE_DEBTOR_KINDS
from workflows.text import InputError, both

CENT = Decimal("0.01")
_SEPARATORS = re.compile(r"[\s,，、;；]+")


RATE_EMPTY = ("利率为空", "The rate is empty")
RATE_NOT_A_NUMBER = ("利率“%(value)s”不是有效的数字", "The rate “%(value)s” is not a valid number")
RATE_TOO_PRECISE = ("利率最多两位小数", "The rate can have at most two decimal places")
RATE_OUT_OF_RANGE = ("利率超出合理范围", "The rate is outside any reasonable range")


def parse_rate(text: str) -> Decimal:
    """An annual rate in percent ("4.35", "4.35%", full-width digits) with at most 2 decimals.

    Raises InputError (a ValueError) with a sentence in both languages.
    """
    value = unicodedata.normalize("NFKC", str(text or "")).strip().removesuffix("%").strip()
    if not value:
        raise InputError(both(*RATE_EMPTY))
    if not re.fullmatch(r"\d+(\.\d+)?", value):
        raise InputError(both(*RATE_NOT_A_NUMBER, value=str(text).strip()))
    try:
        rate = Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only digits
        raise InputError(both(*RATE_NOT_A_NUMBER, value=str(text).strip())) from exc
    if rate.adjusted() >= 4:  # no rate reaches 10000 %; quantize() would overflow on long digit strings
        raise InputError(both(*RATE_OUT_OF_RANGE))
    if rate != rate.quantize(CENT):
        raise InputError(both(*RATE_TOO_PRECISE))
    return rate.quantize(CENT)


def split_codes(text: str | None) -> list[str]:
    """Codes typed into one box, separated by commas (half or full width), 、, ; or spaces."""
    return [code for code in _SEPARATORS.split(unicodedata.normalize("NFKC", text or "").strip()) if code]


class TermDays(WholeNumberRange):
    """1 to MAX_TERM_DAYS days; silent when the text was not a whole number (that error is shown already)."""

    def __init__(self):
        super().__init__(min=1, max=MAX_TERM_DAYS, message=_l("期限应在1至720天之间"))

    def __call__(self, form, field):
        if field.data is not None:
            super().__call__(form, field)


def debtor_kind_choices() -> list[tuple[str, str]]:
    """The kinds of debtor a product may accept, named in the page's language (capitalised)."""
    return [(kind, pick((zh, en[:1].upper() + en[1:]))) for kind, (zh, en) in DEBTOR_KINDS.items()]


def grade_choices() -> list[tuple[str, str]]:
    return [("", _l("不限")), *((g, _l("%(g)s级及以上", g=g)) for g in GRADES)]


class ProductForm(FlaskForm):
    """A product's terms; `terms()` turns a validated form into services.Terms."""

    name = StringField(_l("产品名称"), validators=[DataRequired(_l("请填写产品名称")), Length(max=100)])
    product_type = SelectField(_l("产品类型"), validators=[DataRequired(_l("请选择产品类型"))])
    description = TextAreaField(_l("产品介绍"), validators=[Optional(), Length(max=2000)])
    amount_min = StringField(_l("最低额度（元）"), validators=[DataRequired(_l("请填写最低额度"))])
    amount_max = StringField(_l("最高额度（元）"), validators=[DataRequired(_l("请填写最高额度"))])
    term_min_days = IntegerField(_l("最短期限（天）"), validators=[InputRequired(_l("请填写最短期限")), TermDays()])
    term_max_days = IntegerField(_l("最长期限（天）"), validators=[InputRequired(_l("请填写最长期限")), TermDays()])
    rate_min = StringField(_l("最低年化利率（%）"), validators=[DataRequired(_l("请填写最低年化利率"))])
    rate_max = StringField(_l("最高年化利率（%）"), validators=[DataRequired(_l("请填写最高年化利率"))])
    min_grade = SelectField(_l("最低信用等级"), validate_choice=False)
    accepts_ungraded = BooleanField(_l("接受尚未评级的企业"), default=True)
    industries = SelectMultipleField(_l("适用行业（不选即不限）"), validate_choice=False)
    regions = StringField(_l("适用地区（不填即不限）"), validators=[Optional(), Length(max=500)])
    requires_guarantee = BooleanField(_l("需要融资担保"))
    requires_debtor_confirmation = BooleanField(_l("需要债务人确认应收账款"))
    debtor_kinds = SelectMultipleField(_l("接受的债务人类型（不选即按产品类型：政采贷只接受公共机构，其他类型不限）"),
                                       validate_choice=False, option_widget=CheckboxInput(),
                                       widget=ListWidget(prefix_label=False))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.product_type.choices = [("", _l("请选择产品类型"))] + [
            (code, pick(labels)) for code, labels in PRODUCT_TYPES.items()
        ]
        self.min_grade.choices = grade_choices()
        self.industries.choices = dict(industry_choices())  # a dict renders <optgroup>s
        self.debtor_kinds.choices = debtor_kind_choices()
        self.parsed: dict[str, Decimal] = {}

    @classmethod
    def for_version(cls, version: ProductVersion) -> ProductForm:
        """The form filled from a version's terms (when the request carries no form data)."""
        return cls(
            name=version.name, product_type=version.product_type, description=version.description,
            amount_min=f"{version.amount_min:.2f}", amount_max=f"{version.amount_max:.2f}",
            term_min_days=version.term_min_days, term_max_days=version.term_max_days,
            rate_min=f"{version.rate_min:.2f}", rate_max=f"{version.rate_max:.2f}",
            min_grade=version.min_grade or "", accepts_ungraded=version.accepts_ungraded,
            industries=list(version.industries or []), regions=", ".join(version.regions or []),
            requires_guarantee=version.requires_guarantee,
            requires_debtor_confirmation=version.requires_debtor_confirmation,
            debtor_kinds=list(version.debtor_kinds or []),
        )

    # -- one field at a time

    def validate_product_type(self, field):
        if field.data not in PRODUCT_TYPES:
            raise ValidationError(_l("请选择产品类型"))

    def _money(self, field, label):
        try:
            amount = parse_money(field.data or "")
        except ValueError as error:
            raise ValidationError(input_error(error)) from None
        if amount <= 0:
            raise ValidationError(_l("%(label)s必须大于零", label=label))
        self.parsed[field.name] = amount

    def validate_amount_min(self, field):
        self._money(field, _l("最低额度"))

    def validate_amount_max(self, field):
        self._money(field, _l("最高额度"))

    def _rate(self, field):
        try:
            rate = parse_rate(field.data or "")
        except ValueError as error:
            raise ValidationError(input_error(error)) from None
        if rate <= 0 or rate > RATE_CEILING:
            raise ValidationError(_l("年化利率应大于0且不超过%(ceiling)s%%", ceiling=f"{RATE_CEILING:.2f}"))
        self.parsed[field.name] = rate

    def validate_rate_min(self, field):
        self._rate(field)

    def validate_rate_max(self, field):
        self._rate(field)

    def validate_min_grade(self, field):
        if (field.data or "") not in ("", *GRADES):
            raise ValidationError(_l("请选择信用等级"))

    def validate_industries(self, field):
        unknown = [code for code in field.data or [] if code not in INDUSTRY_DIVISIONS]
        if unknown:
            raise ValidationError(_l("未知的行业代码：%(codes)s", codes=join_list(unknown)))

    def validate_debtor_kinds(self, field):
        unknown = [kind for kind in field.data or [] if kind not in DEBTOR_KINDS]
        if unknown:
            raise ValidationError(_l("请从列表中选择债务人类型"))

    def validate_regions(self, field):
        unknown = [typed for typed, code in self.region_codes() if code is None]
        if unknown:
            raise ValidationError(_l("未知的地区代码：%(codes)s（请填写2位省级、4位市级或6位区县级行政区划代码）",
                                     codes=join_list(unknown)))

    # -- across fields

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        p = self.parsed
        if "amount_min" in p and "amount_max" in p and p["amount_min"] > p["amount_max"]:
            self.amount_min.errors.append(_l("最低额度不能高于最高额度"))
            valid = False
        if (not self.term_min_days.errors and not self.term_max_days.errors
                and self.term_min_days.data is not None and self.term_max_days.data is not None
                and self.term_min_days.data > self.term_max_days.data):
            self.term_min_days.errors.append(_l("最短期限不能长于最长期限"))
            valid = False
        if "rate_min" in p and "rate_max" in p and p["rate_min"] > p["rate_max"]:
            self.rate_min.errors.append(_l("最低利率不能高于最高利率"))
            valid = False
        implied = TYPE_DEBTOR_KINDS.get(self.product_type.data)
        if implied is not None and not self.debtor_kinds.errors and not set(self.debtor_kinds.data or ()) <= implied:
            kinds = join_list(pick(DEBTOR_KINDS[kind]) for kind in DEBTOR_KINDS if kind in implied)
            self.debtor_kinds.errors.append(_l("%(type)s产品只接受债务人为%(kinds)s的应收账款，不能选择其他类型",
                                               type=pick(PRODUCT_TYPES[self.product_type.data]), kinds=kinds))
            valid = False
        return valid

    def region_codes(self) -> list[tuple[str, str | None]]:
        """(typed, code) for each region typed in the regions box, by code or by a name that names one
        region (江苏省, 苏州市吴中区, Jiangsu); code None when it names none or several."""
        def code_of(typed: str) -> str | None:
            found = find_regions(typed)
            return found[0] if len(found) == 1 else None

        return [(typed, code_of(typed)) for typed in split_codes(self.regions.data)]

    def region_names(self) -> list[tuple[str, str | None]]:
        """(code, name) for each region typed in the regions box; name None when unknown."""
        return [(code or typed, region_prefix_name(code) if code else None) for typed, code in self.region_codes()]

    def terms(self) -> Terms:
        return Terms(
            name=self.name.data, product_type=self.product_type.data, description=self.description.data or "",
            amount_min=self.parsed["amount_min"], amount_max=self.parsed["amount_max"],
            term_min_days=self.term_min_days.data, term_max_days=self.term_max_days.data,
            rate_min=self.parsed["rate_min"], rate_max=self.parsed["rate_max"],
            min_grade=self.min_grade.data or None, accepts_ungraded=bool(self.accepts_ungraded.data),
            industries=list(self.industries.data or []), regions=[code for _typed, code in self.region_codes() if code],
            requires_guarantee=bool(self.requires_guarantee.data),
            requires_debtor_confirmation=bool(self.requires_debtor_confirmation.data),
            debtor_kinds=list(self.debtor_kinds.data or []),
        )


GUARANTEE_CHOICES = [("", _l("不限")), ("required", _l("需要担保")), ("not_required", _l("无需担保"))]


class MarketFilterForm(FlaskForm):
    """The supermarket's filters, read from the query string (GET: no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField(_l("搜索"), validators=[Optional(), Length(max=100)])
    type = SelectField(_l("产品类型"), validate_choice=False)
    amount = StringField(_l("融资金额（元）"), validators=[Optional()])
    term = IntegerField(_l("融资期限（天）"), validators=[Optional(), TermDays()])
    max_rate = StringField(_l("最高年化利率（%）"), validators=[Optional()])
    institution = SelectField(_l("机构"), validate_choice=False)
    guarantee = SelectField(_l("是否需要担保"), choices=GUARANTEE_CHOICES, validate_choice=False)

    def __init__(self, *args, institutions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.type.choices = [("", _l("全部类型"))] + [(code, pick(labels)) for code, labels in PRODUCT_TYPES.items()]
        self.institution.choices = [("", _l("全部机构"))] + [(str(o.id), o.name) for o in institutions]
        self.parsed: dict = {}

    def validate_amount(self, field):
        if not (field.data or "").strip():
            return
        try:
            amount = parse_money(field.data)
        except ValueError as error:
            raise ValidationError(input_error(error)) from None
        if amount <= 0:
            raise ValidationError(_l("融资金额必须大于零"))
        self.parsed["amount"] = amount

    def validate_max_rate(self, field):
        if not (field.data or "").strip():
            return
        try:
            self.parsed["max_rate"] = parse_rate(field.data)
        except ValueError as error:
            raise ValidationError(input_error(error)) from None

    def filters(self) -> dict:
        """The CatalogueFilter arguments of the fields that are valid (an invalid one is ignored)."""
        institution = self.institution.data if not self.institution.errors else ""
        return {
            "q": (self.q.data or "").strip() if not self.q.errors else "",
            "product_type": self.type.data if self.type.data in PRODUCT_TYPES else "",
            "institution_id": int(institution) if (institution or "").isdigit() else None,
            "amount": self.parsed.get("amount"),
            "term_days": self.term.data if not self.term.errors else None,
            "max_rate": self.parsed.get("max_rate"),
            "guarantee": self.guarantee.data if self.guarantee.data in ("required", "not_required") else "",
        }


class ActionForm(FlaskForm):
    """Carries only the CSRF token of a POST button (publish, retire)."""
