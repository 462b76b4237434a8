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
  .venv/bin/python -m bench.track --requests "${BENCH_TRACK_REQUESTS:-20000}"
  exit 0
fi
leads=${BENCH_LEADS:-1000000}
# One sales rep per 5,000 leads (2 to 20), so even a small run gives the busiest rep more than one
# page of SQL leads for the cursor line of bench.lead_list.
reps=$((leads / 5000 < 2 ? 2 : leads / 5000 > 20 ? 20 : leads / 5000))
.venv/bin/python -m bench.generate --leads "$leads" --reps "$reps" --events-per-lead 3 --seed 42 --truncate
.venv/bin/python -m bench.lead_list --requests "${BENCH_REQUESTS:-200}"
.venv/bin/python -m bench.track --requests "${BENCH_TRACK_REQUESTS:-20000}"
