-- wrk: the sealing flow as an application runs it. Each connection alternates
--   POST /api/v2/seal/get/totp {idSubscriber, data: FILES, totp: <activation TOTP>}
--   POST /api/v2/seal/pdf      {idSubscriber, totp: <the code just issued>, signatureProperties, file[FILES]}
-- so every sealing request carries a fresh single-use code for its file count.
-- Run with as many threads as connections (-t N -c N): the alternation is per thread.
-- FILES (default 10) picks $BENCH_DIR/seal-FILES.json. At the end it prints the sealed
-- documents per second (sealing requests × FILES / duration), and the code requests.
package.path = (os.getenv("BENCH_LUA") or "benches/bsre") .. "/?.lua;" .. package.path
local c = require("common")

local files = tonumber(os.getenv("FILES") or "10")
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  template = c.read("seal-" .. files .. ".json")
  activation = string.gsub(c.read("activation.totp"), "%s", "")
  totp_body = '{"idSubscriber":"SEAL-001","data":' .. files .. ',"totp":"' .. activation .. '"}'
  headers = { ["Content-Type"] = "application/json", ["Authorization"] = c.auth }
  otp = nil
  sealed = 0
  codes = 0
end

function request()
  if otp == nil then
    return wrk.format("POST", "/api/v2/seal/get/totp", headers, totp_body)
  end
  local body = string.gsub(template, "OTP_HERE", otp, 1)
  otp = nil
  pending_seal = true
  return wrk.format("POST", "/api/v2/seal/pdf", headers, body)
end

function response(status, hdrs, body)
  c.fail_on_error(status, body)
  if pending_seal then
    pending_seal = false
    sealed = sealed + files
  else
    codes = codes + 1
    otp = string.match(body, '"totp":"(%d+)"')
  end
end

function done(summary, latency, requests)
  local docs, code_requests = 0, 0
  for _, t in ipairs(threads) do
    docs = docs + t:get("sealed")
    code_requests = code_requests + t:get("codes")
  end
  local secs = summary.duration / 1e6
  io.write(string.format("files per sealing request: %d\n", files))
  io.write(string.format("documents sealed: %d in %.2f s = %.1f documents/s\n", docs, secs, docs / secs))
  io.write(string.format("code requests: %d, sealing requests: %d, errors: %d\n",
    code_requests, docs / files, summary.errors.status + summary.errors.connect
      + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
