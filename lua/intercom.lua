-- intercom-lua: the Intercom REST API 2.12 for Lua. The entry point.
--
--   local intercom = require "intercom"
--   local client = intercom.new{ token = os.getenv("INTERCOM_API_KEY"), region = "eu" }
--   local contact, err = client.contacts:find("6329bd9ffe4e3f0d5d4a")
--
-- The resources also hang off this module, bound to a default client that `intercom.configure{...}`
-- sets up, over the environment (INTERCOM_API_KEY, INTERCOM_REGION, INTERCOM_BASE_URL):
-- `intercom.contacts:find(id)`.

local core = require "intercom.core"
local client = require "intercom.client"
local errors = require "intercom.errors"
local options = require "intercom.options"
local resource = require "intercom.resource"
local misuse = require "intercom.misuse"
local scheduler = require "intercom.scheduler"

---@class intercom.module: intercom.Resources
---@field query intercom.query        the search query builder (loaded on first use)
---@field webhooks intercom.webhooks  webhook verification (loaded on first use)
---@field attachment intercom.attachment  builds attachment_files entries (loaded on first use)
---@field url intercom.url                 url.escape, for the paths of client:request (loaded on first use)
local _M = {
  _VERSION = client.VERSION,
  API_VERSION = client.API_VERSION,
  --- The API versions served, oldest first: { "2.12", "2.13", "2.14", "2.15", "2.16" }.
  VERSIONS = client.VERSIONS,
  --- JSON null, as decoded and as to encode: equal to cjson.null.
  null = core.null,
  --- The metatable every decoded JSON array carries, so that arrays (even empty) encode back as arrays.
  array_mt = core.array_mt,
  errors = errors,
}

--- Marks a table as a JSON array (so that an empty one encodes as `[]`, not `{}`); returns it.
---@param t table|nil
---@return table
function _M.array(t)
  return setmetatable(t or {}, core.array_mt)
end

--- The JSON codec of the C core: exact integers, `intercom.null`, arrays that stay arrays.
_M.json = {
  --- Encodes a Lua value; raises on what cannot be encoded (functions, NaN, cycles, mixed keys).
  encode = core.json_encode,
  --- Decodes a JSON text; returns nil and a message when it is not valid JSON.
  decode = core.json_decode,
  null = core.null,
  array = _M.array,
}

--- Creates a client. Options: token, region ("us"|"eu"|"au"), base_url, version, timeout,
--- connect_timeout, max_retries, transport, logger, user_agent, proxy, ca_file, rate_limit.
---@param opts intercom.ClientOpts|nil
---@return intercom.Client
function _M.new(opts)
  return client.new(opts)
end

local default_opts, default_client

local function env(name)
  local v = os.getenv(name)
  if v ~= nil and v ~= "" then return v end
  return nil
end

-- The default client's options: the ones given, over the environment. The token is not copied: every
-- client without a `token` reads INTERCOM_API_KEY when it sends (so a rotated key is picked up). Where
-- to send comes from INTERCOM_BASE_URL or INTERCOM_REGION unless the options name region or base_url.
local function with_env(opts)
  local o = {}
  if opts ~= nil then
    if type(opts) ~= "table" then
      misuse.raise("intercom.configure: expected a table of options, got " .. type(opts))
    end
    for k, v in pairs(opts) do o[k] = v end
  end
  if o.region == nil and o.base_url == nil then
    local region, base_url = env("INTERCOM_REGION"), env("INTERCOM_BASE_URL")
    if region and base_url then
      misuse.raise("intercom: both INTERCOM_REGION and INTERCOM_BASE_URL are set: set only one")
    end
    if region and not options.REGIONS[region:lower()] then
      misuse.raise("intercom: INTERCOM_REGION is \"" .. region .. "\": expected us, eu or au")
    end
    o.region, o.base_url = region and region:lower(), base_url
  end
  return o
end

--- Sets the options of the default client behind `intercom.contacts` etc. Returns that client. Options
--- not given come from the environment: INTERCOM_API_KEY (token), INTERCOM_REGION, INTERCOM_BASE_URL.
---@param opts intercom.ClientOpts|nil
---@return intercom.Client
function _M.configure(opts)
  local c = client.new(with_env(opts))    -- checks the options, raising on misuse
  if default_client then default_client:close() end
  default_opts, default_client = opts, c
  return c
end

--- The default client (made from `configure`'s options over the environment on first use).
---@return intercom.Client
function _M.default_client()
  if not default_client then default_client = client.new(with_env(default_opts)) end
  return default_client
end

--- Waits `seconds` without holding up the rest, as the client's own retry waits do: inside nginx (where
--- cosockets are allowed) with ngx.sleep, which yields to the event loop; inside a `client:map` task by
--- letting the other tasks run; elsewhere by sleeping.
---@param seconds number
---@return nil
function _M.sleep(seconds)
  if type(seconds) ~= "number" or seconds ~= seconds or seconds < 0 or seconds == math.huge then
    misuse.raise("intercom.sleep: expected a number of seconds >= 0, got " .. tostring(seconds))
  end
  local ngx = rawget(_G, "ngx")
  if ngx and require("intercom.transport.ngx").COSOCKET_PHASES[ngx.get_phase()] then
    return ngx.sleep(seconds)
  end
  scheduler.sleep(seconds)
end

--- Seconds on a monotonic clock (a float, sub-microsecond): only differences are meaningful; the
--- wall clock moving (NTP, DST) does not move it.
---@return number
function _M.now()
  return core.now()
end

local top_level = resource.top_level()

-- Lazy fields: `intercom.contacts` is the default client's resource; `intercom.query`,
-- `intercom.webhooks` and `intercom.attachment` load their module on first use.
local lazy = { query = "intercom.query", webhooks = "intercom.webhooks", attachment = "intercom.attachment",
               url = "intercom.url" }   -- url.escape: a path segment for client:request

setmetatable(_M, {
  __index = function(_, key)
    if top_level[key] then return _M.default_client()[key] end
    local name = lazy[key]
    if name then
      local m = require(name)
      rawset(_M, key, m)
      return m
    end
    return nil
  end,
})

_M.options = options   -- the option names and checks, for tools and editors

return _M
