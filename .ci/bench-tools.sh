#!/usr/bin/env bash
# Installs what `make bench` (cmd/loadbench) needs when it is missing:
# Debian's wrk, and pgbench (shipped with the PostgreSQL server packages;
# postgresql-contrib or postgresql-client otherwise). Used by `make bench`
# and .ci/run, whose test run includes the harness's smoke test.
set -euo pipefail

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
[ -x /usr/bin/pgbench ] || command -v pgbench >/dev/null 2>&1 || missing+=(postgresql-contrib postgresql-client)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "make bench needs: ${missing[*]} (apt-get install ${missing[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
  { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }
