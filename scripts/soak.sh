#!/usr/bin/env bash
# Churn soak (see scripts/soak.py): `scripts/soak.sh [SECONDS]`, 300 by default; `.ci/run`
# runs a 30-second one. Installs tmux when missing, builds the release binary, raises the
# descriptor limit.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
command -v tmux >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null; }
cargo build --release --locked
ulimit -n 65536 2>/dev/null || ulimit -n 4096
exec python3 scripts/soak.py "$(pwd)/target/release/loopwatch" "$seconds"
