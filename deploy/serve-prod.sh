#!/usr/bin/env bash
# `make serve-prod`: one machine runs everything. Migrate as the database owner role, then start
# gunicorn, one Celery worker and beat against the PostgreSQL and Redis the environment names, and
# stop them all when one exits (so whoever restarts this script sees the failure). Several machines:
# the systemd units in deploy/systemd/ and docs/deployment.md.
#
#   MARKETPLACE_ENV_FILE=/etc/marketplace/marketplace.env   read first when set (KEY=value lines)
#   FLASK_MIGRATION_DATABASE_URI                            the owner role's URL, for `db upgrade` only
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin

if [ -n "${MARKETPLACE_ENV_FILE:-}" ]; then
  set -a; . "$MARKETPLACE_ENV_FILE"; set +a
fi
export FLASK_DEPLOYMENT=${FLASK_DEPLOYMENT:-production}

if [ -z "${FLASK_MIGRATION_DATABASE_URI:-}" ]; then
  echo "serve-prod: refusing to start without FLASK_MIGRATION_DATABASE_URI (the database owner role's URL:" \
       "migrations run as the owner, the app's own role may not alter tables; see docs/deployment.md)." >&2
  exit 2
fi

# The app's bytecode, so that no process compiles it again (`make bytecode`; only changed modules are redone)
"$BIN/python" -m compileall -q marketplace workflows wsgi.py || exit $?

# The app checks every other setting as it loads and names each one that is missing.
echo "serve-prod: flask db upgrade (as the owner role)"
"$BIN/flask" --app wsgi db upgrade || exit $?
unset FLASK_MIGRATION_DATABASE_URI  # the web and worker processes never hold the owner's password

pids=()
start() {
  local name=$1; shift
  "$@" &
  pids+=($!)
  echo "serve-prod: $name started (pid $!)"
}
stop() {
  trap - INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  wait
}
trap 'stop; exit 0' INT TERM

start web "$BIN/gunicorn" -c deploy/gunicorn.conf.py wsgi:app
start worker "$BIN/celery" -A wsgi.celery worker --loglevel INFO --concurrency "${CELERY_CONCURRENCY:-2}" \
  --hostname "worker@%h"
start beat "$BIN/celery" -A wsgi.celery beat --loglevel INFO \
  --schedule "${CELERY_BEAT_SCHEDULE:-${MARKETPLACE_INSTANCE_PATH:-instance}/celerybeat-schedule}"

wait -n  # the first process to exit ends the run
status=$?
echo "serve-prod: a process exited with status $status; stopping the others" >&2
stop
exit $(( status == 0 ? 1 : status ))
