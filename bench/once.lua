-- wrk script: one request per item of a list, each item exactly once, spread over wrk's threads
-- (thread i takes items i, i+T, i+2T, ...) and their connections. A thread stops when its whole
-- slice is answered; the last one to finish wakes wrk (SIGINT, which wrk takes as "stop"), so a
-- run lasts as long as its work, not -d (-d is only the limit). Configured by environment:
--   ONCE_MODE     token:  each line of ONCE_ITEMS is base64(client_id:secret); POST /oauth2/token
--                         with HTTP Basic, the client-credentials grant.
--                 create: each line is a client ID; POST /api/v1/identity-clients with
--                         generate_secret, cookie ONCE_COOKIE and Origin ONCE_ORIGIN; every 201's
--                         "client_id:client_secret" goes to ONCE_OUT.<thread>.
--   ONCE_ITEMS    the list, one item a line
--   ONCE_THREADS  wrk's -t; ONCE_CONNS wrk's -c
--   ONCE_MARK     a path prefix for the threads' "done" files
-- done() prints one line: once: items answered seconds rate p50_ms p99_ms non2xx socket_errors.
-- The rate is the slice's items over the time from the first request sent to the last answer
-- received (CLOCK_MONOTONIC, across threads); p50/p99 are wrk's own latency figures.
--
-- Counting answers without a response() callback (which would make wrk hand every response to
-- Lua): wrk calls delay() once when a connection opens and once after every response, before
-- it asks request() for the next one. So answers = delay() calls - connections, and delay()
-- reserves an item before request() sends it; a connection whose slice is used up waits
-- "forever" instead of sending anything.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } once_timespec;
  int clock_gettime(int clk, once_timespec *tp);
  int kill(int pid, int sig);
  int getpid(void);
]]
local ts = ffi.new("once_timespec")
local function now()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC: comparable across threads
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local mode = os.getenv("ONCE_MODE") or "token"
local threads_n = tonumber(os.getenv("ONCE_THREADS") or "2")
local conns = math.floor(tonumber(os.getenv("ONCE_CONNS") or "64") / threads_n)
local mark = os.getenv("ONCE_MARK") or "/tmp/wrk-once"

-- Main state: number the threads, read their figures at the end.
local threads, next_id = {}, 0
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- Thread state.
local items, requests = {}, {}
local reserved, sent, calls, answered, stopped = 0, 0, 0, 0, false
t0, t1, out = 0, 0, nil

function init(args)
  local k = 0
  for line in io.lines(os.getenv("ONCE_ITEMS")) do
    if k % threads_n == id then table.insert(items, line) end
    k = k + 1
  end
  for n, item in ipairs(items) do
    if mode == "create" then
      requests[n] = wrk.format("POST", "/api/v1/identity-clients", {
        ["Content-Type"] = "application/json",
        ["Cookie"] = os.getenv("ONCE_COOKIE"),
        ["Origin"] = os.getenv("ONCE_ORIGIN"),
      }, '{"client_id":"' .. item .. '","generate_secret":true,'
        .. '"token_duration_minutes":15,"roles":["payments:read"]}')
    else
      requests[n] = wrk.format("POST", "/oauth2/token", {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["Authorization"] = "Basic " .. item,
      }, "grant_type=client_credentials")
    end
  end
  if mode == "create" then
    out = io.open((os.getenv("ONCE_OUT") or "/tmp/wrk-once-out") .. "." .. id, "w")
    response = function(status, headers, body)
      if status == 201 then
        local cid = body:match('"client_id":"([^"]+)"')
        local secret = body:match('"client_secret":"([^"]+)"')
        if cid and secret then out:write(cid, ":", secret, "\n") end
      else
        io.stderr:write("create: ", status, " ", body, "\n")
      end
    end
  end
end

local function finished()
  stopped = true
  t1 = now()
  if out then out:close() end
  io.open(mark .. ".done." .. id, "w"):close()
  wrk.thread:stop()
  -- The last thread to finish (every "done" file there) wakes wrk's main thread.
  for i = 0, threads_n - 1 do
    local f = io.open(mark .. ".done." .. i, "r")
    if not f then return end
    f:close()
  end
  ffi.C.kill(ffi.C.getpid(), 2)
end

function delay()
  calls = calls + 1
  answered = math.max(0, calls - conns)
  if answered >= #items and not stopped then finished() end
  if reserved < #items then
    reserved = reserved + 1
    return 0
  end
  return 1e9 -- this connection has nothing left to send
end

function request()
  -- wrk calls request() once before the run to see what it returns: nothing is reserved then.
  if reserved == 0 then return requests[1] or "" end
  if sent == 0 then t0 = now() end
  sent = sent + 1
  -- Only after a reconnect (a socket error, reported) can a request come unreserved.
  return requests[math.min(sent, #requests)]
end

function done(summary, latency, requests)
  -- Answers as wrk counts them (every complete response), not as the threads inferred them.
  local n, answered_all, first, last = 0, summary.requests, math.huge, 0
  for _, t in ipairs(threads) do
    local a, b = t:get("t0"), t:get("t1")
    if a > 0 then first = math.min(first, a) end
    last = math.max(last, b)
  end
  for _ in io.lines(os.getenv("ONCE_ITEMS")) do n = n + 1 end
  local seconds = last - first
  local e = summary.errors
  io.write(string.format("once: %d %d %.3f %.0f %.2f %.2f %d %d\n", n, answered_all, seconds,
    answered_all / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
