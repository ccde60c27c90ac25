"""Locale selection (Chinese first, English available) and the template filters for display."""

from __future__ import annotations

from flask import Flask, current_app, g, request, session
from flask_babel import get_locale, get_translations
from flask_login import current_user

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


def reader_locale(user) -> str:
    """The language to write to a user in when they are not on the page (an email): their own
    choice, else the default."""
    chosen = getattr(user, "locale", None)
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


SEPARATORS = {"list": ("、", ", "), "clauses": ("；", "; ")}  # kind -> (zh, en)


def join_list(items, kind: str = "list") -> str:
    """Items joined the page's way: 甲、乙 or "A, B" ("list"); 甲；乙 or "A; B" ("clauses")."""
    zh, en = SEPARATORS[kind]
    return (en if is_english() else zh).join(str(item) for item in items)


def in_brackets(text) -> str:
    """An aside after a word: 甲（乙） in Chinese, "A (B)" in English."""
    return f" ({text})" if is_english() else f"（{text}）"


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
        join_list=join_list,
        in_brackets=in_brackets,
        localized=localized,
        stored_text=stored_text,
    )

    @app.context_processor
    def inject_locale():
        return {"is_english": is_english(), "current_locale": select_locale(),
                "languages": app.config["LANGUAGES"], "request_path": request.path}


def localized(value) -> str:
    """A message from workflows/ that carries both languages (a Sentence, an InputError, a check:
    anything with `text(locale)`) in the page's language; anything else as it is."""
    text = getattr(value, "text", None)
    return text(ENGLISH if is_english() else CHINESE) if callable(text) else str(value)


def stored_text(text: str | None) -> str:
    """Text kept in the database as Chinese (a timeline note the system wrote), in the page's
    language when the catalog holds it as a msgid (those msgids are listed in
    translations/runtime_msgids.py); what a person typed, which the catalog does not hold, as it is."""
    if not text:
        return ""
    return translations().ugettext(text)


def input_error(error: ValueError) -> str:
    """A bad input's message (workflows.text.InputError, e.g. from parse_money) in the page's
    language; an error raised with a Sentence likewise; any other ValueError as it is."""
    if not hasattr(error, "text") and error.args:
        return localized(error.args[0])
    return localized(error)
