#!/usr/bin/env bash
# `make run`: migrate the development database, load demo data once, then start the web server,
# a Celery worker and Celery beat together (Procfile.dev, under honcho; Ctrl-C stops all three).
# Without DATABASE_URL and REDIS_URL that is a SQLite file and kombu's file-system broker under
# var/ (or LEADCRM_VAR_DIR). tests/test_make_run_smoke.py starts the app through this very script.
#   HOST, PORT            where the web server listens (127.0.0.1, 8000)
#   LEADCRM_DEMO_LEADS    how many demo leads the first run loads (3000)
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBUG=1 HOST=${HOST:-127.0.0.1} PORT=${PORT:-8000}
py=.venv/bin/python

$py manage.py migrate --no-input
$py manage.py seed_demo --leads "${LEADCRM_DEMO_LEADS:-3000}"
echo
echo "LeadCRM runs at http://$HOST:$PORT/  (web + Celery worker + beat; Ctrl-C stops all)"
echo "Demo logins (password: demo-password): marketer, rep, manager, admin"
echo
exec .venv/bin/honcho -f Procfile.dev start
