#!/usr/bin/env bash
# A long run of the properties that feed the parsers loopwatch takes input from outside: the
# kernel's sock_diag netlink messages, the config file, and forwarders' command lines (which any
# local user chooses). `cargo test` runs a few thousand cases of each (hundreds for the last);
# this runs as many as asked (default 1,000,000 per property) on an optimised build.
#
#   scripts/fuzz.sh [CASES]
#
# A failure prints the smallest input found and exits non-zero; proptest also records it under
# proptest-regressions/ so the next `cargo test` tries it first.
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-1000000}"
case "$cases" in
  ''|*[!0-9]*) echo "fuzz.sh: CASES must be a whole number, got '$cases'" >&2; exit 2 ;;
esac
start=$(date +%s)
LOOPWATCH_FUZZ_CASES="$cases" cargo test --release --locked --lib -- \
  collect::sock_diag::tests::any_bytes \
  cli::config::tests::any_ \
  cli::config::tests::known_keys \
  domain::forward::tests::any_command_line
echo "fuzz.sh: $cases cases per property passed in $(( $(date +%s) - start )) s"
