--- Runs a real nginx (Debian's nginx with libnginx-mod-http-lua) for the specs, from a generated config
--- in a temporary directory: its own prefix, pid file, error log and loopback ports, one worker.
---
---   local nginx = require "support.nginx"
---   local srv = nginx.start{ http = "server { listen 127.0.0.1:${port}; ... }" }
---   local status, body = srv:get("/find?id=1")
---   srv:stop()                      -- always (teardown); also removes the directory
---
--- nginx runs in the foreground (`daemon off`) as a child of this process (io.popen), under
--- `timeout`, so that it is reaped when stopped and cannot outlive a crashed test run by long.
local socket = require "socket"
local http = require "socket.http"
local ltn12 = require "ltn12"

local _M = {}

_M.MODULES_DIR = "/usr/lib/nginx/modules"
_M.MAX_LIFETIME = 600          -- seconds: `timeout` kills an nginx a crashed run left behind

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1; echo \"exit=$?\"")
  local out = p:read("*a")
  p:close()
  return tonumber(out:match("exit=(%d+)%s*$")), out:gsub("exit=%d+%s*$", "")
end
_M.sh = sh

local read_file = require("support.util").read_if_exists
_M.read_file = read_file

local function write_file(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

--- A free loopback TCP port (bound, read, released).
_M.free_port = require("support.util").closed_port

--- The repository root (absolute), from this file's location.
function _M.root()
  local src = debug.getinfo(1, "S").source:sub(2)          -- .../spec/support/nginx.lua
  local dir = src:match("^(.*)/spec/support/nginx%.lua$") or "."
  local code, out = sh(("cd %q && pwd"):format(dir))
  assert(code == 0, out)
  return (out:gsub("%s+$", ""))
end

--- Whether the nginx binary and the Lua module are installed (make deps installs both).
function _M.available()
  return sh("command -v nginx") == 0
    and io.open(_M.MODULES_DIR .. "/ngx_http_lua_module.so") ~= nil
end

local Server = {}
Server.__index = Server

local function wait_port(port, seconds)
  local deadline = socket.gettime() + seconds
  while socket.gettime() < deadline do
    local c = socket.tcp()
    c:settimeout(0.2)
    if c:connect("127.0.0.1", port) then c:close(); return true end
    c:close()
    socket.sleep(0.05)
  end
  return false
end

--- Starts nginx. Either from a generated config: `opts.main` is extra main-context config, `opts.http`
--- the http-context config; or from a whole config `opts.conf` (e.g. examples/nginx.conf), with
--- `opts.prefix` as nginx's prefix ($prefix in lua_package_path). Config text may use ${dir} (the temp
--- dir), ${root} (repository root), ${port} (the main port) and any name given in `opts.vars`.
--- `opts.env` adds environment variables; `opts.lua_path` adds entries to lua_package_path; `opts.workers`
--- sets worker_processes (default 1).
--- The pid file, error log, `daemon off` and, when run as root,
--- `user root` are given on the command line (-g). Returns the server; raises (after stopping it) when
--- nginx does not come up.
function _M.start(opts)
  local dir = os.tmpname()
  os.remove(dir)
  assert(sh(("mkdir -p %q/logs %q/tmp"):format(dir, dir)) == 0)
  local vars = { dir = dir, root = _M.root(), port = tostring(opts.port or _M.free_port()) }
  for k, v in pairs(opts.vars or {}) do vars[k] = tostring(v) end
  local function fill(s) return (s:gsub("%${([%w_]+)}", function(k) return assert(vars[k], k) end)) end

  local conf = opts.conf or table.concat({
    "load_module " .. _M.MODULES_DIR .. "/ndk_http_module.so;",
    "load_module " .. _M.MODULES_DIR .. "/ngx_http_lua_module.so;",
    "worker_processes " .. (opts.workers or 1) .. ";",
    "events { worker_connections 1024; }",
    opts.main or "",
    "http {",
    "  access_log off;",
    "  client_body_temp_path ${dir}/tmp/body;",
    "  proxy_temp_path ${dir}/tmp/proxy;",
    "  fastcgi_temp_path ${dir}/tmp/fastcgi;",
    "  uwsgi_temp_path ${dir}/tmp/uwsgi;",
    "  scgi_temp_path ${dir}/tmp/scgi;",
    "  lua_package_path '${root}/lua/?.lua;${root}/spec/support/ngx/?.lua;"
      .. (opts.lua_path and (opts.lua_path .. ";") or "") .. ";';",
    "  lua_package_cpath '${root}/build/luajit/?.so;;';",
    opts.http or "",
    "}",
  }, "\n")
  conf = fill(conf)
  write_file(dir .. "/nginx.conf", conf)

  local is_root = select(2, sh("id -u")):match("^0") ~= nil
  local globals = ("daemon off; master_process on; pid %s/nginx.pid; error_log %s/logs/error.log info;%s")
    :format(dir, dir, is_root and " user root;" or "")   -- as root, workers must read the worktree
  local env = {}
  for k, v in pairs(opts.env or {}) do env[#env + 1] = ("%s=%q"):format(k, v) end

  local self = setmetatable({ dir = dir, port = tonumber(vars.port), vars = vars, conf = conf }, Server)
  -- `echo $$` then exec: the first line is the pid of `timeout`, which passes signals on to nginx.
  self.proc = io.popen(("echo $$; exec env %s timeout %d nginx -p %q -c %q -g %q >%q 2>&1"):format(
    table.concat(env, " "), _M.MAX_LIFETIME, opts.prefix or dir, dir .. "/nginx.conf", globals,
    dir .. "/logs/stderr.log"))
  self.pid = tonumber(self.proc:read("*l"))
  if not wait_port(self.port, 10) then
    local log = self:log()
    self:stop()
    error("nginx did not start:\n" .. log, 2)
  end
  return self
end

--- The error log plus whatever nginx printed on stderr.
function Server:log()
  return (read_file(self.dir .. "/logs/stderr.log") or "") .. (read_file(self.dir .. "/logs/error.log") or "")
end

--- GET (or `method` with `body`) on this nginx; returns status, body, headers.
function Server:request(path, method, body)
  local chunks = {}
  local ok, status, headers = http.request{
    url = ("http://127.0.0.1:%d%s"):format(self.port, path),
    method = method or "GET",
    headers = body and { ["content-length"] = tostring(#body), ["content-type"] = "application/json" } or nil,
    source = body and ltn12.source.string(body) or nil,
    sink = ltn12.sink.table(chunks),
  }
  assert(ok, ("request to nginx %s failed: %s"):format(path, tostring(status)))
  return status, table.concat(chunks), headers
end

function Server:get(path) return self:request(path) end

--- Sends `n` GETs of `path` at once (curl --parallel, one connection each) and returns the seconds
--- they took in all and the list of "status bytes" lines.
function Server:parallel_get(path, n)
  local urls = {}
  local sep = path:find("?", 1, true) and "&" or "?"
  for i = 1, n do urls[i] = ("-o /dev/null 'http://127.0.0.1:%d%s%si=%d'"):format(self.port, path, sep, i) end
  local started = socket.gettime()
  -- curl 7.88 prints its parallel progress meter on stderr even with --silent: drop stderr
  local code, out = sh("(curl --silent --parallel --parallel-immediate --parallel-max " .. n
    .. " -w '%{http_code} %{size_download}\\n' " .. table.concat(urls, " ") .. " 2>/dev/null)")
  local elapsed = socket.gettime() - started
  assert(code == 0, out)
  local lines = {}
  for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
  return elapsed, lines
end

--- Stops nginx (TERM through `timeout` to the master, then waits for both), and removes the directory unless `keep`.
function Server:stop(keep)
  if self.proc then
    if self.pid then sh("kill -TERM " .. self.pid) end   -- `timeout` forwards it to the nginx master
    self.proc:close()                       -- waits for `timeout`, which waits for nginx
    self.proc = nil
  end
  if not keep then sh(("rm -rf %q"):format(self.dir)) end
end

return _M
