#!/usr/bin/env bash
# npm test (after pretest: system packages, tsc): the unit tests, the integration tests, then the
# toolkit's Python tests. Every part runs whatever happened before it; the exit status is 1 when any
# part failed. Ends with one line per part: its result and wall time.
set -uo pipefail
cd "$(dirname "$0")/.."

names=()
results=()
failed=0

part() {
  local name=$1
  shift
  local start=$EPOCHREALTIME
  printf '\n=== %s: %s\n' "$name" "$*"
  "$@"
  local rc=$?
  local seconds
  seconds=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
  names+=("$name")
  if [ "$rc" -eq 0 ]; then
    results+=("passed in ${seconds} s")
  else
    results+=("FAILED (exit ${rc}) after ${seconds} s")
    failed=1
  fi
}

part unit node_modules/.bin/jest --selectProjects unit
part integration node_modules/.bin/jest --selectProjects integration
part toolkit npm run --silent test:toolkit

printf '\n'
for i in "${!names[@]}"; do
  printf 'npm test: %-12s %s\n' "${names[$i]}" "${results[$i]}"
done
exit "$failed"
