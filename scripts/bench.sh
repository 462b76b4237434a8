#!/usr/bin/env bash
# Every benchmark on fresh throw-away servers: generate BENCH_LEADS leads, then measure.
#   make bench                 (1,000,000 leads; about 7 to 9 minutes to generate)
#   BENCH_LEADS=100000 make bench
#   scripts/bench.sh track     (only bench.track: website tracking intake, needs no generated data)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/system-deps.sh
data_dir=$(mktemp -d /tmp/leadcrm-bench.XXXXXX)
trap 'scripts/services.sh stop "$data_dir"' EXIT
scripts/services.sh start "$data_dir"
# shellcheck disable=SC1091
source "$data_dir/env"
export LEADCRM_VAR_DIR="$data_dir/var"

.venv/bin/python manage.py migrate --no-input -v0
if [ "${1:-}" = track ]; then
  exec .venv/bin/python -m bench.track --requests "${BENCH_TRACK_REQUESTS:-20000}"
fi
leads=${BENCH_LEADS:-1000000}
# One sales rep per 5,000 leads (2 to 20), so even a small run gives the busiest rep more than one
# page of SQL leads for the cursor line of bench.lead_list.
reps=$((leads / 5000 < 2 ? 2 : leads / 5000 > 20 ? 20 : leads / 5000))
.venv/bin/python -m bench.generate --leads "$leads" --reps "$reps" --events-per-lead 3 --seed 42 --truncate
# Every benchmark runs even when an earlier one misses its goal; the exit status says if any did.
status=0
.venv/bin/python -m bench.lead_list --requests "${BENCH_REQUESTS:-200}" || status=1
# The busiest rep's queue page and SQL list.
.venv/bin/python -m bench.queue --requests "${BENCH_REQUESTS:-200}" || status=1
# Scoring: a rule change over every lead (a ledger of ten rows per lead), then events one by one.
.venv/bin/python -m bench.rescore --ledger "$((leads * 10))" \
  --sample "${BENCH_RESCORE_SAMPLE:-10000}" || status=1
.venv/bin/python -m bench.score_event || status=1
# Capture form submissions against the generated leads (half of them updates of known addresses).
.venv/bin/python -m bench.form_submit --requests "${BENCH_FORM_REQUESTS:-4000}" || status=1
# Assignment of 10,000 new MQLs from 4 processes beside a bare owner UPDATE (sales.assignment).
.venv/bin/python -m bench.assign --leads "${BENCH_ASSIGN_LEADS:-10000}" || status=1
# The beat's retry of MQLs that waited for a seat, idle and once reps have room again.
.venv/bin/python -m bench.place_waiting --leads "${BENCH_ASSIGN_LEADS:-10000}" || status=1
# Reports: the overview and the channel report over the leads, with 100 campaigns.
.venv/bin/python -m bench.dashboard --requests "${BENCH_REPORT_REQUESTS:-50}" || status=1
# Website tracking intake (needs no generated data; `scripts/bench.sh track` runs it alone).
.venv/bin/python -m bench.track --requests "${BENCH_TRACK_REQUESTS:-20000}" || status=1
exit $status
