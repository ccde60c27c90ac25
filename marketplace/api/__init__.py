"""The JSON API, version 1, under /api/v1: for institutions' and providers' systems.

Built with flask-smorest (marshmallow schemas, an OpenAPI 3 document generated from the views)
on the plain Flask app. The same access rules as the pages apply (marketplace.permissions);
callers authenticate with a bearer token (marketplace.accounts.tokens) or, from a browser, with
their session. Every error is JSON {code, message, errors?} (marketplace.api.errors).

To add endpoints: make an `ApiBlueprint` in a module of this package, list it in
`_api_blueprints()`, give each endpoint a rule in permissions.ROUTE_ACCESS, and document its
error responses with `bp.error_responses(...)`.
"""

from __future__ import annotations

import threading
from http import HTTPStatus

from flask import Flask, abort, current_app, request
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint

from marketplace.accounts.tokens import authenticated_by_token, carries_api_credentials
from marketplace.api import errors
from marketplace.api.schemas import ErrorSchema
from marketplace.extensions import csrf

API_PREFIX = "/api/v1"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BEARER = [{"bearerAuth": []}]
# flask-smorest registers a response component per HTTP status, named as Python names it
# (422 is UNPROCESSABLE_ENTITY up to 3.12, UNPROCESSABLE_CONTENT from 3.13)
ERROR_RESPONSES = {code: HTTPStatus(code).name for code in (400, 401, 403, 404, 409, 422)}

DESCRIPTION = """\
应收账款融资服务平台 JSON API. Amounts and rates are strings with exactly 2 decimals
(`"500000.00"`, `"3.45"`), never numbers. Times are ISO 8601 in UTC. Every error is
`{"code": <HTTP status>, "message": "...", "errors": {...}}` (`errors` only for validation
errors). Authenticate with `Authorization: Bearer <token>`; an administrator creates tokens
with `flask --app wsgi tokens create EMAIL`. See docs/api.md.
"""


class ApiBlueprint(SmorestBlueprint):
    """A group of API endpoints under /api/v1, shown under `tag` in the docs.

    Its errors are JSON; a call that presents an Authorization header is authenticated by it
    alone (a bad token is a 401 even on public endpoints); CSRF is checked only for changes
    made with a session cookie (token calls need none: nothing a browser sends on its own).
    """

    def __init__(self, name: str, import_name: str, *, url_prefix: str, tag: str, description: str = "",
                 components: dict | None = None):
        super().__init__(name, import_name, url_prefix=API_PREFIX + url_prefix, description=description)
        self.tag = tag
        # schemas the document lists under components/schemas by name, for endpoints that describe
        # their bodies by hand (a body of several shapes: see marketplace.api.credit)
        self.components = components or {}
        errors.register(self)
        self.before_request(_check_credentials)

    def route(self, rule, *, parameters=None, tags=None, **options):
        return super().route(rule, parameters=parameters, tags=tags or [self.tag], **options)

    def error_responses(self, *codes: int):
        """Document the JSON errors an endpoint can answer (422 comes with its arguments)."""

        def decorate(view):
            for code in codes:
                view = self.alt_response(code, response=ERROR_RESPONSES[code])(view)
            return view

        return decorate


def _check_credentials():
    if carries_api_credentials(request) and not authenticated_by_token():
        abort(401)
    if (request.method not in SAFE_METHODS and not authenticated_by_token()
            and current_app.config.get("WTF_CSRF_ENABLED", True)):
        csrf.protect()  # a change made with a session cookie: the same CSRF check as the forms


class MarketplaceApi(Api):
    """flask-smorest's Api with our error schema, and without its app-wide error handler
    (which would turn the pages' HTML errors into JSON): API blueprints register their own.

    The blueprints' routes are added at once; their OpenAPI description (marshmallow schemas to
    JSON schemas, ~0.1 s) is written when the document is first read (`spec`: the
    /api/v1/openapi.json view, `flask openapi print`), not at every start."""

    ERROR_SCHEMA = ErrorSchema

    def __init__(self, *args, **kwargs):
        self._undocumented: list[ApiBlueprint] = []
        self._documenting = threading.RLock()
        super().__init__(*args, **kwargs)

    @property
    def spec(self):
        if self._undocumented:
            self._document_blueprints()
        return self._spec

    @spec.setter
    def spec(self, value) -> None:
        self._spec = value

    def _document_blueprints(self) -> None:
        with self._documenting:
            pending, self._undocumented = self._undocumented, []
            # a schema may document the app's configuration (the desk's decline reasons)
            with self._app.app_context():
                for blp in pending:
                    for name, schema in blp.components.items():
                        self._spec.components.schema(name, schema=schema)
                    blp.register_views_in_doc(self, self._app, self._spec, name=blp.name, parameters=None)
                    self._spec.tag({"name": blp.tag, "description": blp.description})

    def _register_error_handlers(self):
        pass

    def _register_pagination_header(self):
        pass  # lists carry their pagination in the body, not in flask-smorest's X-Pagination header

    def register_blueprint(self, blp: ApiBlueprint, **options):
        """As flask-smorest's (0.47), but the tag listed in the document is the blueprint's
        readable `tag`, the one its operations carry, rather than its endpoint name."""
        self._app.extensions["flask-smorest"]["blp_name_to_api"][blp.name] = self
        self._app.register_blueprint(blp, **options)
        with self._documenting:
            self._undocumented.append(blp)  # described in the document when it is first read


def _api_blueprints() -> list[ApiBlueprint]:
    from marketplace.api.credit import bp as credit_bp
    from marketplace.api.desk import bp as desk_bp
    from marketplace.api.products import bp as products_bp
    from marketplace.api.requests import bp as requests_bp

    return [products_bp, requests_bp, desk_bp, credit_bp]


def init_app(app: Flask) -> MarketplaceApi:
    """Build the API for `app`: its OpenAPI document, its blueprints, the docs page."""
    from marketplace.api.docs import bp as docs_bp

    app.config.setdefault("API_TITLE", "应收账款融资服务平台 API (Receivables financing marketplace)")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    # no OPENAPI_URL_PREFIX: the document and the docs page are served by api/docs.py
    api = MarketplaceApi(app, spec_kwargs={"info": {"description": DESCRIPTION}})
    api.spec.components.security_scheme("bearerAuth", {
        "type": "http", "scheme": "bearer",
        "description": "A token from `flask --app wsgi tokens create EMAIL` (see docs/api.md). "
                       "Staff tokens skip the second factor: they are issued by an administrator "
                       "for a system integration.",
    })
    with app.app_context():  # a schema may document the app's configuration (the desk's decline reasons)
        for blueprint in _api_blueprints():
            api.register_blueprint(blueprint)
            csrf.exempt(blueprint)  # _check_credentials applies CSRF to session-cookie changes only
    app.register_blueprint(docs_bp)
    app.extensions["marketplace_api"] = api
    return api
