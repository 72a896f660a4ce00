-- The one generic dispatcher: turns each operation of operations.lua into a method (DESIGN.md, layer 1).
--
-- A method checks its arguments (path parameters first, then the body or the query table, then the
-- per-request options), raising on misuse before anything is sent, and hands a call record to the
-- client. Paginated operations also get an iterator: `list` -> `each`, any other `x` -> `x_each`.

local options = require "intercom.options"
local url = require "intercom.url"
local misuse = require "intercom.misuse"
local operations = require "intercom.operations"
local operations_list = require "intercom.operations_list"
local query = require "intercom.query"

local _M = {}

local unpack = table.unpack or unpack   -- LuaJIT: unpack

-- The options of a call given none: one shared table, which nothing writes to (options are copied when
-- checked, never mutated).
local NO_OPTS = {}

-- Per-request options of a download (intercom.download): the body can go to a file or a sink function
-- instead of memory, with a progress function.
local DOWNLOAD = {}
for k, v in pairs(options.REQUEST) do DOWNLOAD[k] = v end
DOWNLOAD.output_file = function(v, name)
  if type(v) ~= "string" or v == "" then misuse.raise(name .. ": expected a file path") end
  return v
end
local function callable(v, name)
  local mt = getmetatable(v)
  if type(v) ~= "function" and not (type(mt) == "table" and mt.__call) then
    misuse.raise(name .. ": expected a function, got " .. type(v))
  end
  return v
end
DOWNLOAD.sink, DOWNLOAD.progress = callable, callable
-- A download's `timeout` is an idle one (no byte for that long); `deadline` bounds the whole attempt.
DOWNLOAD.deadline = function(v, name)
  if type(v) ~= "number" or v ~= v or v <= 0 or v == math.huge then
    misuse.raise(name .. ": expected a positive number of seconds, got " .. tostring(v))
  end
  return v
end

local rank = operations_list.rank

-- The query parameters each pagination style sends itself, which a caller may set too (a first page size,
-- a place to resume from). Intercom's pagination guide documents them where an operation's spec does not.
local PAGING = {
  cursor = { "per_page", "starting_after" },
  page = { "page", "per_page" },
  scroll = { "scroll_param" },
  next_cursor = { "cursor", "per_page" },
}

-- name -> rank of the first version that declares it (operations.lua `query`, plus the paging parameters).
local function allowed_query(op)
  local allowed = {}
  for _, q in ipairs(operations_list.declared_query(op)) do allowed[q.name] = rank(q.since) end
  for _, name in ipairs(PAGING[op.page] or {}) do allowed[name] = allowed[name] or rank(op.since) end
  return allowed
end

