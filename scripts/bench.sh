#!/usr/bin/env bash
# The performance comparison in the README, in one command on a fresh Linux machine:
#
#   scripts/bench.sh            # ~15 minutes; the table lands in .bench/results.md
#   scripts/bench.sh --quick    # a one-minute smoke run of the same steps
#   scripts/bench.sh --scale    # 100,000 sockets, and cost against sockets and processes
#                               # (~10 minutes; the table lands in .bench/scale.md)
#
# Installs hyperfine, tmux, GNU time and the classic tools with apt-get when missing, builds loopwatch,
# installs the peer TUIs portwatch and lsport from crates.io into .bench/tools (a peer that
# fails to build is reported in the table, not fatal), raises the descriptor limit, then runs
# scripts/bench.py: fixtures of 1,000 and 10,000 sockets (and 500 extra idle processes), each
# measured against ss, netstat, lsof, fuser and the peers in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/.bench"
tools="$out/tools"
mkdir -p "$out" "$tools"

step() { printf '\n== %s\n' "$*" >&2; }

step "system packages"
missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
command -v tmux >/dev/null || missing+=(tmux)
command -v ss >/dev/null || missing+=(iproute2)
command -v netstat >/dev/null || missing+=(net-tools)
command -v lsof >/dev/null || missing+=(lsof)
command -v fuser >/dev/null || missing+=(psmisc)
command -v python3 >/dev/null || missing+=(python3)
command -v pgrep >/dev/null || missing+=(procps)
[[ -x /usr/bin/time ]] || missing+=(time)
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

step "build loopwatch (release)"
cargo build --release --locked >&2
target_dir=$(cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
loopwatch="$target_dir/release/loopwatch"

step "peer TUIs from crates.io into $tools"
notes=""
peers=(portwatch lsport)
[[ " $* " == *" --scale "* ]] && peers=()  # the scale run compares with ss only
for peer in "${peers[@]}"; do
    if [[ -x "$tools/bin/$peer" ]]; then
        echo "$peer: already installed" >&2
    elif cargo install --quiet --root "$tools" "$peer" >"$out/install-$peer.log" 2>&1; then
        echo "$peer: installed" >&2
    else
        echo "$peer: FAILED to install (see $out/install-$peer.log)" >&2
        notes+="$peer could not be installed from crates.io here: $(grep -m1 -E '^error' "$out/install-$peer.log" || echo 'see the install log')"$'\n'
    fi
done

step "descriptor limit"
# 10,000 sockets in 20 processes needs ~600 each; raise the soft limit as far as allowed.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
ulimit -n >&2

step "measure"
python3 scripts/bench.py --loopwatch "$loopwatch" --tools "$tools/bin" --out "$out" \
    --peer-notes "$notes" "$@"
