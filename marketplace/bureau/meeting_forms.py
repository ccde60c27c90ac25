"""Forms of the dispatch meetings (the coordinator's) and of closing an action item (the owner's)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from marketplace.formatting import SHANGHAI


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class MeetingForm(FlaskForm):
    """Schedule or edit a meeting; the time is entered in Beijing time."""

    title = StringField(_l("会议名称"), validators=[DataRequired(_l("请填写会议名称")), Length(max=200)])
    starts_at = DateTimeLocalField(_l("会议时间（北京时间）"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                   validators=[InputRequired(_l("请填写会议时间"))])
    place = StringField(_l("会议地点"), validators=[DataRequired(_l("请填写会议地点")), Length(max=200)])
    host = SelectField(_l("主持人"), coerce=int, validate_choice=False)
    attendees = CheckboxList(_l("参会机构"), coerce=int, validate_choice=False)
    requests = CheckboxList(_l("列入议程的滞留申请"), coerce=int, validate_choice=False)

    def validate_starts_at(self, field):
        if field.data is not None and self.starts_at_utc <= datetime.now(SHANGHAI):
            raise ValidationError(_l("会议时间不能早于当前时间"))

    def validate_attendees(self, field):
        if not field.data:
            raise ValidationError(_l("请至少选择一家参会机构"))

    @property
    def starts_at_utc(self) -> datetime:
        return self.starts_at.data.replace(tzinfo=SHANGHAI)


class TopicForm(FlaskForm):
    title = StringField(_l("议题"), validators=[DataRequired(_l("请填写议题")), Length(max=300)])


class MoveForm(FlaskForm):
    direction = HiddenField(validators=[AnyOf(("up", "down"))])


class ItemMinutesForm(FlaskForm):
    minutes = TextAreaField(_l("讨论记录"), validators=[Optional(), Length(max=5000)])
    decision = TextAreaField(_l("会议决定"), validators=[Optional(), Length(max=2000)])


class SummaryForm(FlaskForm):
    summary = TextAreaField(_l("会议纪要（综述）"), validators=[Optional(), Length(max=10000)])


class ActionItemForm(FlaskForm):
    """The owner is "org:<id>" or "user:<id>"; the due date is checked against the meeting's day by
    the service."""

    description = TextAreaField(_l("待办事项"), validators=[DataRequired(_l("请填写待办事项内容")), Length(max=2000)])
    owner = SelectField(_l("负责人"), validate_choice=False)
    due_on = DateField(_l("完成期限"), validators=[InputRequired(_l("请填写完成期限"))])
    agenda_item = SelectField(_l("相关议题"), coerce=int, validate_choice=False, default=0)

    def validate_owner(self, field):
        kind, _sep, number = (field.data or "").partition(":")
        if kind not in ("org", "user") or not number.isdigit():
            raise ValidationError(_l("请指定待办事项的负责人（机构或个人）"))

    @property
    def owner_ids(self) -> tuple[int | None, int | None]:
        kind, _sep, number = (self.owner.data or "").partition(":")
        if not number.isdigit():
            return None, None
        return (int(number), None) if kind == "org" else (None, int(number))


class CloseActionForm(FlaskForm):
    note = TextAreaField(_l("办结说明"), validators=[DataRequired(_l("请填写办结说明")), Length(max=2000)])


class ConfirmForm(FlaskForm):
    """A button's POST: the CSRF token only."""
