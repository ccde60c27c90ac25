"""Industry and region pickers: what a person typed or chose (a code, full-width digits, a name in
Chinese or English, a picker's "code name" label) read as a code, or refused with a message that
says why. The form fields render an <input list> with a <datalist> (templates/macros/names.html),
which a browser searches as one types and which works without JavaScript."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup
from wtforms import StringField

from marketplace.i18n import is_english
from marketplace.reference.industries import INDUSTRY_DIVISIONS, find_industry, industry_name
from marketplace.reference.regions import find_regions, region_choices, region_name

TYPED_SHOWN = 40  # characters of what was typed, repeated in a message


@dataclass(frozen=True)
class Picked:
    code: str | None  # None: nothing typed, or refused
    error: str | None = None  # why it was refused, in the page's language


def _typed(text: str) -> str:
    return text if len(text) <= TYPED_SHOWN else text[:TYPED_SHOWN] + "…"


def pick_industry(typed: str | None) -> Picked:
    """A GB/T 4754 division from a code or a name; an unknown one refused."""
    text = (typed or "").strip()
    if not text:
        return Picked(None)
    code = find_industry(text)
    if code is None:
        return Picked(None, _("未知的行业：%(typed)s。请从列表中选择，或填写两位行业代码（GB/T 4754）", typed=_typed(text)))
    return Picked(code)


def pick_region(typed: str | None, counties_only: bool = False) -> Picked:
    """A division (province, city or county; only a county when `counties_only`) from a code or a
    name; an unknown or ambiguous one refused, the ambiguous one with its candidates named."""
    text = (typed or "").strip()
    if not text:
        return Picked(None)
    codes = find_regions(text)
    if counties_only:
        codes = [code for code in codes if len(code) == 6] or codes
    if not codes:
        return Picked(None, _("未知的地区：%(typed)s。请从列表中选择，或填写行政区划代码", typed=_typed(text)))
    if len(codes) > 1:
        names = ("; " if is_english() else "；").join(f"{region_name(code)} ({code})" for code in codes[:5])
        return Picked(None, _("“%(typed)s”可指多个地区：%(names)s。请填写其中之一的代码或完整名称",
                              typed=_typed(text), names=names))
    if counties_only and len(codes[0]) != 6:
        return Picked(None, _("请选择区县一级的地区（6位代码）：%(name)s 是省或市", name=region_name(codes[0])))
    return Picked(codes[0])


def industry_label(code: str | None) -> str:
    """What the picker shows for a chosen division: "34 通用设备制造业"."""
    return f"{code} {industry_name(code) or ''}".strip() if code else ""


def region_label(code: str | None) -> str:
    """What the picker shows for a chosen region: "320506 江苏省苏州市吴中区"."""
    return f"{code} {region_name(code)}".strip() if code else ""


def region_options() -> list[tuple[str, str]]:
    return region_choices()


def industry_options() -> list[tuple[str, str]]:
    return [(code, industry_label(code)) for code in INDUSTRY_DIVISIONS]


def render_picker(field_id: str, name: str, value: str, options: list[tuple[str, str]], **attrs) -> Markup:
    """The picker's HTML, from the one macro the filters also call."""
    macro = current_app.jinja_env.get_template("macros/names.html").module.picker
    attrs = {key.rstrip("_"): value for key, value in attrs.items()}  # class_ -> class, as WTForms does
    return macro(field_id, name, value, options, attrs)


class _PickerField(StringField):
    """A text input with a datalist; `data` is the code, what was typed stays shown when refused."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.typed = ""

    def pick(self, typed: str) -> Picked:
        raise NotImplementedError

    def label_of(self, code: str | None) -> str:
        raise NotImplementedError

    def options(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def process_formdata(self, valuelist):
        self.typed = valuelist[0] if valuelist else ""
        picked = self.pick(self.typed)
        self.data = picked.code or ""
        if picked.error:
            raise ValueError(picked.error)

    def _value(self):
        if self.typed and not self.data:
            return self.typed
        return self.label_of(self.data)

    def __call__(self, **kwargs):
        return render_picker(kwargs.pop("id", self.id), self.name, self._value(), self.options(), **kwargs)


class IndustryField(_PickerField):
    """A GB/T 4754 division, chosen from the list or typed as a code or a name."""

    def pick(self, typed):
        return pick_industry(typed)

    def label_of(self, code):
        return industry_label(code)

    def options(self):
        return industry_options()


class RegionField(_PickerField):
    """A region, chosen from the provinces and cities listed or typed as any division's code or name;
    `counties_only` asks for a county-level division; `six_digits` stores a province or city the
    GB/T 2260 way, padded with zeros (3205 -> 320500, which region_prefix reads back)."""

    def __init__(self, label=None, validators=None, counties_only: bool = False, six_digits: bool = False,
                 **kwargs):
        super().__init__(label, validators, **kwargs)
        self.counties_only, self.six_digits = counties_only, six_digits

    def pick(self, typed):
        picked = pick_region(typed, counties_only=self.counties_only)
        return Picked(picked.code.ljust(6, "0")) if picked.code and self.six_digits else picked

    def label_of(self, code):
        return region_label(code)

    def options(self):
        return region_options()
