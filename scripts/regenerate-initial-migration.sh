#!/usr/bin/env bash
# Development only, before the first landing: rebuild the single initial migration from the models.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f migrations/versions/*_foundation.py
MARKETPLACE_INSTANCE_PATH="$tmp" .venv/bin/flask --app wsgi db migrate -m "foundation" >/dev/null
MARKETPLACE_INSTANCE_PATH="$tmp" .venv/bin/flask --app wsgi db upgrade >/dev/null
rm -rf "$tmp"
ls migrations/versions
