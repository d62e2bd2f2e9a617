-- POST /api/v1/documents: a one-page PDF, a title and two signers (multipart), one token.
local body, boundary, token

function init(args)
  local d = os.getenv("BENCH_DIR")
  local f = io.open(d .. "/upload.body", "rb"); body = f:read("*a"); f:close()
  f = io.open(d .. "/upload.boundary", "r"); boundary = f:read("*l"); f:close()
  f = io.open(d .. "/tokens.txt", "r"); token = f:read("*l"); f:close()
  created, other = 0, 0
end

function request()
  return wrk.format("POST", "/api/v1/documents", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "multipart/form-data; boundary=" .. boundary,
  }, body)
end

function response(status, headers, body)
  if status == 201 then created = created + 1 else other = other + 1 end
end
