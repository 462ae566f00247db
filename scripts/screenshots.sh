#!/usr/bin/env bash
# Regenerates screenshots/*.png and the animated screenshots/demo.gif: the real release binary,
# in a real terminal (a private tmux server), showing real servers started here from Debian's
# packages (PostgreSQL, Redis, nginx, Node.js, an sshd with an ssh -L tunnel through it,
# supervisord) and Python's http.server, and a container of an image built here from busybox
# (where a Docker Engine answers), each on loopback or on a port this script picks, each
# stopped on exit. Every wait polls for what the shot needs,
# with a deadline, instead of sleeping a guessed time.
#
#   scripts/screenshots.sh
#
# Linux only (ss, /proc). The shots show every loopback socket on the machine, not only the
# fixture's, with command lines: run it where that is fine to publish (a container, a CI box).
# The fixture's ports can be moved if they are taken, e.g. EXPOSED_PORT=18080 scripts/screenshots.sh
# Needs root (or sudo) to install the servers when missing and to run PostgreSQL as its user.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

BIN=target/release/loopwatch
OUT=screenshots
SOCKET=loopwatch-shots # a private tmux server: never touches the user's own tmux
PATIENCE=20            # seconds any single wait may take before the script gives up

# The fixture: what a developer's machine typically has on loopback.
WEB_PORT=${WEB_PORT:-5173}         # a Node dev server (vite's default port) on 127.0.0.1
DOCS_PORT=${DOCS_PORT:-8000}       # python3 -m http.server on 127.0.0.1
EXPOSED_PORT=${EXPOSED_PORT:-8080} # nginx bound to 0.0.0.0: the "all interfaces" warning
DB_PORT=${DB_PORT:-5432}           # PostgreSQL on 127.0.0.1 and ::1, to show IPv6
CACHE_PORT=${CACHE_PORT:-6379}     # Redis on 127.0.0.1, with a redis-cli client connected
UDP_PORT=${UDP_PORT:-5353}         # a UDP socket on 127.0.0.1 (Node's dgram)
BRIEF_PORT=${BRIEF_PORT:-6380}     # a second Redis that starts and shuts down while loopwatch runs
SSH_PORT=${SSH_PORT:-2222}         # an sshd of the script's own on 127.0.0.1...
TUNNEL_PORT=${TUNNEL_PORT:-15432}  # ...and an ssh -L through it to PostgreSQL
SHOP_PORT=${SHOP_PORT:-28089}      # a container's HTTP server published on 127.0.0.1 (Docker)
SUPERVISED_PORT=${SUPERVISED_PORT:-8700} # an http.server that supervisord restarts
IMAGE=loopwatch-test-busybox:1     # built here from Debian's static busybox: nothing is pulled
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}

step() { printf '== %s\n' "$*" >&2; }
die() {
    printf 'screenshots.sh: %s\n' "$*" >&2
    exit 1
}
as_root() { if ((EUID == 0)); then "$@"; else sudo "$@"; fi; }
tmux_() { tmux -L "$SOCKET" -f /dev/null "$@"; }

# --- tools --------------------------------------------------------------------------------

step "tools"
if ! python3 -c 'import PIL' 2>/dev/null; then
    python3 -m pip install --quiet pillow
fi
missing=()
command -v tmux >/dev/null || missing+=(tmux)
command -v ss >/dev/null || missing+=(iproute2) # polls for the fixture's sockets
command -v redis-server >/dev/null || missing+=(redis-server)
command -v nginx >/dev/null || missing+=(nginx-light)
command -v node >/dev/null || missing+=(nodejs)
[[ -x ${PG_BIN:-}/postgres ]] || missing+=(postgresql)
[[ -x /usr/sbin/sshd ]] || missing+=(openssh-server)
command -v ssh >/dev/null || missing+=(openssh-client)
command -v supervisord >/dev/null || missing+=(supervisor)
[[ -x /bin/busybox ]] || missing+=(busybox-static)
# The renderer draws with DejaVu Sans Mono.
[[ -e /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ]] || missing+=(fonts-dejavu-core)
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi

