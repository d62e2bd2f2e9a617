-- POST /api/v1/documents: a one-page PDF, a title and two signers (multipart), one request
-- every 20 ms, each with the next token (so no rate limit or quota refuses any: every reply
-- counted is a 201, checked in done()).
local body, boundary
local tokens = {}
local i = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local d = os.getenv("BENCH_DIR")
  local f = io.open(d .. "/upload.body", "rb"); body = f:read("*a"); f:close()
  f = io.open(d .. "/upload.boundary", "r"); boundary = f:read("*l"); f:close()
  for line in io.lines(d .. "/tokens.txt") do
    if #line > 0 then table.insert(tokens, line) end
  end
  created, other = 0, 0
end

function delay()
  return 20
end

function request()
  i = i % #tokens + 1
  return wrk.format("POST", "/api/v1/documents", {
    ["Authorization"] = "Bearer " .. tokens[i],
    ["Content-Type"] = "multipart/form-data; boundary=" .. boundary,
  }, body)
end

function response(status, headers, body)
  if status == 201 then created = created + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local c, o = 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created"); o = o + t:get("other")
  end
  io.write(string.format("201: %d, other: %d\n", c, o))
end
