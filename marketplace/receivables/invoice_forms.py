"""Forms of the invoice import: the upload, and the preview (mapping, payment term, the draft)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import HiddenField, IntegerField, SelectField
from wtforms.validators import DataRequired, InputRequired, NumberRange, ValidationError

from marketplace.receivables.invoice_import import TERM_RANGE
from workflows.invoices import FIELDS

ACCEPT = ".xlsx,.xls,.csv,.xml,.zip"
_TERM_VALIDATORS = [
    InputRequired(_l("请填写默认账期（天）")),
    NumberRange(*TERM_RANGE, message=_l("默认账期应为%(min)s至%(max)s天")),
]


class _TermForm(FlaskForm):
    term_days = IntegerField(_l("默认账期（天）"), validators=_TERM_VALIDATORS,
                             render_kw={"min": TERM_RANGE[0], "max": TERM_RANGE[1], "inputmode": "numeric"})


class InvoiceUploadForm(_TermForm):
    files = MultipleFileField(_l("发票文件"), render_kw={"accept": ACCEPT})

    def validate_files(self, field):
        if not [upload for upload in field.data or [] if upload and upload.filename]:
            raise ValidationError(_l("请选择要导入的发票文件"))

    def uploads(self) -> list[tuple[str, bytes]]:
        return [(upload.filename or "", upload.read()) for upload in self.files.data if upload and upload.filename]


class InvoicePreviewForm(_TermForm):
    """The draft travels as a signed token; each field's column can be chosen again."""

    token = HiddenField(validators=[DataRequired(_l("预览数据无效，请重新上传文件"))])

    def set_columns(self, headers: tuple[str, ...]) -> None:
        """Offer the list's header columns for every field (openpyxl imported on first use, not at
        start-up, where it costs a second)."""
        from openpyxl.utils import get_column_letter

        choices = [("", _l("（不使用）"))] + [
            (str(index), f"{get_column_letter(index + 1)}：{header or '—'}") for index, header in enumerate(headers)
        ]
        for name in FIELDS:
            self[f"map_{name}"].choices = choices

    def mapping_fields(self):
        return [self[f"map_{name}"] for name in FIELDS]

    def mapping(self) -> dict[str, int | None]:
        return {name: int(self[f"map_{name}"].data) if self[f"map_{name}"].data else None for name in FIELDS}


for _name, _label in FIELDS.items():
    setattr(InvoicePreviewForm, f"map_{_name}", SelectField(_l(_label), choices=[("", "")], default=""))