step "cargo build --release"
cargo build --release --locked
[[ -x $BIN ]] || die "$BIN was not built"

# --- cleanup ------------------------------------------------------------------------------

work=$(mktemp -d -t loopwatch-shots.XXXXXX) # captures and the fixture's code; removed on exit
pids=()                                     # fixture processes, killed on exit
cleanup() {
    # Killing the server hangs up the panes, which ends loopwatch (it restores the terminal on
    # SIGHUP) and anything else left in them.
    tmux_ kill-server 2>/dev/null || true
    [[ -n ${shop:-} ]] && docker rm -f "$shop" >/dev/null 2>&1
    local pid
    for pid in ${pids[@]+"${pids[@]}"}; do kill "$pid" 2>/dev/null || true; done
    for pid in ${pids[@]+"${pids[@]}"}; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
# Without these, a signal would kill the script without running the EXIT trap.
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# A server left by an earlier run that was killed hard (SIGKILL skips the trap) would mix its
# sessions with this run's.
tmux_ kill-server 2>/dev/null || true

# --- waiting ------------------------------------------------------------------------------

# wait_until WHAT COMMAND...: polls COMMAND until it succeeds, failing after PATIENCE seconds.
wait_until() {
    local what=$1
    shift
    local deadline=$((SECONDS + PATIENCE))
    until "$@"; do
        ((SECONDS < deadline)) || die "timed out after ${PATIENCE}s waiting for $what"
        sleep 0.1
    done
}

# listening PID NETID ADDR PORT: the fixture process PID is alive and a socket is bound to
# ADDR:PORT (NETID t or u; ADDR as ss prints it, [::1] for IPv6). If the port was taken, the
# fixture's bind fails and it exits: say so at once rather than wait out the deadline.
listening() {
    kill -0 "$1" 2>/dev/null || die "the fixture for port $4 exited: is the port already in use?"
    ss -Hln"$2" | awk -v want="$3:$4" '$4 == want { found = 1 } END { exit !found }'
}

# connected PORT: an established TCP connection to PORT exists.
connected() { [[ -n $(ss -Htn state established "dport = :$1") ]]; }

# Screen checks read the pane's plain text on stdin.
# has WORD...: every WORD appears as a whole word. lacks WORD...: none does.
has() {
    local text word
    text=$(cat)
    for word in "$@"; do grep -qwF -- "$word" <<<"$text" || return 1; done
}
lacks() {
    local text word
    text=$(cat)
    for word in "$@"; do grep -qwF -- "$word" <<<"$text" && return 1; done
    return 0
}

# capture_when SESSION NAME WHAT CHECK...: captures the pane into $work/NAME.ans until CHECK
# accepts its text. The accepted capture is the one rendered, so a shot always shows what was
# checked, not a later refresh. -e keeps the colours; -N keeps trailing spaces, which carry
# the background of rows highlighted to the right edge.
capture_when() {
    local session=$1 name=$2 what=$3
    shift 3
    local ans=$work/$name.ans txt=$work/$name.txt
    local deadline=$((SECONDS + PATIENCE))
    while :; do
        tmux_ capture-pane -e -p -N -t "$session" >"$ans"
        sed 's/\x1b\[[0-9;:]*m//g' "$ans" >"$txt"
        if "$@" <"$txt"; then return 0; fi
        if ((SECONDS >= deadline)); then
            printf 'screenshots.sh: timed out after %ss waiting for %s; the screen was:\n' \
                "$PATIENCE" "$what" >&2
            cat "$txt" >&2
            exit 1
        fi
        sleep 0.1
    done
}

# render NAME COLS ROWS: $work/NAME.ans -> screenshots/NAME.png
render() {
    python3 scripts/screenshot.py "$work/$1.ans" "$OUT/$1.png" --cols "$2" --rows "$3"
    echo "wrote $OUT/$1.png" >&2
}

# --- fixture ------------------------------------------------------------------------------

step "fixture"
for port in "$WEB_PORT" "$DOCS_PORT" "$EXPOSED_PORT" "$DB_PORT" "$CACHE_PORT" "$BRIEF_PORT" \
    "$SSH_PORT" "$TUNNEL_PORT" "$SHOP_PORT" "$SUPERVISED_PORT"; do
    # Checked up front, as a taken port would put someone else's process in the shot. UDP is
    # not checked: an mDNS responder (avahi) commonly shares 5353 with SO_REUSEADDR, and so can
    # the fixture.
    [[ -z $(ss -Hltn "sport = :$port") ]] || die "TCP port $port is already in use"
done

chmod 755 "$work" # PostgreSQL runs as its own user and needs to reach its folder
mkdir "$work/www" # what the HTTP servers serve: a page, not the repository
echo '<h1>loopwatch</h1>' >"$work/www/index.html"
cat >"$work/www/server.js" <<'JS'
require("http").createServer((_, res) => res.end("ok\n")).listen(process.argv[2], "127.0.0.1");
JS
cat >"$work/www/udp.js" <<'JS'
require("dgram").createSocket({ type: "udp4", reuseAddr: true }).bind(process.argv[2], "127.0.0.1");
JS
cat >"$work/nginx.conf" <<NGINX
daemon off;
worker_processes 1;
pid $work/nginx.pid;
error_log stderr;
events {}
http {
    access_log off;
    client_body_temp_path $work/nginx-body;
    server { listen 0.0.0.0:$EXPOSED_PORT; root $work/www; }
}
NGINX
install -d -o postgres -g postgres "$work/pg"
as_root runuser -u postgres -- "$PG_BIN/initdb" -D "$work/pg/data" -A trust >/dev/null

# Each runs in a subshell that cds and then execs, so $! is the server's own pid and its
# command line is just the server's.
(cd "$work/www" && exec node server.js "$WEB_PORT") &
web=$!
pids+=("$web")
(cd "$work/www" && exec python3 -m http.server --bind 127.0.0.1 "$DOCS_PORT" >/dev/null 2>&1) &
docs=$!
pids+=("$docs")
(exec nginx -c "$work/nginx.conf" -p "$work" 2>/dev/null) &
exposed=$!
pids+=("$exposed")
(cd "$work/pg" && exec runuser -u postgres -- "$PG_BIN/postgres" -D "$work/pg/data" \
    -c listen_addresses=127.0.0.1,::1 -p "$DB_PORT" -k "$work/pg" >/dev/null 2>&1) &
db=$!
pids+=("$db")
(cd "$work" && exec redis-server --bind 127.0.0.1 --port "$CACHE_PORT" --save '' \
    --appendonly no >/dev/null) &
cache=$!
pids+=("$cache")
(cd "$work/www" && exec node udp.js "$UDP_PORT") &
udp=$!
pids+=("$udp")

# runuser stays as the parent of postgres: wait on the sockets, not a pid of our own.
wait_until "node on $WEB_PORT" listening "$web" t 127.0.0.1 "$WEB_PORT"
wait_until "http.server on $DOCS_PORT" listening "$docs" t 127.0.0.1 "$DOCS_PORT"
wait_until "nginx on $EXPOSED_PORT" listening "$exposed" t 0.0.0.0 "$EXPOSED_PORT"
wait_until "PostgreSQL on [::1]:$DB_PORT" listening "$db" t '[::1]' "$DB_PORT"
wait_until "Redis on $CACHE_PORT" listening "$cache" t 127.0.0.1 "$CACHE_PORT"
wait_until "the UDP socket on $UDP_PORT" listening "$udp" u 127.0.0.1 "$UDP_PORT"

# A client holding a connection to Redis, for the connections and inspect shots: both ends
# of it show. It stays hidden until `c` is pressed.
(exec redis-cli -p "$CACHE_PORT" subscribe news >/dev/null) &
client=$!
pids+=("$client")
wait_until "redis-cli's connection to $CACHE_PORT" connected "$CACHE_PORT"

# --- loopwatch in tmux --------------------------------------------------------------------

step "loopwatch in tmux"
# start SESSION COLS ROWS: loopwatch in a pane of exactly COLS x ROWS. If it exits, the pane
# keeps its status on screen, so a failed wait shows why. The command goes to tmux as argv,
# run by sh, so the user's login shell (fish, ...) plays no part. TERM and COLORTERM as in a
# modern terminal emulator; tmux keeps whatever colours loopwatch draws.
start() {
    # shellcheck disable=SC2016 # $0 and $? are for sh -c to expand, not this script
    tmux_ new-session -d -s "$1" -x "$2" -y "$3" -c "$ROOT" sh -c \
        'TERM=xterm-256color COLORTERM=truecolor "$0"; echo "loopwatch exited with status $?"; exec sleep 3600' \
        "$ROOT/$BIN"
    local size
    size=$(tmux_ display-message -p -t "$1" '#{pane_width}x#{pane_height}')
    [[ $size == "$2x$3" ]] || die "tmux made the $1 pane $size, not $2x$3"
}
mkdir -p "$OUT"
start wide 120 30
start narrow 80 24

# The whole fixture, with owners resolved (the names), before the first shot.
capture_when wide table-120x30 "the fixture in the 120x30 table" \
    has "$WEB_PORT" "$DOCS_PORT" "$EXPOSED_PORT" "$DB_PORT" "$CACHE_PORT" "$UDP_PORT" postgres redis-server nginx node
render table-120x30 120 30
# Narrower, some columns are dropped; the ports are always there.
capture_when narrow table-80x24 "the fixture in the 80x24 table" \
    has "$WEB_PORT" "$EXPOSED_PORT" "$DB_PORT" "$CACHE_PORT"
render table-80x24 80 24

step "filter"
# Typed, not confirmed with Enter, so the shot shows the filter being edited.
tmux_ send-keys -t narrow -l /
tmux_ send-keys -t narrow -l postgres
filtered() {
    local text
    text=$(cat)
    has "$DB_PORT" 127.0.0.1 ::1 <<<"$text" && lacks "$EXPOSED_PORT" "$CACHE_PORT" "$WEB_PORT" <<<"$text"
}
capture_when narrow filter-80x24 "the filter to leave only PostgreSQL" filtered
render filter-80x24 80 24

step "help"
# Clear the filter and wait for the full table before `?`: an Escape arriving together with
# the next key would read as Alt+key.
tmux_ send-keys -t narrow Escape
capture_when narrow after-filter "the filter to clear" has "$EXPOSED_PORT" "$DB_PORT"
tmux_ send-keys -t narrow -l '?'
capture_when narrow help-80x24 "the help overlay" has keys close
render help-80x24 80 24

step "connections"
tmux_ send-keys -t wide -l c
# Two ESTABLISHED rows at least: the client's end and the server's. The connection was open
# before `c`, so the first table that shows connections has both.
two_ends() { [[ $(grep -cw ESTABLISHED) -ge 2 ]]; }
capture_when wide connections-120x30 "both ends of the connection to $CACHE_PORT" two_ends
render connections-120x30 120 30

step "inspect and stop"
# Redis's listener in depth: its process, ancestry and the connected client. Each step is
# also a frame of the demo.
demo=()
frame() { cp "$work/$1.ans" "$work/demo-${#demo[@]}.ans" && demo+=("$work/demo-${#demo[@]}.ans"); }
capture_when wide demo-table "the table with connections" has "$CACHE_PORT" ESTABLISHED
frame demo-table
tmux_ send-keys -t wide -l /
tmux_ send-keys -t wide -l "$CACHE_PORT LISTEN"
capture_when wide demo-filter "the filter typed" has "1 shown"
frame demo-filter
tmux_ send-keys -t wide Enter
capture_when wide after-inspect-filter "only Redis's listener" has "1 shown"
tmux_ send-keys -t wide Enter
capture_when wide inspect-120x30 "the inspect view with its client" has ancestry connected redis-cli
render inspect-120x30 120 30
frame inspect-120x30
# The stop dialog, then `n`: the shot never stops anything.
tmux_ send-keys -t wide -l x
capture_when wide stop-120x30 "the stop dialog" has SIGTERM redis-server
render stop-120x30 120 30
frame stop-120x30
tmux_ send-keys -t wide -l n
capture_when wide after-stop "the dialog cancelled" has cancelled
frame after-stop
python3 scripts/screenshot.py "${demo[@]}" "$OUT/demo.gif" --cols 120 --rows 30 --frame-ms 1800
echo "wrote $OUT/demo.gif" >&2

step "explain"
# Close the help, narrow to the dev server and explain it.
tmux_ send-keys -t narrow Escape
capture_when narrow after-help "the help to close" has "$EXPOSED_PORT" "$DB_PORT"
tmux_ send-keys -t narrow -l /
tmux_ send-keys -t narrow -l "$WEB_PORT"
tmux_ send-keys -t narrow Enter
capture_when narrow after-explain-filter "only the dev server" lacks "$EXPOSED_PORT" "$DB_PORT" "$CACHE_PORT"
tmux_ send-keys -t narrow -l e
capture_when narrow explain-80x24 "the explanation" has loopback
render explain-80x24 80 24

step "history"
# A second Redis starts and shuts down while loopwatch watches: both events enter the history.
tmux_ send-keys -t wide Escape
(cd "$work" && exec redis-server --bind 127.0.0.1 --port "$BRIEF_PORT" --save '' >/dev/null) &
brief=$!
pids+=("$brief")
wait_until "the second Redis on $BRIEF_PORT" listening "$brief" t 127.0.0.1 "$BRIEF_PORT"
sleep 1.5 # one refresh sees it open
redis-cli -p "$BRIEF_PORT" shutdown nosave >/dev/null 2>&1 || true
wait "$brief" 2>/dev/null || true
tmux_ send-keys -t wide -l h
opened_and_closed() {
    local text
    text=$(cat)
    grep -E -- "\+ tcp 127\.0\.0\.1:$BRIEF_PORT redis-server" <<<"$text" >/dev/null &&
        grep -E -- "- tcp 127\.0\.0\.1:$BRIEF_PORT redis-server" <<<"$text" >/dev/null
}
capture_when wide history-120x30 "the second Redis's open and close in the history" opened_and_closed
render history-120x30 120 30

step "tunnel"
# An sshd of the script's own on loopback, with its own keys, and a real ssh -L through it to
# PostgreSQL: the table names where the tunnel leads, and inspect says what stopping it ends.
mkdir -p "$work/ssh" /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/host"
ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/client"
cp "$work/ssh/client.pub" "$work/ssh/authorized_keys"
cat >"$work/ssh/sshd_config" <<SSHD
ListenAddress 127.0.0.1
Port $SSH_PORT
HostKey $work/ssh/host
PidFile $work/ssh/sshd.pid
AuthorizedKeysFile $work/ssh/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowTcpForwarding yes
SSHD
(exec /usr/sbin/sshd -D -e -f "$work/ssh/sshd_config" 2>/dev/null) &
sshd=$!
pids+=("$sshd")
wait_until "sshd on $SSH_PORT" listening "$sshd" t 127.0.0.1 "$SSH_PORT"
(exec ssh -N -F /dev/null -i "$work/ssh/client" -p "$SSH_PORT" -o BatchMode=yes \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
    -L "127.0.0.1:$TUNNEL_PORT:127.0.0.1:$DB_PORT" "$(id -un)@127.0.0.1") &
tunnel=$!
pids+=("$tunnel")
wait_until "the tunnel on $TUNNEL_PORT" listening "$tunnel" t 127.0.0.1 "$TUNNEL_PORT"
# show_all: the wide table with no filter. show_only TEXT: filtered to TEXT (`/`, Esc clears
# what was typed before; `/` again, the text, Enter keeps it).
show_all() {
    tmux_ send-keys -t wide -l /
    tmux_ send-keys -t wide Escape
    capture_when wide unfiltered "the whole table" has "$EXPOSED_PORT" "$DB_PORT"
}
show_only() {
    show_all
    tmux_ send-keys -t wide -l /
    tmux_ send-keys -t wide -l "$1"
    tmux_ send-keys -t wide Enter
    capture_when wide filtered-"$1" "the table filtered to $1" has "1 shown"
}
tmux_ send-keys -t wide Escape # the history
show_all
tmux_ send-keys -t wide -l c # back to listeners only
capture_when wide after-history "the table without connections" lacks ESTABLISHED
show_only "$TUNNEL_PORT"
tmux_ send-keys -t wide Enter
capture_when wide tunnel-inspect-120x30 "the tunnel's inspect view, details read" has forwards "$DB_PORT" ancestry
render tunnel-inspect-120x30 120 30
tmux_ send-keys -t wide Escape

step "supervised"
# A server that supervisord restarts: the stop dialog says so before anything is sent.
mkdir "$work/sup"
cat >"$work/sup/supervisord.conf" <<SUP
[unix_http_server]
file=$work/sup/supervisor.sock
[supervisord]
logfile=$work/sup/supervisord.log
pidfile=$work/sup/supervisord.pid
childlogdir=$work/sup
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://$work/sup/supervisor.sock
[program:docs]
command=python3 -m http.server --bind 127.0.0.1 $SUPERVISED_PORT
directory=$work/www
autorestart=true
startsecs=0
SUP
(exec supervisord -n -c "$work/sup/supervisord.conf" >/dev/null 2>&1) &
supervisor=$!
pids+=("$supervisor")
supervised_up() { [[ -n $(ss -Hltn "sport = :$SUPERVISED_PORT") ]]; }
wait_until "supervisord's http.server on $SUPERVISED_PORT" supervised_up
show_only "$SUPERVISED_PORT"
tmux_ send-keys -t wide -l x
capture_when wide stop-supervised-120x30 "the stop dialog naming supervisord" has SIGTERM supervisord restarted
render stop-supervised-120x30 120 30
tmux_ send-keys -t wide -l n
capture_when wide after-supervised "the dialog cancelled" has cancelled

step "container"
# A container publishing a port on 127.0.0.1, from an image built here: the table names the
# container behind docker-proxy. Skipped, loudly, where no Docker Engine answers.
if docker info >/dev/null 2>&1; then
    if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
        mkdir -p "$work/image/bin"
        cp /bin/busybox "$work/image/bin/busybox"
        for applet in sh httpd sleep; do ln -s busybox "$work/image/bin/$applet"; done
        tar -C "$work/image" -c . | docker import - "$IMAGE" >/dev/null
    fi
    shop=shop-web-1
    docker rm -f "$shop" >/dev/null 2>&1 || true
    docker run -d --rm --name "$shop" -p "127.0.0.1:$SHOP_PORT:8080" \
        --label com.docker.compose.project=shop --label com.docker.compose.service=web \
        "$IMAGE" /bin/sh -c "trap 'exit 0' TERM; httpd -f -p 8080 & wait" >/dev/null
    published() { [[ -n $(ss -Hltn "sport = :$SHOP_PORT") ]]; }
    wait_until "the container's port $SHOP_PORT" published
    show_all
    capture_when wide container-120x30 "the container behind docker-proxy" has "$SHOP_PORT" "$shop"
    render container-120x30 120 30
    show_only "$SHOP_PORT"
    tmux_ send-keys -t wide Enter
    capture_when wide container-inspect-120x30 "the container part of inspect, details read" has container image compose status
    render container-inspect-120x30 120 30
else
    echo "WARNING: no Docker Engine answers here: container-120x30.png was NOT regenerated" >&2
fi

step "done"
ls -l "$OUT"/*.png >&2
