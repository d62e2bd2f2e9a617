-- Shared by the BSrE wrk scripts: reads the files setup.sh wrote in $BENCH_DIR, and the Basic
-- credential it created.
local M = {}

M.dir = os.getenv("BENCH_DIR") or error("set BENCH_DIR to the directory given to setup.sh")

function M.read(name)
  local f = assert(io.open(M.dir .. "/" .. name, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- base64("bench:Rahasia-Bench-2026")
M.auth = "Basic YmVuY2g6UmFoYXNpYS1CZW5jaC0yMDI2"

function M.fail_on_error(status, body)
  if status ~= 200 then
    io.stderr:write("HTTP " .. status .. ": " .. string.sub(body or "", 1, 300) .. "\n")
    wrk.thread:stop()
  end
end

return M
