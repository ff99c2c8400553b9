#!/usr/bin/env bash
# Makes Debian's Chromium available for the browser suite (tests/browser.test.ts drives it with playwright-core;
# playwright's own browser downloads are not used). Idempotent: does nothing when /usr/bin/chromium runs.
# Installs the `chromium` and `chromium-driver` packages with apt-get otherwise (needs root, as on CI).
#
# Usage: bash scripts/ensure-chromium.sh     # prints the Chromium path on stdout when ready
# Env:   CHROMIUM_PATH (default /usr/bin/chromium) — a Chromium of your own, used as it is.
set -euo pipefail
path="${CHROMIUM_PATH:-/usr/bin/chromium}"
say() { echo "ensure-chromium: $*" >&2; }

if [ ! -x "$path" ]; then
  [ "$path" = /usr/bin/chromium ] || { say "CHROMIUM_PATH=$path is not an executable"; exit 1; }
  command -v apt-get >/dev/null 2>&1 || { say "no $path and no apt-get to install Debian's chromium"; exit 1; }
  say "installing Debian's chromium and chromium-driver"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends chromium chromium-driver >&2
fi
# Debian's wrapper script prints a shell warning on some machines; the version line is what matters.
version="$("$path" --version 2>/dev/null | head -n1)" || { say "$path does not run"; exit 1; }
say "$version"
echo "$path"
