-- wrk script: POST a search body per request, cycling through $BODIES (one JSON per line).
local bodies = {}
for line in io.lines(os.getenv("BODIES")) do
  bodies[#bodies + 1] = line
end
local path = os.getenv("SEARCH_PATH")
local headers = { ["Content-Type"] = "application/json" }
local i = 0

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  i = math.random(#bodies)
end

function request()
  i = i % #bodies + 1
  return wrk.format("POST", path, headers, bodies[i])
end

-- Count non-2xx answers so the script can assert zero errors.
function done(summary, latency, requests)
  io.write(string.format("errors: status=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout))
  io.write(string.format("mean_ms: %.3f\n", latency.mean / 1000))
end
