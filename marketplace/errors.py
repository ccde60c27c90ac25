"""Error pages in the site's style (HTML) or JSON for API clients."""

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: ("请求有误", "请检查输入后重试。"),
    403: ("无权访问", "您没有权限查看此页面。如需访问，请联系您机构的管理员。"),
    404: ("页面不存在", "您要找的页面不存在或已被删除。"),
    405: ("请求方式不支持", "此页面不支持该操作。"),
    413: ("文件过大", "上传的文件超过大小限制。"),
    429: ("操作过于频繁", "请稍后再试。"),
    500: ("系统错误", "系统出现了问题，我们已记录并会尽快处理。请稍后再试。"),
}


def render_error(code: int, detail: str | None = None, headers: dict | None = None):
    title, message = MESSAGES.get(code, MESSAGES[500])
    headers = headers or {}
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return {"code": code, "message": detail or _(title)}, code, headers
    return render_template("errors/error.html", code=code, title=_(title),
                           message=detail or _(message)), code, headers


def _protocol_headers(error) -> dict:
    """Headers HTTP requires on some errors (Allow on 405, Retry-After on 429, WWW-Authenticate)."""
    if not isinstance(error, HTTPException):
        return {}
    keep = {"allow", "retry-after", "www-authenticate"}
    return {name: value for name, value in error.get_headers() if name.lower() in keep}


def init_app(app: Flask) -> None:
    app.json.ensure_ascii = False  # readable Chinese in JSON answers
    for code in MESSAGES:
        app.register_error_handler(code, lambda e, code=code: render_error(code, headers=_protocol_headers(e)))

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return render_error(400, _("表单已过期或无效，请刷新页面后重新提交。"))
