"""Entry point for serving (gunicorn wsgi:app), the flask CLI and Celery (-A wsgi.celery)."""

import gc
import sys

gc.disable()  # start-up makes long-lived objects only: no collector passes over them (marketplace.startup)

from marketplace import create_app  # noqa: E402
from marketplace.config import MissingSettings  # noqa: E402

try:
    app = create_app()
except MissingSettings as missing:
    # one line naming what to set, whichever program loads this (gunicorn, flask, celery), never a traceback
    sys.exit(f"Error: {missing}")
celery = app.extensions["celery"]
gc.freeze()  # what start-up made lives as long as the process: later collections leave it out
gc.enable()
