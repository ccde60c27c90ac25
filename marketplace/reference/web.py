"""Industry and region names in every template, and the pickers' choices (templates/macros/names.html)."""

from __future__ import annotations

from flask import Flask

from marketplace.reference.industries import industry_choices, industry_name
from marketplace.reference.picker import (
    industry_label,
    industry_options,
    region_label,
    region_options,
)
from marketplace.reference.regions import region_name


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        industry_name=industry_name, region_name=region_name, industry_choices=industry_choices,
        industry_label=industry_label, region_label=region_label,
        industry_options=industry_options, region_options=region_options,
    )
