-- wrk: POST /api/v2/sign/pdf with the JSON body in $BENCH_DIR/$BODY (default v2-100.json:
-- 100 one-page files, one signatureProperties entry for all, passphrase).
package.path = (os.getenv("BENCH_LUA") or "benches/bsre") .. "/?.lua;" .. package.path
local c = require("common")

wrk.method = "POST"
wrk.path = "/api/v2/sign/pdf"
wrk.body = c.read(os.getenv("BODY") or "v2-100.json")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = c.auth

function response(status, headers, body)
  c.fail_on_error(status, body)
end
