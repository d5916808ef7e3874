#!/usr/bin/env bash
# Checks the metrics exposition of the services (as jilaf-metrics-dump prints it from the same
# registry and collectors): `promtool check metrics` finds nothing to object to, and the families
# dashboards rely on are there.
# Usage: check_metrics.sh METRICS_DUMP_BINARY
set -euo pipefail
command -v promtool >/dev/null 2>&1 || { echo "FAIL: promtool not found (Debian package prometheus)"; exit 1; }
text="$("$1")"
if ! problems="$(promtool check metrics <<<"$text" 2>&1)"; then
  echo "FAIL: promtool check metrics:"
  echo "$problems"
  exit 1
fi
missing=0
for family in process_cpu_seconds_total process_resident_memory_bytes process_open_fds \
  process_start_time_seconds jilaf_build_info; do
  if ! grep -qE "^# TYPE $family " <<<"$text"; then
    echo "FAIL: the exposition has no $family"
    missing=1
  fi
done
if ! grep -qE '^jilaf_build_info\{commit="[^"]+",version="[^"]+"\} 1$' <<<"$text"; then
  echo "FAIL: jilaf_build_info has no {commit, version} sample of value 1"
  missing=1
fi
((missing == 0)) || exit 1
echo "promtool check metrics passes; process and build families present"
