#!/usr/bin/env bash
# Installs what the browser tests need when it is missing: Debian's Chromium
# (never a downloaded browser) and a font with Korean glyphs, so the Korean
# pages' screenshots show text. Used by `make test` and .ci/run.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || [ -n "${STARTLINE_CHROMIUM:-}" ] || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "noto sans cjk" || missing+=(fonts-noto-cjk)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "browser tests need: ${missing[*]} (apt-get install ${missing[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
  { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }
