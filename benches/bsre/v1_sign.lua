-- wrk: POST /api/sign/pdf (v1 multipart: nik, passphrase, tampilan=invisible, a 1-page PDF).
package.path = (os.getenv("BENCH_LUA") or "benches/bsre") .. "/?.lua;" .. package.path
local c = require("common")

wrk.method = "POST"
wrk.path = "/api/sign/pdf"
wrk.body = c.read("v1.body")
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. c.read("v1.boundary")
wrk.headers["Authorization"] = c.auth

function response(status, headers, body)
  c.fail_on_error(status, body)
end
