"""Forms of the data providers' pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class RecordsUploadForm(FlaskForm):
    file = FileField(_l("信用记录文件（XLSX或CSV）"), validators=[FileRequired(_l("请选择要上传的文件"))])
