-- GET /api/v1/me, each request with the next of the tokens in $BENCH_DIR/tokens.txt (the
-- plan's limits are per token: many tokens keep most requests admitted). Counts 200 and 429.
local tokens = {}
local i = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(os.getenv("BENCH_DIR") .. "/tokens.txt") do
    if #line > 0 then table.insert(tokens, line) end
  end
  ok, limited, other = 0, 0, 0
  i = math.random(#tokens)
end

function request()
  i = i % #tokens + 1
  return wrk.format("GET", "/api/v1/me", { ["Authorization"] = "Bearer " .. tokens[i] })
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1
  elseif status == 429 then limited = limited + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local o, l, x = 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok"); l = l + t:get("limited"); x = x + t:get("other")
  end
  local secs = summary.duration / 1e6
  io.write(string.format("200: %d (%.0f/s), 429: %d (%.0f/s), other: %d\n", o, o / secs, l, l / secs, x))
end
