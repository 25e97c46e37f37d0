#!/usr/bin/env bash
# Installs Debian's HAProxy when it is missing: the load-balancer test
# (cmd/startline/lb_test.go) runs two API processes behind it. Used by
# `make test` and .ci/run; under CI=true the test fails without it.
set -euo pipefail

[ -x /usr/sbin/haproxy ] || command -v haproxy >/dev/null 2>&1 || [ -n "${STARTLINE_HAPROXY:-}" ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "the load-balancer test needs haproxy (apt-get install haproxy); without it the test is skipped" >&2
  [ "${CI:-}" = true ] && exit 1
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq haproxy >/dev/null 2>&1 ||
  { apt-get update -qq && apt-get install -y -qq haproxy >/dev/null; }