local function declared_in(allowed, r)
  local names = {}
  for name, since in pairs(allowed) do if since <= r then names[#names + 1] = name end end
  table.sort(names)
  return #names > 0 and table.concat(names, ", ") or "none"
end

-- A params table against what the call's version declares: a request option put there by mistake, a name
-- of a later version, or an unknown name (with the closest declared one) raises. opts.query is the way to
-- send what the spec does not declare.
local function check_params(params, allowed, version, what, sig)
  local r = rank(version)
  for name in pairs(params) do
    local since = type(name) == "string" and allowed[name]
    if not since or since > r then
      local msg
      if type(name) ~= "string" then
        msg = "query parameter names must be strings"
      elseif since then
        msg = ("query parameter %q needs Intercom API version %s or later (this call uses %s): "
          .. "pass { version = %q } in the options"):format(name, operations_list.VERSIONS[since], version,
          operations_list.VERSIONS[since])
      elseif options.REQUEST[name] then
        msg = ("%q is a request option, not a query parameter: pass it in the options argument, after the "
          .. "query table: %s"):format(name, sig)
      else
        local known = {}
        for k, s in pairs(allowed) do if s <= r then known[k] = true end end
        local hint = options.suggest(name, known)
        msg = ("unknown query parameter %q%s; version %s declares: %s (send an undeclared one with "
          .. "opts.query)"):format(name, hint and (" (did you mean \"" .. hint .. "\"?)") or "", version,
          declared_in(allowed, r))
      end
      misuse.raise(what .. ": " .. msg)
    end
  end
end

local function check_path_param(v, what, name)
  local t = type(v)
  if t == "number" then
    -- Integral and within 64 bits (2^63 itself is not): anything else has no exact decimal id.
    if v ~= v or v ~= math.floor(v) or v >= 2 ^ 63 or v < -2 ^ 63 then
      misuse.raise(what .. ": path parameter " .. name .. " must be a string or an integer, got " .. tostring(v))
    end
    return string.format("%d", v)
  end
  if t == "nil" then
    misuse.raise(what .. ": missing path parameter " .. name .. " (got nil)")
  end
  if t ~= "string" then
    misuse.raise(what .. ": path parameter " .. name .. " must be a string or an integer, got " .. t)
  end
  if v == "" then misuse.raise(what .. ": path parameter " .. name .. " is empty") end
  return v
end

local function make_method(mt, rname, mname, op)
  local what = rname .. ":" .. mname
  local params = url.path_params(op[2])
  local nparams = #params
  local has_payload = op.body or op.params
  local arity = nparams + (has_payload and 1 or 0) + 1
  local known_opts = op.download and DOWNLOAD or options.REQUEST
  local sig = operations_list.signature(rname, mname, op)
  local build_path = url.compile(op[2])
  local extras = op.idempotent or op.download or op.page or op.items or op.text or op.redirect or op.single_when
  local since = rank(op.since) or error("operations.lua: " .. what .. " has no known `since`")
  local allowed = op.params and allowed_query(op)

  -- The arguments are read with select rather than packed into a table: this runs for every call.
  local p1 = params[1]
  local function path_of(...)   -- two or more path parameters, checked in order
    local values = {}
    for i = 1, nparams do values[i] = check_path_param((select(i, ...)), what, params[i]) end
    return build_path(unpack(values, 1, nparams))
  end

  return function(self, ...)
    if getmetatable(self) ~= mt then
      misuse.raise(what .. ": call it with a colon: " .. sig)
    end
    local n = select("#", ...)
    if n > arity then
      misuse.raise(what .. ": too many arguments (" .. n .. "), expected " .. sig)
    end
    local path
    if nparams == 1 then
      path = build_path(check_path_param((...), what, p1))
    elseif nparams == 0 then
      path = build_path()
    else
      path = path_of(...)
    end
    local payload = nil
    if has_payload and n > nparams then payload = (select(nparams + 1, ...)) end
    if payload ~= nil and type(payload) ~= "table" then
      misuse.raise(what .. ": " .. (op.body and "body" or "params") .. " must be a table, got " .. type(payload))
    end
    local opts = nil
    if n >= arity then opts = (select(arity, ...)) end
    opts = opts == nil and NO_OPTS or options.check(opts, known_opts, what)
    local version = opts.version or self._client.version
    if since > 1 and rank(version) < since then
      local need = operations_list.VERSIONS[since]
      misuse.raise(("%s needs Intercom API version %s or later; this call uses %s. Ask for it with "
        .. "intercom.new{ version = %q }, or for one call with { version = %q } in the options")
        :format(what, need, version, need, need))
    end
    -- Only the fields a call has: a record made for every call, kept small (four fields for most).
    local call = {
      what = what,
      method = op[1],
      path = path,
      opts = opts,
    }
    if extras then
      call.idempotent, call.raw, call.page, call.items = op.idempotent, op.download, op.page, op.items
      call.text, call.redirect = op.text, op.redirect
      if op.single_when and payload and payload[op.single_when] ~= nil then call.page = nil end
    end
    if op.body then call.body = payload end
    -- A search query is checked here, so a bad one raises at the caller's line and nothing is sent.
    if op.search and payload and payload.query ~= nil then query.validate(payload.query, version) end
    if op.params and payload then
      call.params = options.check_query(payload, what .. ": params")
      check_params(payload, allowed, version, what, sig)
    end
    return self._client:_call(call)
  end
end

-- ---- client:request, the escape hatch -------------------------------------------------------------------

local METHODS = { GET = true, POST = true, PUT = true, PATCH = true, DELETE = true }
local STYLES = { cursor = true, search = true, page = true, scroll = true, next_cursor = true, body_page = true }
local REQUEST_SPEC = { body = true, query = true, page = true, items = true, idempotent = true }
local REQUEST_SIG = "client:request(method, path, { body = ..., query = ..., page = style, items = key }, [opts])"

--- The call record of `client:request(method, path, spec, opts)`: what the spec lacks or the version has
--- not got yet, sent with the same policy as every operation (client:_call). `path` is sent as given,
--- after the base URL: it must start with "/" and hold only URL path characters (percent-encode the rest),
--- so that it can neither leave the API's host (the token goes with it) nor smuggle a query or a header.
---@return table call
function _M.request_call(method, path, spec, opts)
  local what = "client:request"
  if type(method) ~= "string" or not METHODS[method:upper()] then
    misuse.raise(what .. ": method must be one of GET, POST, PUT, PATCH, DELETE, got " .. tostring(method)
      .. ": " .. REQUEST_SIG)
  end
  if type(path) ~= "string" or path:sub(1, 1) ~= "/" or path:sub(1, 2) == "//" then
    misuse.raise(what .. ": path must be a string starting with one \"/\" (e.g. \"/contacts/123\"), got "
      .. (type(path) == "string" and string.format("%q", path) or type(path)))
  end
  local bad = path:find("[^%w%-%._~!%$&'%(%)%*%+,;=:@/%%]")
  if bad then
    misuse.raise(("%s: path has %q at byte %d: only URL path characters are sent as they are; "
      .. "percent-encode the rest (intercom.url.escape), and give the query string as spec.query")
      :format(what, path:sub(bad, bad), bad))
  end
  for seg in path:gmatch("[^/]+") do
    if seg == "." or seg == ".." then misuse.raise(what .. ": path has a dot segment (" .. seg .. ")") end
  end
  if spec ~= nil and type(spec) ~= "table" then
    misuse.raise(what .. ": the third argument must be a table, got " .. type(spec) .. ": " .. REQUEST_SIG)
  end
  spec = spec or NO_OPTS
  for k in pairs(spec) do
    if not REQUEST_SPEC[k] then
      local hint = type(k) == "string" and (options.REQUEST[k] and " (a request option: it goes in opts, the "
        .. "fourth argument)" or (options.suggest(k, REQUEST_SPEC) and (" (did you mean \""
        .. options.suggest(k, REQUEST_SPEC) .. "\"?)"))) or ""
      misuse.raise(("%s: unknown field %q%s: %s"):format(what, tostring(k), hint, REQUEST_SIG))
    end
  end
  if spec.body ~= nil and type(spec.body) ~= "table" then
    misuse.raise(what .. ": body must be a table, got " .. type(spec.body))
  end
  if spec.page ~= nil and not STYLES[spec.page] then
    misuse.raise(what .. ": page must be a pagination style (cursor, search, page, scroll, next_cursor, "
      .. "body_page), got " .. tostring(spec.page))
  end
  if spec.items ~= nil and type(spec.items) ~= "string" then
    misuse.raise(what .. ": items must be the key of the page's array, a string, got " .. type(spec.items))
  end
  if spec.idempotent ~= nil and type(spec.idempotent) ~= "boolean" then
    misuse.raise(what .. ": idempotent must be a boolean")
  end
  local call = {
    what = what,
    method = method:upper(),
    path = path,
    opts = opts == nil and NO_OPTS or options.check(opts, options.REQUEST, what),
    body = spec.body,
    page = spec.page,
    items = spec.items,
    idempotent = spec.idempotent,
  }
  if spec.query ~= nil then call.params = options.check_query(spec.query, what .. ": query") end
  return call
end

local function make_iterator(method, what)
  return function(self, ...)
    local page, err = method(self, ...)
    if not page then require("intercom.errors").raise(err) end
    if type(page) ~= "table" or not page.each then
      error(what .. ": the response is not a list", 2)
    end
    return page:each()
  end
end

-- Methods that are not operations: helpers built on a resource's own operations, loaded on first call.
local HELPERS = {
  data_export = { wait = function(...) return require("intercom.export").wait(...) end },
}

-- Method tables are built once per process and shared by every client: a client only holds its
-- resource objects, so intercom.new{} stays cheap.
local classes = {}

local function class_of(rname)
  local cls = classes[rname]
  if cls then return cls end
  local methods = {}
  local mt = { __index = methods, __name = "intercom.resource." .. rname }
  for mname, op in pairs(operations[rname]) do
    methods[mname] = make_method(mt, rname, mname, op)
  end
  for mname, op in pairs(operations[rname]) do
    if op.page then
      local iname = mname == "list" and "each" or (mname .. "_each")
      methods[iname] = make_iterator(methods[mname], rname .. ":" .. iname)
    end
  end
  for mname, fn in pairs(HELPERS[rname] or {}) do methods[mname] = fn end
  cls = { mt = mt, methods = methods }
  classes[rname] = cls
  return cls
end

--- The names of every resource, dotted for nested ones ("news.items", "ticket_types.attributes").
function _M.names()
  local names = {}
  for rname in pairs(operations) do names[#names + 1] = rname end
  table.sort(names)
  return names
end

--- The top-level resource names (client.contacts, client.news, ...), as a set.
function _M.top_level()
  local set = {}
  for rname in pairs(operations) do set[rname:match("^[^.]+")] = true end
  return set
end

-- Setup code, run once per process (class_of, make_method) or per client (attach): on LuaJIT, compiling
-- traces for its loops took longer than running them, and doubled `require` + `new`. jit.off without
-- its second argument leaves the functions these return (the methods) to the JIT.
if jit then
  jit.off(allowed_query)
  jit.off(make_method)
  jit.off(make_iterator)
  jit.off(class_of)
end

--- Puts every resource object on the client: client.contacts, client.news.items, ...
function _M.attach(client)
  for _, rname in ipairs(_M.names()) do   -- sorted: "ticket_types" comes before "ticket_types.attributes"
    local parent, key = client, rname
    local head, tail = rname:match("^([^.]+)%.(.+)$")
    if head then
      parent[head] = parent[head] or {}
      parent, key = parent[head], tail
    end
    parent[key] = setmetatable({ _client = client }, class_of(rname).mt)
  end
end

if jit then
  jit.off(_M.attach)
  jit.off(_M.names)
  jit.off(_M.top_level)
end

return _M
