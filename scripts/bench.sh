#!/usr/bin/env bash
# Every benchmark on fresh throw-away servers: generate BENCH_LEADS leads, then measure.
#   make bench                 (1,000,000 leads; about 7 to 9 minutes to generate)
#   BENCH_LEADS=100000 make bench
#   scripts/bench.sh track     (only bench.track: website tracking intake, needs no generated data)
#   scripts/bench.sh queue assign dashboard   (generate, then only the benches named, in the
#                              order below; `make bench BENCHES="queue dashboard"` does the same)
set -euo pipefail
cd "$(dirname "$0")/.."

benches="lead_list queue rescore score_event form_submit assign place_waiting dashboard track"
for name in "$@"; do
  [[ " $benches " == *" $name "* ]] || { echo "unknown bench: $name (one of: $benches)" >&2; exit 2; }
done

scripts/system-deps.sh
data_dir=$(mktemp -d /tmp/leadcrm-bench.XXXXXX)
trap 'scripts/services.sh stop "$data_dir"' EXIT
scripts/services.sh start "$data_dir"
# shellcheck disable=SC1091
source "$data_dir/env"
export LEADCRM_VAR_DIR="$data_dir/var"

.venv/bin/python manage.py migrate --no-input -v0
if [ "$*" = track ]; then
  exec .venv/bin/python -m bench.track --requests "${BENCH_TRACK_REQUESTS:-20000}"
fi
leads=${BENCH_LEADS:-1000000}
# One sales rep per 5,000 leads (2 to 20), so even a small run gives the busiest rep more than one
# page of SQL leads for the cursor line of bench.lead_list.
reps=$((leads / 5000 < 2 ? 2 : leads / 5000 > 20 ? 20 : leads / 5000))
.venv/bin/python -m bench.generate --leads "$leads" --reps "$reps" --events-per-lead 3 --seed 42 --truncate
# Every benchmark named (all without arguments) runs even when an earlier one misses its goal;
# the exit status says if any did.
status=0
wanted() { [ $# -eq 0 ] || [[ " $* " == *" $bench "* ]]; }
for bench in $benches; do
  wanted "$@" || continue
  case $bench in
    # Every sort and filter of the lead list, page and API.
    lead_list) args=(--requests "${BENCH_REQUESTS:-200}") ;;
    # The busiest rep's queue page and SQL list.
    queue) args=(--requests "${BENCH_REQUESTS:-200}") ;;
    # Scoring: a rule change over every lead (a ledger of ten rows per lead), then events one by one.
    rescore) args=(--ledger "$((leads * 10))" --sample "${BENCH_RESCORE_SAMPLE:-10000}") ;;
    score_event) args=() ;;
    # Capture form submissions against the generated leads (half of them updates of known addresses).
    form_submit) args=(--requests "${BENCH_FORM_REQUESTS:-4000}") ;;
    # Assignment of 10,000 new MQLs from 4 processes beside a bare owner UPDATE (sales.assignment).
    assign) args=(--leads "${BENCH_ASSIGN_LEADS:-10000}") ;;
    # The beat's retry of MQLs that waited for a seat, idle and once reps have room again.
    place_waiting) args=(--leads "${BENCH_ASSIGN_LEADS:-10000}") ;;
    # Reports: the overview and the channel report over the leads, with 100 campaigns and ten
    # events per lead (bench.rescore, when it ran, has already added them).
    dashboard) args=(--requests "${BENCH_REPORT_REQUESTS:-50}" --events "$((leads * 10))") ;;
    # Website tracking intake (needs no generated data; `scripts/bench.sh track` runs it alone).
    track) args=(--requests "${BENCH_TRACK_REQUESTS:-20000}") ;;
  esac
  echo "=== bench.$bench $(date -u +%H:%M:%S)"
  .venv/bin/python -m "bench.$bench" "${args[@]}" || status=1
done
exit $status
