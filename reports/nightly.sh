#!/usr/bin/env bash
# Nightly latency report: benches hello-python, bench-python and rust-reference with a release
# build (each with its floors: the physical socket floor, the Rust reference plugin through the
# harness's and a raw tonic client, and for the Python plugins the bare grpcio plugin), merges
# the three runs and writes reports/nightly/YYYY-MM-DD/ (report.json, report.md, report.html).
# When an earlier nightly report exists, the new one is compared with the latest of them. Then
# the whole history is rendered (reports/nightly/history.html and history.md): steps beyond the
# measured noise, per machine; exit 1 on a regression the latest report still shows.
#
#   reports/nightly.sh                      # today's date (UTC), 5 s per measured call
#   NIGHTLY_DURATION=20s reports/nightly.sh # longer runs, steadier tails
#   NIGHTLY_DATE=2025-01-31 reports/nightly.sh
#   NIGHTLY_NAME=2026-12-04a reports/nightly.sh  # several runs a day: name each directory
#   NIGHTLY_NOTE="..." reports/nightly.sh   # a remark at the top of the history pages
set -euo pipefail
cd "$(dirname "$0")/.."

date=${NIGHTLY_DATE:-$(date -u +%F)}
duration=${NIGHTLY_DURATION:-5s}
out=reports/nightly/${NIGHTLY_NAME:-$date}

fixtures/python/setup.sh
cargo build --release --quiet -p mm-plugin-harness -p rust-reference
harness=${CARGO_TARGET_DIR:-target}/release/harness

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failed=()
for plugin in hello-python bench-python rust-reference; do
  echo "== $plugin"
  # A failing call is reported in the run's notes; the other runs still go ahead.
  if ! "$harness" bench "fixtures/plugins/$plugin" --duration "$duration" --warmup 1s --rounds 5 \
    --out "$work/$plugin"; then
    failed+=("$plugin")
  fi
done

# Exit 1 only repeats that some call failed, which the runs above have said.
"$harness" report "$work"/*/report.json --merge --out "$work/merged" >/dev/null || (($? == 1))

# The latest earlier nightly, if any, is the baseline.
previous=
if [[ -d reports/nightly ]]; then
  previous=$(find reports/nightly -mindepth 2 -maxdepth 2 -name report.json ! -path "$out/*" |
    sort | tail -n 1)
fi
mkdir -p "$out"
status=0
if [[ -n $previous ]]; then
  echo "== compared with $previous"
  "$harness" report "$previous" "$work/merged/report.json" --out "$out" || status=$?
else
  cp "$work"/merged/report.{json,md,html} "$out/"
fi
echo "nightly report: $out"
# The trend over every dated report; its exit 1 is an unresolved regression.
history_args=(report --history reports/nightly)
if [[ -n ${NIGHTLY_NOTE:-} ]]; then
  history_args+=(--note "$NIGHTLY_NOTE")
fi
"$harness" "${history_args[@]}" || status=$?
if ((${#failed[@]})); then
  echo "bench failed for: ${failed[*]}" >&2
  exit 1
fi
exit "$status"
