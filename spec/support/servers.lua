--- Extra test servers a spec starts for itself (spec/run.sh starts the main one): a second host for the
--- redirect specs, an HTTPS server for the TLS specs, and the throwaway CA that signs its certificate.
---
---   local servers = require "support.servers"
---   local other = servers.start()                     -- {url, pid, control = control.at(url)}
---   local tls = servers.start{ tls = servers.certificates() }
---   servers.stop(other)
---
--- Plain Lua (os.execute and files), so it works in Lua 5.4 and LuaJIT without extra rocks.
local control = require "support.control"
local socket = require "socket"

local _M = {}

local function sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function run(cmd)
  local ok, how, code = os.execute(cmd)
  if type(ok) == "number" then return ok == 0 end      -- Lua 5.1 / LuaJIT without 5.2 compat
  return ok == true and how == "exit" and code == 0
end

local read_file = require("support.util").read_if_exists

local function tmpdir()
  local p = io.popen("mktemp -d \"${TMPDIR:-/tmp}/intercom-servers.XXXXXX\"")
  local dir = p:read("*l")
  p:close()
  assert(dir and dir ~= "", "mktemp -d failed")
  return dir
end

-- The real interpreter behind python3 (pyenv installs a shim that forks, which would make $! useless).
local python
local function python_path()
  if not python then
    local p = io.popen("python3 -c 'import sys; print(sys.executable)'")
    python = p:read("*l")
    p:close()
    assert(python and python ~= "", "python3 is needed for the test servers")
  end
  return python
end

--- Starts spec/support/test_server.py on a random loopback port.
--- opts.tls = {cert, key} serves HTTPS; opts.demo = true answers like a tiny Intercom when nothing is
--- scripted (the only way to script an HTTPS server: control.lua speaks plain HTTP). Returns
--- {url, pid, dir, control}.
function _M.start(opts)
  opts = opts or {}
  local dir = tmpdir()
  local args = ""
  if opts.tls then args = " --tls " .. sh_quote(opts.tls.cert) .. " " .. sh_quote(opts.tls.key) end
  if opts.demo then args = args .. " --demo" end
  assert(run(("%s spec/support/test_server.py --port 0%s >%s 2>%s & echo $! >%s"):format(
    sh_quote(python_path()), args, sh_quote(dir .. "/url"), sh_quote(dir .. "/log"), sh_quote(dir .. "/pid"))))
  local url, pid
  for _ = 1, 100 do
    pid = pid or (read_file(dir .. "/pid") or ""):match("%d+")
    url = (read_file(dir .. "/url") or ""):match("^(%S+)\n")
    if url then break end
    socket.sleep(0.05)
  end
  if not url then
    error("test server did not start: " .. (read_file(dir .. "/log") or "(no log)"), 2)
  end
  local server = { url = url, pid = pid, dir = dir }
  if not opts.tls then server.control = control.at(url) end
  return server
end

--- Stops a server started by start() and removes its files.
function _M.stop(server)
  if not server then return end
  if server.pid then run("kill " .. server.pid .. " 2>/dev/null") end
  run("rm -rf " .. sh_quote(server.dir))
end

--- A throwaway CA and a server certificate it signs for 127.0.0.1 and localhost (or opts.san, an openssl
--- subjectAltName value), made with openssl. Returns {dir, ca, cert, key}; remove with remove_certificates().
function _M.certificates(opts)
  opts = opts or {}
  local dir = tmpdir()
  local q = function(name) return sh_quote(dir .. "/" .. name) end
  local ext = dir .. "/server.ext"
  local f = assert(io.open(ext, "w"))
  f:write("basicConstraints=critical,CA:FALSE\n",
          "keyUsage=critical,digitalSignature\n",
          "extendedKeyUsage=serverAuth\n",
          "subjectAltName=", opts.san or "DNS:localhost,IP:127.0.0.1", "\n")
  f:close()
  local ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
  local cmds = {
    ("openssl req -x509 %s -keyout %s -out %s -days 2 -subj '/CN=intercom-lua test CA'"
      .. " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign")
      :format(ec, q("ca.key"), q("ca.pem")),
    ("openssl req %s -keyout %s -out %s -subj '/CN=localhost'"):format(ec, q("server.key"), q("server.csr")),
    ("openssl x509 -req -in %s -CA %s -CAkey %s -CAcreateserial -out %s -days 2 -extfile %s")
      :format(q("server.csr"), q("ca.pem"), q("ca.key"), q("server.pem"), q("server.ext")),
  }
  for _, cmd in ipairs(cmds) do
    assert(run(cmd .. " >" .. q("openssl.log") .. " 2>&1"),
      "openssl failed: " .. cmd .. "\n" .. (read_file(dir .. "/openssl.log") or ""))
  end
  return { dir = dir, ca = dir .. "/ca.pem", cert = dir .. "/server.pem", key = dir .. "/server.key" }
end

function _M.remove_certificates(certs)
  if certs then run("rm -rf " .. sh_quote(certs.dir)) end
end

return _M
