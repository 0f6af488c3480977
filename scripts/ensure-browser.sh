#!/usr/bin/env bash
# Make sure the browser tests (pytest marker `browser`) can run: Chromium found
# ($MNISTLAB_CHROMIUM, else `chromium` on PATH), else (as root with apt) Debian's `chromium`
# package, else say that those tests will be skipped. Never fails: everything else still runs.
set -uo pipefail
if [ -n "${MNISTLAB_CHROMIUM:-}" ]; then
  [ -x "$MNISTLAB_CHROMIUM" ] && exit 0
  echo "MNISTLAB_CHROMIUM=$MNISTLAB_CHROMIUM is not an executable: the browser tests will be skipped" >&2
  exit 0
fi
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Chromium not found: installing Debian's chromium for the browser tests" >&2
  if DEBIAN_FRONTEND=noninteractive apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
    exit 0
  fi
  echo "apt-get install chromium failed: the browser tests will be skipped" >&2
  exit 0
fi
echo "Chromium not found and not installable here (needs root and apt-get):" \
  "the browser tests (marker 'browser') will be skipped" >&2
