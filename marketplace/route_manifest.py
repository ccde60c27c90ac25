"""routes.json: every URL rule the app's blueprints add, in one place and in order (start-up, issue 15).

The app starts with these rules and imports the views behind them when they are first needed
(marketplace.routing.DeferredViews), so url_for, the access-rule table and `flask routes` see every
route without ~100 modules of views, forms and API schemas being imported by every process.
Each entry holds the arguments Flask gave the rule (only those that differ from Werkzeug's
defaults). A test checks the file against the blueprints; after adding or changing a route:

    .venv/bin/python -m marketplace.route_manifest        # rewrites marketplace/routes.json
"""

from __future__ import annotations

import json
from pathlib import Path

from werkzeug.routing import Rule

MANIFEST = Path(__file__).with_name("routes.json")
# Rule(...) keyword arguments and their defaults; an entry lists only those that differ
_DEFAULTS = {"defaults": None, "subdomain": None, "host": None, "strict_slashes": None, "merge_slashes": None,
             "redirect_to": None, "alias": False, "build_only": False, "websocket": False}


class StaleRouteManifest(RuntimeError):
    """The blueprints add rules that routes.json does not list as they are."""


def entry(rule: Rule) -> dict:
    """The manifest's entry of a rule not yet added to a map (as Flask's add_url_rule made it)."""
    if callable(rule.redirect_to):
        raise ValueError(f"{rule.endpoint}: a redirect_to function cannot be listed in {MANIFEST.name}")
    item = {"rule": rule.rule, "endpoint": rule.endpoint,
            "methods": sorted(rule.methods) if rule.methods is not None else None}
    item.update({name: getattr(rule, name) for name, default in _DEFAULTS.items()
                 if getattr(rule, name) != default})
    if getattr(rule, "provide_automatic_options", True) is not True:
        item["provide_automatic_options"] = rule.provide_automatic_options
    return item


def make_rule(rule_class: type[Rule], item: dict) -> Rule:
    """The rule an entry describes, ready for url_map.add()."""
    options = {name: item[name] for name in _DEFAULTS if name in item}
    rule = rule_class(item["rule"], endpoint=item["endpoint"], methods=item["methods"], **options)
    rule.provide_automatic_options = item.get("provide_automatic_options", True)
    return rule


def read(path: Path = MANIFEST) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))


def write(items: list[dict], path: Path = MANIFEST) -> None:
    """One rule a line, so that a change of routes reads as a change of lines."""
    lines = ",\n".join(json.dumps(item, ensure_ascii=False, sort_keys=True) for item in items)
    path.write_text(f"[\n{lines}\n]\n", encoding="utf-8")


def main() -> None:
    from marketplace import create_app

    app = create_app({"ROUTE_MANIFEST": None})  # every view registered at start-up: the rules as they are
    items = app.extensions["deferred_views"].added
    write(items)
    print(f"{MANIFEST}: {len(items)} rules")


if __name__ == "__main__":
    main()
