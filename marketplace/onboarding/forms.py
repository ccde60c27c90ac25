"""The one-step consents of the first-application checklist."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget


class ProposedConsentsForm(FlaskForm):
    """The institutions ticked among those proposed; the service checks them against the proposal
    (so a value the page did not offer is refused by name, not by WTForms' English message)."""

    institutions = SelectMultipleField(_l("授权机构"), coerce=int, validate_choice=False,
                                       option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))
