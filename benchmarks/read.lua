-- wrk script of benchmarks/http_read.py and benchmarks/auth_audit_cost.py.
--
--   wrk ... -s benchmarks/read.lua URL -- PATHS_FILE [TOKEN ["Name: value" ...]]
--
-- Each request takes the next path of PATHS_FILE (one per line; each thread starts at its
-- own offset), with "Authorization: Bearer TOKEN" when a token is given (an empty TOKEN sends
-- none) and every further argument as one more header. At the end it
-- prints one line, "WRK_JSON {...}", with the request count, errors and latency percentiles
-- (microseconds) from wrk's own latency histogram.

local paths = {}
local headers = {}
local index = 0
local next_thread = 0

function setup(thread)
  thread:set("offset", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  local file = args[1]
  if file == nil then
    error("usage: wrk ... -s read.lua URL -- PATHS_FILE [TOKEN [\"Name: value\" ...]]")
  end
  for line in io.lines(file) do
    if line ~= "" then paths[#paths + 1] = line end
  end
  if #paths == 0 then error("no paths in " .. file) end
  if args[2] ~= nil and args[2] ~= "" then
    headers["Authorization"] = "Bearer " .. args[2]
  end
  for i = 3, #args do
    local name, value = string.match(args[i], "^([^:]+):%s*(.*)$")
    if name == nil then error("not a header: " .. args[i]) end
    headers[name] = value
  end
  index = ((offset or 0) * 7919) % #paths
end

function request()
  index = index % #paths + 1
  return wrk.format("GET", paths[index], headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
