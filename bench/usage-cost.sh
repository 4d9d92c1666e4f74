#!/usr/bin/env bash
# What counting usage costs the token path (issue #13): warm tokens/s and server CPU per token
# with usage counting on and with it off (VITESSE_NO_USAGE_COUNTING), on SQLite, same binary,
# same database, runs alternated (off, on, off, on, …) so drift on a shared machine hits both
# alike. Prints each run, the medians and on ÷ off. BENCH_SECONDS (10) per run, BENCH_ROUNDS (3).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BENCH_BIN:-target/release/vitesse-identity}
DURATION=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
CLIENTS=200
CLK_TCK=$(getconf CLK_TCK)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export DATABASE_URL="$work/bench.sqlite3" VITESSE_DATA_DIR=$work RUST_LOG=warn

start() { # extra env assignments for the server
  env "$@" "$BIN" serve --bind "127.0.0.1:$port" >>"$work/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -sf "$base/healthz" >/dev/null && return; sleep 0.1; done
  echo "the server did not start"; tail "$work/server.log"; exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; }

start
account=$($BIN account create --name Bench --identity-clients enabled 2>/dev/null)
echo -n 'bench-password-123' | $BIN user create --account "$account" --email bench@example.com \
  --role merchant-admin --password-stdin >/dev/null 2>&1
curl -sf -c "$work/jar" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"bench-password-123"}' "$base/api/v1/session" >/dev/null
# Generated secrets, taken from the responses that made them: every request is verified the
# same way on every run, nothing remembered from an earlier run.
python3 - "$base" "$work/jar" "$CLIENTS" >"$work/creds" <<'PY'
import base64, http.cookiejar, json, sys, urllib.request
base, jar_file, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
jar = http.cookiejar.MozillaCookieJar(jar_file); jar.load(ignore_discard=True, ignore_expires=True)
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
for i in range(1, n + 1):
    body = json.dumps({"client_id": f"usage-client-{i}", "generate_secret": True,
                       "token_duration_minutes": 15, "roles": ["payments:read"]}).encode()
    req = urllib.request.Request(f"{base}/api/v1/identity-clients", data=body,
                                 headers={"content-type": "application/json", "origin": base})
    made = json.load(opener.open(req))
    print(base64.b64encode(f"usage-client-{i}:{made['client_secret']}".encode()).decode())
PY
stop
[ "$(wc -l <"$work/creds")" -gt 0 ] || { echo "no clients were made"; exit 1; }
{
  echo 'local creds = {'; sed 's/.*/"&",/' "$work/creds"; echo '}'
  cat <<'LUA'
local requests, i = {}, 0
init = function(args)
  for n, c in ipairs(creds) do
    requests[n] = wrk.format("POST", "/oauth2/token",
      {["Content-Type"] = "application/x-www-form-urlencoded", ["Authorization"] = "Basic " .. c},
      "grant_type=client_credentials")
  end
end
request = function() i = (i % #requests) + 1; return requests[i] end
done = function(summary) io.write(string.format("non2xx=%d\n", summary.errors.status)) end
LUA
} >"$work/warm.lua"

cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
run() { # label env... → appends "label tok/s cpu_us" to $work/runs
  local label=$1; shift
  start "$@"
  # A short warm-up (pool, caches), then the measured run.
  wrk -t2 -c64 -d2s -s "$work/warm.lua" "$base" >/dev/null
  local t0 t1; t0=$(cpu_ticks "$pid")
  wrk -t2 -c64 -d"${DURATION}s" -s "$work/warm.lua" "$base" >"$work/wrk.txt"
  t1=$(cpu_ticks "$pid")
  stop
  grep -q '^non2xx=0$' "$work/wrk.txt" || { echo "run $label had errors:"; cat "$work/wrk.txt"; }
  local rps tokens; rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
  tokens=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
  echo "$label $rps $(python3 -c "print(f'{($t1-$t0)*1e6/$CLK_TCK/max($tokens,1):.0f}')")" >>"$work/runs"
}
for _ in $(seq 1 "$ROUNDS"); do
  run off VITESSE_NO_USAGE_COUNTING=true
  run on
done
python3 - "$work/runs" <<'PY'
import statistics, sys
runs = [l.split() for l in open(sys.argv[1])]
print("Usage counting: warm tokens/s and server CPU µs per token (SQLite, generated secrets, 64 connections)")
print("| run | counting | tok/s | CPU µs/tok |\n|---|---|---|---|")
for n, (label, rps, cpu) in enumerate(runs, 1):
    print(f"| {n} | {label} | {float(rps):,.0f} | {cpu} |")
med = {k: (statistics.median(float(r[1]) for r in runs if r[0] == k),
           statistics.median(float(r[2]) for r in runs if r[0] == k)) for k in ("off", "on")}
print(f"\nmedian off: {med['off'][0]:,.0f} tok/s, {med['off'][1]:.0f} µs/tok; "
      f"on: {med['on'][0]:,.0f} tok/s, {med['on'][1]:.0f} µs/tok; "
      f"on ÷ off: {med['on'][0] / med['off'][0]:.3f} (tok/s), {med['on'][1] / med['off'][1]:.3f} (CPU) — aim: tok/s ≥ 0.95")
PY
