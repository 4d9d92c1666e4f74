#!/usr/bin/env bash
# `just bench`: the token service under load, on SQLite and on PostgreSQL, with wrk.
# Prints one table: warm tokens/s, p50 and p99 at 64 connections; the cold path (first token of
# 200 distinct clients, bcrypt cost 12); warm p99 while a storm of wrong secrets runs.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BENCH_BIN:-target/release/vitesse-identity}   # another build, to compare
CLIENTS=${BENCH_CLIENTS:-200}
DURATION=${BENCH_SECONDS:-10}
CONNS=64
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wrk prints latency percentiles with --latency; pull out req/s, p50, p99.
wrk_stats() { # file -> "rps p50 p99"
  awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} END {print rps, p50, p99}' "$1"
}

bench_backend() { # name database_url
  local name=$1 url=$2 port base
  port=$(free_port); base="http://127.0.0.1:$port"
  local data="$work/$name"; mkdir -p "$data"
  export DATABASE_URL=$url VITESSE_DATA_DIR=$data
  RUST_LOG=warn $BIN serve --bind "127.0.0.1:$port" >"$data/server.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done

  local account; account=$($BIN account create --name Bench --identity-clients enabled 2>/dev/null)
  echo -n 'bench-password-123' | $BIN user create --account "$account" --email bench@example.com --role merchant-admin --password-stdin >/dev/null 2>&1
  curl -sf -c "$data/jar" -H 'content-type: application/json' \
    -d '{"email":"bench@example.com","password":"bench-password-123"}' "$base/api/v1/session" >/dev/null
  seq 1 "$CLIENTS" | xargs -P 4 -I{} curl -sf -o /dev/null -b "$data/jar" -H "origin: $base" \
    -H 'content-type: application/json' \
    -d '{"client_id":"bench-client-{}","client_secret":"bench-secret-{}","token_duration_minutes":15,"roles":["payments:read"]}' \
    "$base/api/v1/identity-clients"

  # Cold: the first token of every client (a real bcrypt verification each), 4 at a time.
  local t0 t1
  t0=$(date +%s.%N)
  seq 1 "$CLIENTS" | xargs -P 4 -I{} curl -sf -o /dev/null -w '%{time_total}\n' -u "bench-client-{}:bench-secret-{}" \
    -d grant_type=client_credentials "$base/oauth2/token" >"$data/cold.txt"
  t1=$(date +%s.%N)
  local cold_rps cold_p50 cold_p99
  cold_rps=$(python3 -c "print(f'{$CLIENTS/($t1-$t0):.1f}')")
  read -r cold_p50 cold_p99 < <(sort -n "$data/cold.txt" | python3 -c '
import sys; v=[float(x) for x in sys.stdin]; q=lambda p: v[min(len(v)-1,int(p*len(v)))]*1000
print(f"{q(0.5):.0f}ms {q(0.99):.0f}ms")')

  # Warm: all clients round-robin, every secret already verified once.
  {
    echo 'local creds = {'
    for i in $(seq 1 "$CLIENTS"); do printf '"%s",\n' "$(printf 'bench-client-%s:bench-secret-%s' "$i" "$i" | base64 -w0)"; done
    echo '}'
    cat <<'LUA'
-- Every request is built once, in init, so wrk spends its CPU on sending, not formatting.
local requests, i = {}, 0
init = function(args)
  for n, c in ipairs(creds) do
    requests[n] = wrk.format("POST", "/oauth2/token",
      {["Content-Type"] = "application/x-www-form-urlencoded", ["Authorization"] = "Basic " .. c},
      "grant_type=client_credentials")
  end
end
request = function()
  i = (i % #requests) + 1
  return requests[i]
end
done = function(summary, latency, requests)
  io.write(string.format("non2xx=%d\n", summary.errors.status))
end
LUA
  } >"$data/warm.lua"
  cat >"$data/storm.lua" <<'LUA'
math.randomseed(os.time())
request = function()
  local id = string.format("storm-%08x", math.random(0, 0x7fffffff))
  return wrk.format("POST", "/oauth2/token",
    {["Content-Type"] = "application/x-www-form-urlencoded"},
    "grant_type=client_credentials&client_id=" .. id .. "&client_secret=wrong-secret")
end
LUA
  wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s "$data/warm.lua" "$base" >"$data/warm.txt"
  grep -q '^non2xx=0$' "$data/warm.txt" || { echo "warm run had errors:"; cat "$data/warm.txt"; }
  local warm; warm=$(wrk_stats "$data/warm.txt")

  # Storm: wrong secrets for unknown clients (a dummy bcrypt each) while the warm load runs.
  wrk -t1 -c16 -d"$((DURATION + 2))s" -s "$data/storm.lua" "$base" >"$data/storm.txt" &
  local storm_pid=$!
  sleep 1
  wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -s "$data/warm.lua" "$base" >"$data/warm-storm.txt"
  wait $storm_pid || true
  local during; during=$(wrk_stats "$data/warm-storm.txt")
  local storm_rps; storm_rps=$(awk '/Requests\/sec/ {print $2}' "$data/storm.txt")

  kill "$pid"; wait "$pid" 2>/dev/null || true
  read -r w_rps w_p50 w_p99 <<<"$warm"
  read -r s_rps s_p50 s_p99 <<<"$during"
  printf '| %-10s | %10s | %7s | %7s | %9s | %7s | %7s | %10s | %8s | %7s |\n' \
    "$name" "$w_rps" "$w_p50" "$w_p99" "$cold_rps" "$cold_p50" "$cold_p99" "$s_rps" "$s_p99" "$storm_rps"
}

[ -n "${BENCH_BIN:-}" ] || cargo build --release -q -p vitesse-api
scripts/ensure-postgres.sh
pgdb="vitesse_bench_$$"
psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $pgdb" postgres
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"; psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" postgres' EXIT

echo "Token service, $(nproc) cores shared by server and wrk; $CLIENTS clients; bcrypt cost 12; ${DURATION}s runs, $CONNS connections."
printf '| %-10s | %10s | %7s | %7s | %9s | %7s | %7s | %10s | %8s | %7s |\n' \
  backend "warm tok/s" p50 p99 "cold tok/s" "cold p50" "cold p99" "storm: tok/s" "p99" "wrong/s"
printf '|%s|\n' "------------|------------|---------|---------|-----------|---------|---------|------------|----------|---------"
BACKENDS=${BENCH_BACKENDS:-sqlite postgres}
[[ " $BACKENDS " == *" sqlite "* ]] && bench_backend sqlite "$work/sqlite/vitesse.sqlite3"
[[ " $BACKENDS " == *" postgres "* ]] && bench_backend postgres "postgres://postgres@127.0.0.1:5432/$pgdb"
true
