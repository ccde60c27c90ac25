"""The OpenAPI document (/api/v1/openapi.json) and its Swagger UI page (/api/v1/docs).

Swagger UI's files come from the swagger-ui-bundle package and are served from here: the page
loads nothing from another host (the machines it runs on may have no internet access), and
Swagger UI's online validator badge is turned off for the same reason.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, render_template, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from marketplace.api import API_PREFIX

bp = Blueprint("api_docs", __name__, url_prefix=API_PREFIX, template_folder="templates",
               static_folder="static", static_url_path="/docs/static")

SWAGGER_UI_DIR = Path(swagger_ui_path)
SWAGGER_UI_FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png"})


@bp.get("/openapi.json")
def openapi_json():
    return current_app.extensions["marketplace_api"].spec.to_dict()


@bp.get("/docs")
def swagger_ui():
    return render_template("api/docs.html", title=current_app.config["API_TITLE"])


@bp.get("/docs/swagger-ui/<path:filename>")
def swagger_ui_asset(filename: str):
    if filename not in SWAGGER_UI_FILES:
        abort(404)
    return send_from_directory(SWAGGER_UI_DIR, filename, max_age=86400)
