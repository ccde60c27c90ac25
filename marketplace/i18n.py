"""Locale selection (Chinese first, English available) and the template filters for display."""

from __future__ import annotations

from flask import Flask, current_app, g, request, session
from flask_babel import get_locale, get_translations
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from marketplace import formatting
from marketplace.extensions import babel
from workflows.identifiers import mask_id

ENGLISH = "en"
CHINESE = "zh_Hans_CN"


def select_locale() -> str:
    chosen = session.get("locale")
    if not chosen and current_user and current_user.is_authenticated:
        chosen = current_user.locale
    return chosen if chosen in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]


def is_english() -> bool:
    """Whether the page is in English; Flask-Babel keeps the chosen locale for the request."""
    try:
        locale = get_locale()
    except RuntimeError:
        return False
    return locale is not None and locale.language == ENGLISH


def pick(pair: tuple[str, str]) -> str:
    """Choose the zh or en half of a (zh, en) label pair for the current locale."""
    return pair[1] if is_english() else pair[0]


def sentences(parts, zh: str = "；", en: str = "; ") -> str:
    """Several messages shown as one: separated by a full-width semicolon, or by "; " in English."""
    return (en if is_english() else zh).join(str(part) for part in parts)


def translations():
    """Flask-Babel's translations for the current locale, found once per request and locale.

    Flask-Babel's own lookup walks the context on every string (a page has sixty); this keeps
    what it found beside the locale it found it for, so `force_locale` still switches them.
    """
    try:
        context = g._flask_babel
        locale, found = context.marketplace_translations
        if locale is context.babel_locale:
            return found
    except (AttributeError, RuntimeError):  # first string of the request, or no app context
        pass
    found = get_translations()
    context = g.get("_flask_babel") if g else None
    if getattr(context, "babel_locale", None) is not None:
        context.marketplace_translations = (context.babel_locale, found)
    return found


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(app.root_path + "/translations"),
    )
    app.jinja_env.install_gettext_callables(
        gettext=lambda string: translations().ugettext(string),
        ngettext=lambda singular, plural, n: translations().ungettext(singular, plural, n),
        pgettext=lambda context, string: translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: translations().unpgettext(context, singular, plural, n),
        newstyle=True,
    )
    app.jinja_env.filters.update(
        yuan=formatting.yuan,
        capitals=formatting.capitals,
        wan=formatting.wan,
        ymd=formatting.ymd,
        ymd_hm=formatting.ymd_hm,
        masked=mask_id,
        pick=pick,
    )

    @app.context_processor
    def inject_locale():
        from marketplace.notifications.services import unread_count

        try:
            unread = unread_count(current_user) if current_user.is_authenticated else 0
        except SQLAlchemyError:  # an error page must render even when the database does not
            unread = 0
        return {"unread_notifications": unread,"is_english": is_english(), "current_locale": select_locale(),
                "languages": app.config["LANGUAGES"], "request_path": request.path}


def input_error(error: ValueError) -> str:
    """A bad input's message (workflows.identifiers.InputError, e.g. from parse_money) in the
    page's language; any other ValueError as it is."""
    template, params = getattr(error, "template", None), getattr(error, "params", {})
    return _(template, **params) if template else str(error)
