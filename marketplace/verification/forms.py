"""The platform admin's form for a new policy version: one input per threshold."""

from __future__ import annotations

from dataclasses import fields

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from marketplace.form_validators import TextLength
from marketplace.i18n import localized, pick
from workflows.verification.policy import THRESHOLD_LABELS, Thresholds

THRESHOLD_FIELDS = tuple(THRESHOLD_LABELS)
# yes/no settings (red_flags_affect_class): a choice, not a number
SWITCH_FIELDS = frozenset(f.name for f in fields(Thresholds) if f.type in ("bool", bool))
SWITCH_CHOICES = (("false", _l("否：红旗仅作提示，不改变核验结论")), ("true", _l("是：出现红旗时“优质”降为“一般”")))


class _PolicyFormBase(FlaskForm):
    version = StringField(_l("版本号"), validators=[Length(max=20, message=_l("版本号不能超过20个字符"))])
    effective_from = DateField(_l("生效日期"), validators=[Optional()])
    note = TextAreaField(_l("说明"), validators=[TextLength(2000)])

    def threshold_fields(self):
        return [self[name] for name in THRESHOLD_FIELDS]

    def thresholds_data(self) -> dict[str, str]:
        return {name: (self[name].data or "").strip() for name in THRESHOLD_FIELDS}

    def place_problems(self, problems: list) -> None:
        """Put each problem (a Sentence: Chinese, carrying its English) under the field it names (longest
        label first), the rest on the form; each in the page's language."""
        by_label = sorted(((THRESHOLD_LABELS[n][0], n) for n in THRESHOLD_FIELDS), key=lambda p: -len(p[0]))
        for problem in problems:
            name = next((n for label, n in by_label if problem.startswith(label)), None)
            if name is None and problem.startswith("策略版本号"):
                name = "version"
            if name is None and ("生效日期" in problem):
                name = "effective_from"
            if name is None:
                self.form_errors.append(localized(problem))
            else:
                self[name].errors = [*self[name].errors, localized(problem)]


def policy_form(thresholds: Thresholds, **kwargs) -> _PolicyFormBase:
    """A form whose threshold inputs are pre-filled with `thresholds` (the policy in force)."""
    values = thresholds.as_dict()

    class PolicyForm(_PolicyFormBase):
        pass

    for name in THRESHOLD_FIELDS:
        label = pick((f"{THRESHOLD_LABELS[name][0]}（{name}）", f"{THRESHOLD_LABELS[name][1]} ({name})"))
        if name in SWITCH_FIELDS:  # any value is passed on: Thresholds.from_dict names a bad one
            setattr(PolicyForm, name, SelectField(label, choices=SWITCH_CHOICES, validate_choice=False,
                                                  default="true" if values[name] else "false"))
        else:
            setattr(PolicyForm, name, StringField(label, default=str(values[name])))
    return PolicyForm(**kwargs)
