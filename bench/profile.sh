#!/usr/bin/env bash
# Where a warm token's CPU goes, on SQLite (or PostgreSQL), repeatably. Two modes:
#   bench/profile.sh callgrind [BIN]  user-space instructions per warm token request: the server
#       under valgrind --tool=callgrind, instrumentation switched on for exactly N requests
#       (PROFILE_REQUESTS, 2000) after as many unmeasured ones. Repeatable to ~0.1 % between
#       runs of one binary: the figure to compare builds with. Kernel work (TCP, futex wake-ups)
#       is not counted.
#   bench/profile.sh perf [BIN]       perf record (cpu-clock, DWARF call graphs) of the server
#       under the warm wrk load for PROFILE_SECONDS (6); every sample is put in one category by
#       the deepest frame that names one (bench/profile_categories.py), printed as a share and
#       as µs of server CPU per token. Kernel time included; as noisy as the machine.
# Both use 200 clients with typed secrets, each verified once before (the remembered path, as
# the warm column of `just bench`); bcrypt cost 4, which the warm path never uses.
# PROFILE_BACKEND=postgres profiles on a fresh PostgreSQL database instead of SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?callgrind or perf}
BIN=$(realpath "${2:-target/release/vitesse-identity}")
[ -n "${2:-}" ] || cargo build --release -q -p vitesse-api
N=${PROFILE_REQUESTS:-2000}
SECONDS_RUN=${PROFILE_SECONDS:-6}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
db_url=$work/vitesse.sqlite3
if [ "${PROFILE_BACKEND:-sqlite}" = postgres ]; then
  scripts/ensure-postgres.sh
  pgdb="vitesse_profile_$$"
  psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $pgdb" postgres
  db_url="postgres://postgres@127.0.0.1:5432/$pgdb"
  trap 'kill $(jobs -p) 2>/dev/null || true; wait; rm -rf "$work"; psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" postgres' EXIT
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export DATABASE_URL=$db_url VITESSE_DATA_DIR=$work VITESSE_BCRYPT_COST=4

wrapper=()
[ "$mode" = callgrind ] && wrapper=(valgrind --tool=callgrind --instr-atstart=no "--callgrind-out-file=$work/callgrind.out")
RUST_LOG=warn "${wrapper[@]}" "$BIN" serve --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
account=$("$BIN" account create --name Profile --identity-clients enabled 2>/dev/null)
echo -n 'profile-password-123' | "$BIN" user create --account "$account" --email profile@example.com \
  --role merchant-admin --password-stdin >/dev/null 2>&1
curl -sf -c "$work/jar" -H 'content-type: application/json' \
  -d '{"email":"profile@example.com","password":"profile-password-123"}' "$base/api/v1/session" >/dev/null
seq 1 200 | xargs -P 4 -I{} curl -sf -o /dev/null -b "$work/jar" -H "origin: $base" -H 'content-type: application/json' \
  -d '{"client_id":"profile-client-{}","client_secret":"profile-secret-{}","token_duration_minutes":15,"roles":["payments:read"]}' \
  "$base/api/v1/identity-clients"
seq 1 200 | xargs -P 4 -I{} curl -sf -o /dev/null -u "profile-client-{}:profile-secret-{}" \
  -d grant_type=client_credentials "$base/oauth2/token"
for i in $(seq 1 200); do printf 'profile-client-%s:profile-secret-%s' "$i" "$i" | base64 -w0; echo; done >"$work/creds"
# The requests, each client in turn: N for the exactly-once script, round-robin for wrk -d.
awk -v n="$N" '{c[NR] = $0} END {for (i = 0; i < n; i++) print c[i % NR + 1]}' "$work/creds" >"$work/items"
once() { # mark
  ONCE_MODE=token ONCE_ITEMS=$work/items ONCE_THREADS=2 ONCE_CONNS=16 ONCE_MARK=$work/$1 \
    wrk -t2 -c16 -d600s -s bench/once.lua "$base" | awk '/^once:/ {print $3, $8, $9}'
}
ticks() { sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}'; }

case $mode in
callgrind)
  once warm-up >/dev/null
  callgrind_control -i on "$pid" >/dev/null 2>&1
  read -r answered non2xx errors < <(once measured)
  callgrind_control -d "$pid" >/dev/null 2>&1
  callgrind_control -i off "$pid" >/dev/null 2>&1
  ir=$(callgrind_annotate "$work"/callgrind.out.* 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); if ($1 > max) max = $1} END {print max}')
  echo "$(basename "$BIN"): $((ir / N)) instructions per warm token ($N requests: $answered answered, $non2xx non-2xx, $errors socket errors)"
  ;;
perf)
  cat >"$work/warm.lua" <<LUA
local requests, i = {}, 0
init = function(args)
  for c in io.lines("$work/creds") do
    table.insert(requests, wrk.format("POST", "/oauth2/token",
      {["Content-Type"] = "application/x-www-form-urlencoded", ["Authorization"] = "Basic " .. c},
      "grant_type=client_credentials"))
  end
end
request = function() i = (i % #requests) + 1; return requests[i] end
LUA
  wrk -t2 -c64 -d2s -s "$work/warm.lua" "$base" >/dev/null
  perf record -q -e cpu-clock -F 2000 --call-graph dwarf,12288 -p "$pid" -o "$work/perf.data" \
    -- sleep $((SECONDS_RUN + 1)) >/dev/null 2>&1 &
  perf_pid=$!
  sleep 0.3
  t0=$(ticks)
  wrk -t2 -c64 -d"${SECONDS_RUN}s" -s "$work/warm.lua" "$base" >"$work/wrk.txt"
  t1=$(ticks)
  wait "$perf_pid" || true
  tokens=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
  echo "$(basename "$BIN"): $tokens tokens in ${SECONDS_RUN}s, $(python3 -c "print(f'{($t1-$t0)*1e6/$(getconf CLK_TCK)/$tokens:.1f}')") µs server CPU per token (/proc)"
  perf script -i "$work/perf.data" -F comm,ip,sym 2>/dev/null | python3 bench/profile_categories.py "$tokens"
  ;;
*) echo "mode: callgrind or perf"; exit 2 ;;
esac
