#!/usr/bin/env bash
# The whole check, as CI runs it: lint, Django checks, then pytest against real PostgreSQL,
# Redis, a real Celery worker and headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/system-deps.sh
py=.venv/bin/python

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

data_dir=$(mktemp -d /tmp/leadcrm-test.XXXXXX)
trap 'scripts/services.sh stop "$data_dir"' EXIT
scripts/services.sh start "$data_dir"
# shellcheck disable=SC1091
source "$data_dir/env"
export LEADCRM_VAR_DIR="$data_dir/var"

echo "== django checks"
$py manage.py check --fail-level WARNING
$py manage.py makemigrations --check --dry-run
$py manage.py spectacular --validate --fail-on-warn --file /dev/null
# Production settings must pass the deployment checklist.
DEBUG=0 SECRET_KEY=ci-only-not-secret-$(date +%s%N)-0123456789abcdefghijklmnopqrstuvwxyz \
  ALLOWED_HOSTS=crm.example.com LEADCRM_REQUIRE_SECRET_KEY=1 \
  $py manage.py check --deploy --fail-level WARNING

echo "== pytest"
$py -m pytest "$@"
