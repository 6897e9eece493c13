-- Signed /recover requests for wrk, one per trigger id. wrk cannot compute an HMAC, so bench/ack.py
-- signs every body beforehand for one timestamp (inside Slack's 5-minute window) and this script sends
-- them in order, noting when each left, so the bench can tell how late each modal opened.
--
-- MEND_BENCH_SENT=SENT_FILE wrk -t1 -cN -dDs -s bench/signed_recover.lua URL -- SIGNED_FILE
--   SIGNED_FILE: first line the timestamp, then "<index> <signature> <body>" per request
--   SENT_FILE:   written at the end (done() runs where init's arguments are not), "<index> <unix time>"
--                per request sent
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } mend_timespec;
int clock_gettime(int clock_id, mend_timespec *tp);
]]
local clock_buf = ffi.new("mend_timespec")
local function wall_clock()
  ffi.C.clock_gettime(0, clock_buf)
  return tonumber(clock_buf.tv_sec) + tonumber(clock_buf.tv_nsec) * 1e-9
end

local indexes, requests = {}, {}
sent_index, sent_at = {}, {}
local next_request = 1

function init(args)
  local file = assert(io.open(args[1]), "no signed requests file")
  local timestamp = file:read("*l")
  for line in file:lines() do
    local index, signature, body = line:match("^(%d+) (%S+) (.*)$")
    indexes[#indexes + 1] = index
    requests[#requests + 1] = wrk.format("POST", nil, {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["X-Slack-Request-Timestamp"] = timestamp,
      ["X-Slack-Signature"] = signature,
    }, body)
  end
  file:close()
end

function request()
  local i = next_request
  -- Running out would mean reusing a trigger id; the bench signs more than it can send.
  if i > #requests then i = #requests end
  next_request = i + 1
  sent_index[#sent_index + 1] = indexes[i]
  sent_at[#sent_at + 1] = wall_clock()
  return requests[i]
end

function done(summary, latency, requests_stats)
  local out = assert(io.open(os.getenv("MEND_BENCH_SENT") or "/dev/null", "w"))
  for _, thread in ipairs(threads) do
    local index, at = thread:get("sent_index"), thread:get("sent_at")
    for k = 1, #index do
      out:write(string.format("%s %.6f\n", index[k], at[k]))
    end
  end
  out:close()
  local e = summary.errors
  io.write(string.format(
    "MEND_BENCH {\"requests\": %d, \"duration_us\": %d, \"p50_us\": %d, \"p90_us\": %d, \"p99_us\": %d, " ..
    "\"max_us\": %d, \"errors\": %d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect + e.read + e.write + e.status + e.timeout))
end

-- threads are collected in setup(), which runs in the main Lua state before any thread starts
threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end
