#!/usr/bin/env bash
# Checks that docs/operations.md names every flag of every service binary (so the operator's
# reference cannot drift from --help) and every metric family the services register.
# Usage: check_docs.sh DOCS_FILE METRICS_DUMP_BINARY SERVICE_BINARY...
set -euo pipefail
docs=$1
metrics_dump=$2
shift 2
missing=0
for binary in "$@"; do
  while read -r flag; do
    if ! grep -qF -- "\`$flag\`" "$docs"; then
      echo "docs/operations.md does not document $flag of $(basename "$binary")"
      missing=1
    fi
  done < <("$binary" --help </dev/null | grep -oE '^  --[a-z0-9-]+' | sed 's/^  //' | grep -v -- '--help')
done
while read -r family; do
  if ! grep -qF -- "\`$family\`" "$docs"; then
    echo "docs/operations.md does not document metric $family"
    missing=1
  fi
done < <("$metrics_dump" | grep -oE '^# TYPE [a-z_]+' | awk '{print $3}')
count=$#
if ((missing)); then exit 1; fi
echo "docs/operations.md covers every flag of $count binaries and every metric family"
