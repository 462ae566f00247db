#!/usr/bin/env bash
# Prints the README's comparison table of loopwatch, ss, lsof, netstat and fuser from what they
# do on this machine (see scripts/compare.py). Linux, as root.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v ss >/dev/null || missing+=(iproute2)
command -v lsof >/dev/null || missing+=(lsof)
command -v netstat >/dev/null || missing+=(net-tools)
command -v fuser >/dev/null || missing+=(psmisc)
command -v setpriv >/dev/null || missing+=(util-linux)
if ((${#missing[@]})); then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
cargo build --release --locked
exec python3 scripts/compare.py "$(pwd)/target/release/loopwatch"
