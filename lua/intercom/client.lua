-- The client: the policy every call shares (DESIGN.md, "The client").
--
-- It builds the URL and headers, encodes the body, sends through a transport, retries with backoff,
-- tracks the rate-limit state, turns responses into `result, err, response`, and tells the logger.
-- It does no I/O itself: the transport moves the bytes.

local core = require "intercom.core"
local options = require "intercom.options"
local url = require "intercom.url"
local retry = require "intercom.retry"
local response = require "intercom.response"
local errors = require "intercom.errors"
local misuse = require "intercom.misuse"
local resource = require "intercom.resource"
local pager = require "intercom.pager"
local download = require "intercom.download"
local throttle = require "intercom.throttle"
local scheduler = require "intercom.scheduler"

local min = math.min

local _M = {}

_M.VERSION = core._VERSION   -- written once, in src/version.h
_M.API_VERSION = "2.12"            -- the default version (operations_list.DEFAULT_VERSION)
_M.VERSIONS = require("intercom.operations_list").VERSIONS
_M.DEFAULT_TIMEOUT = 30
_M.DEFAULT_CONNECT_TIMEOUT = 10
_M.DEFAULT_MAX_RETRIES = 2
-- No Intercom JSON answer comes near this (a page of 150 contacts is well under 1 MB); a body past it is
-- refused with a too_large error instead of filling memory (docs/reliability.md, "Limits").
_M.DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
-- Longer URLs are refused as misuse before anything is sent: front ends answer 414 or drop the
-- connection, which would otherwise look like a retryable network failure (docs/reliability.md).
_M.MAX_URL_BYTES = 32 * 1024

---@class intercom.Client
---@field rate_limit intercom.RateLimit  the latest rate-limit state any response reported
local Client = {}
Client.__index = Client
Client.__name = "intercom.client"

-- The token lives here, keyed by client, not in the client table: printing or dumping a client
-- (inspect, a debugger, a test snapshot) can then never show it.
local tokens = setmetatable({}, { __mode = "k" })

local function default_user_agent()
  return "intercom-lua/" .. _M.VERSION .. " (" .. _VERSION .. (jit and ("; " .. jit.version) or "") .. ")"
end

---@class intercom.ClientOpts
---@field token? string|fun(): string  access token, or a function called for every request (INTERCOM_API_KEY)
---@field region? "us"|"eu"|"au"       picks https://api{,.eu,.au}.intercom.io
---@field base_url? string             any other base URL; not together with region
---@field version? "2.12"|"2.13"|"2.14"|"2.15"|"2.16"  Intercom-Version (default "2.12"); one of intercom.VERSIONS
---@field timeout? number              seconds per attempt (default 30)
---@field connect_timeout? number      seconds to connect (default 10)
---@field max_retries? integer         retries after the first attempt (default 2)
---@field transport? table             any table with request(self, req); default curl, or ngx inside nginx
---@field logger? fun(event: table)    called for request, response, retry and error events
---@field user_agent? string
---@field proxy? string                libcurl proxy
---@field ca_file? string              libcurl CA bundle
---@field rate_limit? "auto"|false|intercom.RateLimitOpts  pace requests to the rate-limit budget (docs/rate-limits.md)
---@field max_response_bytes? integer  largest answer kept in memory, after decompression (default 32 MiB)

---@class intercom.RateLimitOpts
---@field shared string    "redis://HOST:PORT[/DB]" or "ngx.shared.NAME": one budget for every client using it
---@field key? string      the budget's key (default: derived from a hash of the token)
---@field timeout? number  seconds for each Redis step (default 0.25)
---@field redis? table|false  a lua-resty-redis module, or false for the built-in client (nginx only)

--- Creates a client. See options.CLIENT for the option names.
---@param opts intercom.ClientOpts|nil
---@return intercom.Client
function _M.new(opts)
  local o = options.check(opts, options.CLIENT, "intercom.new")
  if o.region and o.base_url then
    misuse.raise("intercom.new: give either region or base_url, not both")
  end
  local self = setmetatable({
    base_url = o.base_url or options.REGIONS[o.region or "us"],
    version = o.version or _M.API_VERSION,
    rate_limit = {},
    _opts = o,
    _transport = o.transport,
    _user_agent = o.user_agent or default_user_agent(),
    _max_retries = o.max_retries or _M.DEFAULT_MAX_RETRIES,
    _timeout = o.timeout or _M.DEFAULT_TIMEOUT,
    _connect_timeout = o.connect_timeout or _M.DEFAULT_CONNECT_TIMEOUT,
    _max_response_bytes = o.max_response_bytes or _M.DEFAULT_MAX_RESPONSE_BYTES,
    _logger = o.logger,
    _stats = { requests = 0, retries = 0, rate_limited = 0, throttle_wait = 0 },
  }, Client)
  self._user_agent_line = "User-Agent: " .. self._user_agent   -- a string: every call's array is new
  tokens[self] = o.token
  o.token = nil
  if o.rate_limit then
    self._throttle = throttle.new(o.rate_limit, o.logger and function(e) self:_log(e) end or nil)
  end
  resource.attach(self)
  return self
