"""Error pages in the site's style (HTML) or JSON for API clients."""

import logging
import math
import time

from flask import Flask, current_app, g, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from marketplace.web_security import ControlCharacters

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("请求有误", "请检查输入后重试。"),
    403: ("无权访问", "您没有权限查看此页面。如需访问，请联系您机构的管理员。"),
    404: ("页面不存在", "您要找的页面不存在或已被删除。"),
    405: ("请求方式不支持", "此页面不支持该操作。"),
    413: ("文件过大", "上传的文件超过大小限制。"),
    429: ("操作过于频繁", "请稍后再试。"),
    500: ("系统错误", "系统出现了问题，我们已记录并会尽快处理。请稍后再试。"),
    503: ("服务暂时不可用", "数据库连接短暂中断，您的操作没有完成，请稍后重试。"),
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


def _too_large(error):
    """413 names the limit, from the configuration, in MB."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    detail = _("上传的内容超过大小限制（最大 %(mb)s MB），请压缩或分批上传。",
               mb=f"{limit / (1024 * 1024):.1f}".removesuffix(".0")) if limit else None
    return render_error(413, detail, _protocol_headers(error))


def retry_seconds(headers: dict) -> int | None:
    """Seconds until the rate limit that refused this request resets (the limiter's window), else
    what a Retry-After header in seconds says."""
    from marketplace.extensions import limiter

    current = limiter.current_limit if limiter.enabled and limiter.initialized else None
    if current is not None:
        return max(1, math.ceil(current.reset_at - time.time()))
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), "")
    return int(value) if str(value).isdigit() else None


def _too_many(error):
    """429 says when to try again."""
    headers = _protocol_headers(error)
    seconds = retry_seconds(headers)
    if seconds is not None and not any(k.lower() == "retry-after" for k in headers):
        headers["Retry-After"] = str(seconds)
    detail = _("操作过于频繁，请在 %(n)s 秒后重试。", n=seconds) if seconds is not None else None
    return render_error(429, detail, headers)


SPECIFIC_HANDLERS = {413: _too_large, 429: _too_many}


def init_app(app: Flask) -> None:
    app.json.ensure_ascii = False  # readable Chinese in JSON answers
    for code in MESSAGES.keys() - {500}:
        app.register_error_handler(
            code, SPECIFIC_HANDLERS.get(code, lambda e, code=code: render_error(code, headers=_protocol_headers(e))))

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return render_error(400, _("表单已过期或无效，请刷新页面后重新提交。"))

    @app.errorhandler(ControlCharacters)
    def control_characters(e):
        return render_error(400, _("请求中含有不允许的控制字符（例如空字符），请删除后重新提交。"))

    @app.errorhandler(500)
    def server_error(e):
        return render_server_error(e)

    @app.errorhandler(DBAPIError)
    def database_error(e):
        """A connection that dropped mid-request (a database restart or failover, a terminated
        backend) answers 503 with Retry-After: nothing was saved, the next try gets a fresh one."""
        if not e.connection_invalidated:
            raise e  # any other database error: the 500 path, as if unhandled
        log.warning("database connection lost during %s %s: %s", request.method, request.path, e.orig)
        return render_server_error(e, code=503, headers={"Retry-After": "5"})


def render_server_error(error, code: int = 500, headers: dict | None = None):
    """The 500 page, which must render even when the database is what failed: the session's
    broken transaction is rolled back and the page neither loads the user nor counts messages."""
    try:
        get_locale()  # settle the page's language while the signed-in user can still be read
    except Exception:  # noqa: BLE001 - the user's row may be what cannot be read
        log.debug("locale not settled before the error page", exc_info=True)
    _release_database_session()
    from marketplace.extensions import login_manager

    g._login_user = login_manager.anonymous_user()  # the page shows no user (no query, no refresh)
    g.database_unusable = True
    return render_error(code, headers=headers)


def _release_database_session() -> None:
    from marketplace.extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - a dropped connection may refuse even the rollback
        log.warning("rollback after a server error failed", exc_info=True)
        try:
            db.session.invalidate()
        except Exception:  # noqa: BLE001
            log.warning("could not invalidate the session's connection", exc_info=True)
