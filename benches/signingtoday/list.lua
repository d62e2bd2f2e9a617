-- GET /api/DSTs?$top=50 (newest first), each request with the next token, one connection:
-- the latency of a page of 50 DSTs out of ~10,000. Counts the replies that are not 200.
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
  ok, other = 0, 0
end

function request()
  i = i % #tokens + 1
  return wrk.format("GET", "/api/DSTs?$top=50", {["Authorization"] = "Bearer " .. tokens[i]})
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    io.write(string.format("replies: %d 200, %d other\n", t:get("ok"), t:get("other")))
  end
end