end

function Client:__tostring()
  return "intercom.client(" .. self.base_url .. ", version " .. self.version .. ")"
end

-- The transport is made on first use, so creating a client costs no curl handle. Inside nginx the
-- choice depends on the phase of each call (cosockets or not), so transport/ngx.lua makes it.
function Client:_get_transport()
  local t = self._transport
  if not t and rawget(_G, "ngx") then return require("intercom.transport.ngx").for_client(self) end
  if not t then
    t = require("intercom.transport.curl").new{ ca_file = self._opts.ca_file, proxy = self._opts.proxy }
    self._transport = t
  end
  return t
end

-- The token, from the option (a string, or a function called for every request) or INTERCOM_API_KEY.
function Client:_token(what)
  local token = tokens[self]
  if type(token) == "string" then return token end   -- checked by options when the client was made
  if type(token) == "function" then
    token = token()
    if type(token) ~= "string" or token == "" then
      misuse.raise(what .. ": the token function returned " .. type(token) .. ", expected a non-empty string")
    end
  end
  token = token or os.getenv("INTERCOM_API_KEY")
  if token == nil or token == "" then
    misuse.raise(what .. ": no access token: pass intercom.new{ token = ... } or set INTERCOM_API_KEY")
  end
  if token:find("[\r\n%z]") then
    misuse.raise(what .. ": the token contains CR, LF or NUL characters")
  end
  return token
end

function Client:_log(event)
  local logger = self._logger
  if logger then logger(event) end
end

local function sleep(transport, seconds)
  if seconds <= 0 then return end
  -- scheduler.sleep yields inside a client:map task instead of blocking the other tasks
  if transport.sleep then transport:sleep(seconds) else scheduler.sleep(seconds) end
end

local function encode_body(what, body)
  local ok, encoded = pcall(core.json_encode, body, "body")   -- errors name the path: "at body.name"
  if not ok then misuse.raise(what .. ": the body cannot be encoded as JSON: " .. tostring(encoded)) end
  return encoded
end

-- Headers of one call: defaults, then the call's own `opts.headers`, which replace a default of the
-- same name (case-insensitively). A new array every call: the transport may keep or change it.
local function accept(call)
  return call.text and "text/plain" or call.raw and "application/octet-stream" or "application/json"
end

