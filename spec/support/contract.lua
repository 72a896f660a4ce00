--- Reading Prism's verdict on one request from what the client returned (../shared/contract/README.md,
--- "Using it from busted"). Prism reports a request that does not match the spec in one of these forms:
---
---   1. a problem+json answer: 422 (#UNPROCESSABLE_ENTITY, with a `validation` list), 401 (#UNAUTHORIZED),
---      404 (#NO_PATH_MATCHED_ERROR), 405 (#NO_METHOD_MATCHED_ERROR), 406, 415;
---   2. an `sl-violations` response header (a JSON array) with an entry whose location[1] is "request": the
---      only signal when the spec defines its own 400/422/401 for the operation, because Prism then answers
---      with the spec's error example, which looks like a real Intercom error;
---   3. 400 {"error":{"code":"invalid_json"}} for a body that is not JSON.
---
--- Entries located in the "response" are bugs in the spec's own examples, not in the request: ignored.
---
---   local contract = require "support.contract"
---   local result, err, resp = client.contacts:find(id)
---   local found = contract.violations(err, resp)      -- {} when Prism accepted the request

local json = require("intercom").json

local _M = {}

local function path_of(location)
  if type(location) ~= "table" then return "?" end
  local parts = {}
  for i, p in ipairs(location) do parts[i] = tostring(p) end
  return table.concat(parts, ".")
end

local function describe_entry(v)
  if type(v) ~= "table" then return tostring(v) end
  local code = v.code and (" (" .. tostring(v.code) .. ")") or ""
  return "[" .. path_of(v.location) .. "] " .. tostring(v.message) .. code
end

--- The request violations Prism reported, as readable strings; an empty list when there are none.
--- `resp` is the third value an operation returned (nil on failure: then err.response is used).
---@param err table|nil
---@param resp table|nil
---@return string[]
function _M.violations(err, resp)
  resp = resp or (type(err) == "table" and err.response) or nil
  local found = {}
  if not resp or not resp.status then
    found[1] = "no HTTP response at all: " .. tostring(err)
    return found
  end
  local headers = resp.headers or {}

  -- Form 2: the header. Response-side entries are the spec's own example bugs.
  local raw = headers["sl-violations"]
  if raw then
    local list = json.decode(raw)
    if type(list) ~= "table" then
      found[#found + 1] = "undecodable sl-violations header: " .. raw
    else
      for _, v in ipairs(list) do
        if type(v) ~= "table" or type(v.location) ~= "table" or v.location[1] ~= "response" then
          found[#found + 1] = "sl-violations " .. describe_entry(v)
        end
      end
    end
  end

  -- Forms 1 and 3: Prism's own error answers. Any problem+json from Prism means it did not accept the
  -- request as it stands (a valid request always gets a spec example back).
  local ctype = (headers["content-type"] or ""):lower()
  local body = type(err) == "table" and err.body or nil
  local doc = body and json.decode(body) or nil
  if ctype:find("application/problem+json", 1, true) then
    local msg = "HTTP " .. resp.status .. " problem+json"
    if type(doc) == "table" then
      msg = msg .. " " .. tostring(doc.type) .. ": " .. tostring(doc.title) .. " - " .. tostring(doc.detail)
    elseif body then
      msg = msg .. ": " .. body
    end
    found[#found + 1] = msg
    if type(doc) == "table" and type(doc.validation) == "table" then
      for _, v in ipairs(doc.validation) do found[#found + 1] = "  " .. describe_entry(v) end
    end
  elseif resp.status == 400 and type(doc) == "table" and type(doc.error) == "table"
      and doc.error.code == "invalid_json" then
    found[#found + 1] = "HTTP 400 invalid_json: the body is not JSON"
  end
  -- Prism repeats an entry once per oneOf branch it tried: keep the first of each.
  local seen, unique = {}, {}
  for _, m in ipairs(found) do
    if not seen[m] then seen[m] = true; unique[#unique + 1] = m end
  end
  return unique
end

--- Fails (with every message) when Prism reported a request violation; returns `resp` otherwise.
---@param what string  names the call in the failure message
function _M.assert_ok(what, err, resp)
  local found = _M.violations(err, resp)
  if #found > 0 then
    error(what .. ": Prism reports the request does not match the spec:\n  " .. table.concat(found, "\n  "), 2)
  end
  return resp or err.response
end

return _M
