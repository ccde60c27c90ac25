"""URL rules whose URL builders are compiled on first use, and views imported on first use
(DeferredViews, below) (start-up, issue 15).

Werkzeug compiles two Python functions per rule (url_for with and without extra arguments) the
moment the rule is added: for the app's ~220 rules about a tenth of create_app(). A process that
never builds a given URL (a CLI command, a worker that sends one kind of mail) need not pay for
it; here each builder is compiled by the first url_for that needs it, then kept on the rule.
Matching a request is untouched (that is the rule's regular expression, still made at once).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo
from jinja2 import BaseLoader
from werkzeug.routing import Map, Rule

from marketplace import route_manifest


class LazyBuilderRule(Rule):
    def _compile_builder(self, append_unknown: bool = True):
        compile_builder = super()._compile_builder
        attribute = "_build_unknown" if append_unknown else "_build"

        def build(rule: Rule, **values):  # bound to the rule by Rule.compile(); replaces itself
            real = compile_builder(append_unknown).__get__(rule, None)
            setattr(rule, attribute, real)
            return real(**values)

        return build


class DeferredViews:
    """The app's pages and API endpoints, imported when first needed (start-up, issue 15).

    `register` registers the blueprints, which imports their views, forms and API schemas (~100
    modules, a fifth of a start). At start-up the app gets only their URL rules, read from
    routes.json (marketplace.route_manifest) in the order `register` adds them: `app.url_map` is
    whole (url_for, the access-rule table, `flask routes`) while nothing behind it is imported.
    `load()` runs `register` once: before the first request context is made (a request is matched
    in it; a test's test_request_context() counts), when the first template is loaded (a template
    may use a filter a blueprint registers) and when the OpenAPI document is first read. A rule `register` adds takes the place of its listed twin; a rule the manifest does
    not list is added then (a test's extra endpoint); a listed rule that nothing registered is a
    StaleRouteManifest (its URL would match and have no view). A test keeps the file current.
    Without a manifest (ROUTE_MANIFEST = None) `register` runs at once, as it did before.
    """

    def __init__(self, app: Flask, register: Callable[[Flask], None]):
        self.app = app
        self.loaded = False
        self.added: list[dict] = []  # the rules `register` added, as the manifest lists them
        self._register = register
        self._listed: dict[str, int] | None = None  # listed rules not registered yet, by their entry
        self._lock = threading.RLock()
        self._loading = False  # `register` runs: a template it loads must not start it again

    def install(self, manifest: list[dict] | None) -> None:
        app = self.app
        app.extensions["deferred_views"] = self
        if manifest is None:
            self.load()
            return
        self._listed = {}
        for item in manifest:
            app.url_map.add(route_manifest.make_rule(app.url_rule_class, item))
            key = _key(item)
            self._listed[key] = self._listed.get(key, 0) + 1
        request_context = app.request_context

        def loading_request_context(environ):  # what Flask's wsgi_app does first with a request
            if not self.loaded:
                self.load()  # before the request is matched: the blueprints' own hooks apply to it
            return request_context(environ)

        app.request_context = loading_request_context
        app.jinja_env.loader = _ViewsFirstLoader(app.jinja_env.loader, self.load)

    def load(self) -> None:
        if self.loaded:
            return
        with self._lock:
            if self.loaded or self._loading:
                return
            url_map = self.app.url_map
            url_map.add = self._adopt  # Flask's add_url_rule hands every rule of `register` to url_map.add
            self._loading = True
            try:
                self._register(self.app)
            finally:
                self._loading = False
                del url_map.add
            self.loaded = True  # the other routes serve; the stale ones below would have no view
            left = sorted(key for key, count in (self._listed or {}).items() if count)
            if left:
                raise route_manifest.StaleRouteManifest(
                    f"{route_manifest.MANIFEST.name} lists rules no blueprint registers ({'; '.join(left)}): "
                    "run `python -m marketplace.route_manifest` to rewrite it")

    def _adopt(self, rule: Rule) -> None:
        item = route_manifest.entry(rule)
        self.added.append(item)
        key = _key(item)
        if self._listed is not None and self._listed.get(key):
            self._listed[key] -= 1  # its placeholder is in the map already; Flask maps the view next
        else:
            Map.add(self.app.url_map, rule)


def _key(item: dict) -> str:
    return json.dumps(item, sort_keys=True)


class _ViewsFirstLoader(BaseLoader):
    """The app's template loader, registering the deferred views before the first template."""

    def __init__(self, loader: BaseLoader, load: Callable[[], None]):
        self.loader = loader
        self.load_views = load

    def get_source(self, environment, template):
        self.load_views()
        return self.loader.get_source(environment, template)

    def list_templates(self):
        self.load_views()
        return self.loader.list_templates()


def load_views(app: Flask) -> None:
    """Register the app's deferred views now (a no-op once they are)."""
    views = app.extensions.get("deferred_views")
    if views is not None:
        views.load()


class ExtensionOnFirstUse:
    """Stands in app.extensions[key] for an extension the deferred views make (the API's): reading
    it registers the views, which put the real one in its place, and forwards to that."""

    def __init__(self, app: Flask, key: str):
        self._app, self._key = app, key

    def __getattr__(self, name: str):
        load_views(self._app)
        extension = self._app.extensions[self._key]
        if extension is self:
            raise AttributeError(f"the views registered no {self._key} extension")
        return getattr(extension, name)


class CommandsOnFirstUse(click.Group):
    """A `flask` command group the deferred views add (flask-smorest's `openapi`): listed at once,
    parsed and run by the real group, which running it registers."""

    def make_context(self, info_name, args, parent=None, **extra):
        app = current_app._get_current_object() if current_app else parent.ensure_object(ScriptInfo).load_app()
        load_views(app)
        group = app.cli.commands.get(self.name)
        if group is None or group is self:
            raise click.UsageError(f"the views registered no `{self.name}` commands")
        return group.make_context(info_name, args, parent=parent, **extra)
