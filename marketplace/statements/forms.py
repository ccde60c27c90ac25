"""The statement upload form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

ACCEPT = ".csv,.xls,.xlsx,.txt"


class UploadForm(FlaskForm):
    file = FileField(_l("流水文件（CSV、XLS或XLSX，最大64 MB）"), validators=[FileRequired(_l("请选择要上传的流水文件"))])