local function build_headers(self, call, token, has_body)
  local opts = call.opts
  local extra = opts.headers
  if not extra then
    -- the usual call: the default lines, made directly
    local lines = { "Authorization: Bearer " .. token, "Intercom-Version: " .. (opts.version or self.version),
                    "Accept: " .. accept(call), self._user_agent_line }
    if has_body then lines[5] = "Content-Type: application/json" end
    return lines
  end
  local list = {
    { "Authorization", "Bearer " .. token },
    { "Intercom-Version", opts.version or self.version },
    { "Accept", accept(call) },
    { "User-Agent", self._user_agent },
  }
  if has_body then list[#list + 1] = { "Content-Type", "application/json" } end
  for name, value in pairs(extra) do
    local lname, replaced = name:lower(), false
    for _, h in ipairs(list) do
      if h[1]:lower() == lname then h[2], replaced = value, true end
    end
    if not replaced then list[#list + 1] = { name, value } end
  end
  local lines = {}
  for i, h in ipairs(list) do lines[i] = h[1] .. ": " .. h[2] end
  return lines
end

local function build_url(self, call)
  if not call.params and not call.opts.query then return self.base_url .. call.path end
  local q = {}
  if call.params then for k, v in pairs(call.params) do q[k] = v end end
  if call.opts.query then for k, v in pairs(call.opts.query) do q[k] = v end end
  local qs = url.query_string(q)
  return self.base_url .. call.path .. (qs ~= "" and ("?" .. qs) or "")
end

local function remember_rate_limit(self, rl)
  if rl.limit or rl.remaining or rl.reset then self.rate_limit = rl end
end

local THROTTLE_REASONS = {
  spread = "spreading the window's budget", reset = "budget spent until the window's end",
  probe = "waiting for the first answer to tell the budget",
}

-- rate_limit: wait for this request's slot of the budget (intercom.throttle); returns the slot.
local function pace(self, transport, req, token)
  local probe_logged = false
  local slot, waited = self._throttle:acquire(token, function(wait, why, budget)
    -- a request waiting for the probe asks again every few ms: one event for it is enough
    if self._logger and (why ~= "probe" or not probe_logged) then
      if why == "probe" then probe_logged = true end
      self:_log{ event = "throttle", method = req.method, url = req.url, delay = wait, budget = budget,
                 reason = why,
                 message = string.format("throttling %s %s for %.2f s (budget %s: %s)", req.method, req.url, wait,
                   budget, THROTTLE_REASONS[why] or why) }
    end
    sleep(transport, wait)
  end)
  local stats = self._stats
  stats.throttle_wait = stats.throttle_wait + waited
  return slot
end

--- Sends one call, with retries. `call`: what ("contacts:find"), method, path (expanded), params,
--- body (table), opts (checked request options), idempotent, raw (do not decode), output_file.
--- Returns result, err, response.
function Client:_perform(call)
  local transport = self._transport or self:_get_transport()
  local token = tokens[self]
  if type(token) ~= "string" then token = self:_token(call.what) end   -- a string was checked by options
  local body = call.body ~= nil and encode_body(call.what, call.body) or nil
  local opts = call.opts
  local idempotent = retry.idempotent(call.method, call.idempotent or opts.idempotent)
  local target = build_url(self, call)
  if #target > _M.MAX_URL_BYTES then
    misuse.raise(call.what .. ": the URL is " .. #target .. " bytes long, more than the " .. _M.MAX_URL_BYTES
      .. " a server accepts (a path parameter or query value that large cannot be right)")
  end
  local req = {
    method = call.method,
    url = target,
    headers = build_headers(self, call, token, body ~= nil),
    timeout = opts.timeout or self._timeout,
    connect_timeout = min(self._connect_timeout, opts.timeout or self._timeout),
    decode = not (call.raw or call.text),   -- a transport may return a 2xx JSON body decoded, as `value`
    idempotent = idempotent,    -- a transport must not replay a non-idempotent request by itself
    -- the most body bytes a transport keeps in memory, counted after decompression (too_large past it)
    max_response_bytes = opts.max_response_bytes or self._max_response_bytes,
  }
  -- the fields most requests lack are set only when present: the record stays at eight fields
  if body ~= nil then req.body = body end
  if opts.output_file then req.output_file = opts.output_file end
  if call.receiver then req.receiver = call.receiver end   -- a download's (intercom.download)
  if opts.deadline then req.deadline = opts.deadline end    -- a download's bound on a whole attempt
  local max_retries = opts.max_retries or self._max_retries
  local attempt = 0
  while true do
    attempt = attempt + 1
    -- The events (and the clock reads behind their durations) are only made for a logger: they cost
    -- more than the rest of a call's Lua work.
    local logger, started = self._logger, nil
    if logger then
      logger{ event = "request", method = req.method, url = req.url, attempt = attempt,
              message = req.method .. " " .. req.url .. (attempt > 1 and (" (attempt " .. attempt .. ")") or "") }
    end
    local slot = self._throttle and pace(self, transport, req, token)
    if logger then started = core.now() end       -- a response's duration leaves out the throttle's wait
    local stats = self._stats
    stats.requests = stats.requests + 1
    local raw, terr
    if slot then
      -- A transport that raises (a caller's download sink, a custom transport) must not keep the slot:
      -- it goes back as possibly sent, and the raise goes on to the caller unchanged.
      local ok
      ok, raw, terr = pcall(transport.request, transport, req)
      if not ok then
        self._throttle:fail(slot, true)
        error(raw, 0)
      end
    else
      raw, terr = transport:request(req)
    end
    local delay, reason, resp
    if raw then
      resp = response.meta(raw, attempt)
      remember_rate_limit(self, resp.rate_limit)
      if raw.status == 429 then stats.rate_limited = stats.rate_limited + 1 end
      if slot then self._throttle:done(slot, resp.rate_limit, resp.headers["date"]) end
      if logger then
        local elapsed = core.now() - started
        logger{ event = "response", method = req.method, url = req.url, status = raw.status, attempt = attempt,
                duration = elapsed, request_id = resp.request_id,
                message = req.method .. " " .. req.url .. " -> " .. raw.status
                  .. string.format(" in %.0f ms", elapsed * 1000) }
      end
      local transient = retry.retryable_status(raw.status)
      if transient and attempt <= max_retries and retry.may_replay(idempotent, raw.status) then
        delay, reason = retry.delay(attempt, raw.status, resp.headers, core.wall())
        if delay > retry.MAX_WAIT then delay = nil end
      end
      if not delay then
        local result, err = response.interpret(raw, resp, call, transient)
        if err then errors.redact(err, token) end
        return result, err, resp
      end
    else
      if slot then self._throttle:fail(slot, terr.sent) end
      local too_large = terr.kind == "too_large"    -- the same answer would be too large again
      if not too_large and attempt <= max_retries and terr.retryable ~= false
        and retry.may_replay(idempotent, nil, terr.sent) then
        delay, reason = retry.backoff(attempt), "backoff"
      else
        -- retryable: whether sending it again is safe and could help. A request that is not idempotent
        -- and may have reached the server (sent) is not: a second copy could create a duplicate.
        local err = errors.new{
          kind = (terr.kind == "timeout" or too_large) and terr.kind or "network",
          message = tostring(terr.message), method = call.method, path = call.path, attempts = attempt,
          retryable = not too_large and terr.retryable ~= false and retry.may_replay(idempotent, nil, terr.sent),
          curl_code = terr.curl_code, sent = terr.sent,
        }
        errors.redact(err, token)   -- a custom transport's message is not ours to trust
        self:_log{ event = "error", method = req.method, url = req.url, attempt = attempt, message = tostring(err) }
        return nil, err, nil
      end
    end
    stats.retries = stats.retries + 1
    self:_log{ event = "retry", method = req.method, url = req.url, attempt = attempt, delay = delay,
               reason = reason, status = raw and raw.status or nil, error = terr and terr.message or nil,
               message = string.format("retrying %s %s in %.2f s (%s, after %s)", req.method, req.url, delay,
                 reason, raw and ("HTTP " .. raw.status) or tostring(terr.message)) }
    sleep(transport, delay)
  end
end

--- Sends a call built by a resource method; wraps paginated results in a Page.
function Client:_call(call)
  if call.raw then return download.run(self, call) end
  local result, err, resp = self:_perform(call)
  if call.page and type(result) == "table" then result = pager.new(self, call, result) end
  if call.page and err then err = pager.explain(call, err) end
  return result, err, resp
end

---@class intercom.RequestSpec
---@field body? table          sent as the JSON body
---@field query? table         sent as the query string
---@field page? "cursor"|"search"|"page"|"scroll"|"next_cursor"|"body_page"  the result is a Page of that style
---@field items? string        the key of a page's array when it is not `data`
---@field idempotent? boolean  true lets a POST that only reads be retried like a GET

--- The escape hatch, for what the spec lacks or the version has not got yet: sends `method path` with the
--- same policy as every operation (auth, version, retries, errors, rate limits) and returns
--- `result, err, response`; a Page when `spec.page` names a pagination style. `spec`: body (a table, sent
--- as JSON), query (a table), page, items, idempotent. `path` is sent as given (percent-encoded already).
---   client:request("GET", "/contacts/" .. intercom.url.escape(id) .. "/notes", { page = "page" })
---@param method "GET"|"POST"|"PUT"|"PATCH"|"DELETE"
---@param path string
---@param spec? intercom.RequestSpec
---@param opts? intercom.RequestOpts
---@return any|nil result
---@return intercom.ErrorObject|nil err
---@return intercom.Response|nil response
function Client:request(method, path, spec, opts)
  if getmetatable(self) ~= Client then
    misuse.raise("client:request: call it with a colon: client:request(method, path, spec, opts)")
  end
  return self:_call(resource.request_call(method, path, spec, opts))
end

--- Runs `fn(item)` for every item, each in its own coroutine, up to `opts.concurrency` (default 16) at
--- once: requests made inside `fn` run concurrently on one curl multi handle, with this client's retries,
--- backoff and rate-limit state. Returns `results, errs` in input order: `errs[i]` is set when `fn`
--- returned nil, err or raised (the raised value).
---@param items any[]
---@param fn fun(item: any): any, any
---@param opts {concurrency: integer}|nil
---@return table results, table errs
function Client:map(items, fn, opts)
  if getmetatable(self) ~= Client then
    misuse.raise("client:map: call it with a colon: client:map(items, fn, opts)")
  end
  return scheduler.map(items, fn, opts)
end

---@class intercom.Stats
---@field requests integer       requests sent (every attempt counts)
---@field retries integer        attempts that were a retry of an earlier one
---@field rate_limited integer   answers 429
---@field throttle_wait number   seconds requests spent waiting for the rate-limit budget

--- What this client has done so far: a copy, so it can be kept and compared.
---@return intercom.Stats
function Client:stats()
  if getmetatable(self) ~= Client then
    misuse.raise("client:stats: call it with a colon: client:stats()")
  end
  local s = self._stats
  return { requests = s.requests, retries = s.retries, rate_limited = s.rate_limited,
           throttle_wait = s.throttle_wait }
end

--- Closes the client's connections. A client that made its own transport makes a new one if it is
--- used again; a transport passed in `intercom.new{ transport = ... }` is closed and left to its owner.
---@return nil
function Client:close()
  -- inside a client:map task the other tasks still use the connections: close once the map is done
  if scheduler.current() then return scheduler.after_map(function() self:close() end) end
  local t = self._transport
  if t and t.close then t:close() end
  if not self._opts.transport then self._transport = nil end
end

Client.__close = Client.close   -- `local client <close> = intercom.new{...}` (Lua 5.4)

_M.Client = Client

return _M
