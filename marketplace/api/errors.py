"""JSON errors for the API blueprints: {code, message, errors?}, whatever went wrong.

Registered on each API blueprint (not on the app), so the pages keep their HTML error pages.
Errors raised before routing (404 for an unknown /api/ path, 405) are answered by
marketplace.errors, which also speaks JSON under /api/.
"""

from __future__ import annotations

from flask import Blueprint, request
from werkzeug.exceptions import HTTPException

from marketplace.accounts.tokens import carries_api_credentials

MESSAGES = {
    400: "请求有误 / Bad request",
    401: "请先登录或提供有效的 API 令牌 / Authentication required: send a valid bearer token",
    403: "无权访问 / Forbidden for your role",
    404: "未找到 / Not found",
    405: "不支持该请求方式 / Method not allowed",
    409: "与当前状态冲突 / Conflict with the current state",
    413: "请求过大 / Request too large",
    415: "不支持的内容类型 / Unsupported media type",
    422: "参数校验失败 / Validation failed",
    429: "请求过于频繁 / Too many requests",
    500: "系统错误，已记录 / Internal error (logged)",
}
INVALID_TOKEN = "API 令牌无效、已吊销或其用户已停用 / Invalid or revoked token, or its user is deactivated"
HANDLED_CODES = tuple(MESSAGES)


def error_body(code: int, message: str, errors=None) -> dict:
    body = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    return body


def _message(error: HTTPException, data: dict) -> str:
    if data.get("message"):
        return str(data["message"])
    # a description passed to abort() is meant for the client; werkzeug's defaults are not
    if error.description and error.description != type(error).description and error.code != 500:
        return error.description
    return MESSAGES.get(error.code, MESSAGES[500])


def handle_http_exception(error: HTTPException):
    code = error.code or 500
    data = getattr(error, "data", None) or {}  # webargs' abort keeps validation messages here
    headers = dict(data.get("headers") or {})
    message = _message(error, data)
    if code == 401:
        if carries_api_credentials(request):
            message = INVALID_TOKEN
            headers["WWW-Authenticate"] = 'Bearer realm="api", error="invalid_token"'
        else:
            headers["WWW-Authenticate"] = 'Bearer realm="api"'
    if code == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    return error_body(code, message, data.get("errors") or data.get("messages")), code, headers


def register(blueprint: Blueprint) -> None:
    """JSON for every HTTP error raised while serving this blueprint's endpoints.

    Registered per code as well as for HTTPException: Flask prefers an app-level handler for a
    code over a blueprint-level handler for a class, and marketplace.errors registers by code.
    """
    for code in HANDLED_CODES:
        blueprint.register_error_handler(code, handle_http_exception)
    blueprint.register_error_handler(HTTPException, handle_http_exception)
