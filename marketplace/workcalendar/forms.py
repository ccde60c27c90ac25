"""The admin's form for one year's official arrangement of holidays and make-up working days."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, ValidationError

from workflows.working_days import parse_table


def lines(text: str | None) -> list[str]:
    """One day or range per line (commas and 、 also separate), blanks dropped."""
    cleaned = (text or "").replace("，", ",").replace("、", ",").replace(",", "\n")
    return [line.strip() for line in cleaned.splitlines() if line.strip()]


class CalendarYearForm(FlaskForm):
    holidays = TextAreaField(_l("放假日期"), validators=[Length(max=4000)])
    workdays = TextAreaField(_l("调休上班日期"), validators=[Length(max=2000)])
    source_note = StringField(_l("依据（通知文号）"), validators=[Length(max=200)])

    def __init__(self, year: int, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.year = year

    def validate_workdays(self, field):
        try:
            parse_table({self.year: {"holidays": lines(self.holidays.data), "workdays": lines(field.data)}},
                        setting=str(self.year))
        except ValueError as problem:
            raise ValidationError(_l("日期有误：%(problem)s（每行一个日期 YYYY-MM-DD，或区间 YYYY-MM-DD..YYYY-MM-DD，"
                                     "均须在 %(year)s 年内，同一天不能既放假又上班）", problem=str(problem),
                                     year=self.year)) from None
