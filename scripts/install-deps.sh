#!/usr/bin/env bash
# Installs the system libraries Tocsin builds against, if they are missing:
#   libpcre2-dev (PCRE2 with JIT, for `matches` / `regex_extract`).
# Needs root (or sudo) and apt-get; prints what to install otherwise.
set -euo pipefail
if pkg-config --exists libpcre2-8 2>/dev/null && [ -f /usr/include/pcre2.h ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install PCRE2's development files (Debian/Ubuntu: libpcre2-dev) and pkg-config" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing libpcre2-dev and pkg-config…" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libpcre2-dev pkg-config >/dev/null
