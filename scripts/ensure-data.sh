#!/usr/bin/env bash
# Make sure Fashion-MNIST is available: what the registry finds, else (as root with apt)
# Debian's dataset-fashion-mnist package, else a verified download into the user cache.
set -euo pipefail
MNISTLAB=${1:-mnistlab}
if "$MNISTLAB" fetch fashion-mnist --no-download >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Fashion-MNIST not found: installing Debian's dataset-fashion-mnist" >&2
  apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null
  "$MNISTLAB" fetch fashion-mnist --no-download >/dev/null && exit 0
fi
echo "Fashion-MNIST not found: downloading it from the official mirror" >&2
"$MNISTLAB" fetch fashion-mnist
