--- The random-fault mix of the soak (spec/e2e/soak_spec.lua): scripts for the test server, one per call.
--- A good answer reflects the request's X-Soak-Id header as the contact's id, so a value that reaches the
--- wrong call shows. Calls use timeout = SOAK_TIMEOUT, max_response_bytes = SOAK_MAX, max_retries = 1.
local _M = {}

_M.TIMEOUT = 0.5
_M.MAX = 100000

local GOOD = { body = '{"type":"contact","id":"{{x-soak-id}}","email":"soak@example.com"}', reflect = true,
               headers = { ["Content-Type"] = "application/json" } }

local function raw(head, body) return table.concat(head, "\r\n") .. "\r\n\r\n" .. body end

local function with(extra)
  local s = {}
  for k, v in pairs(GOOD) do s[k] = v end
  for k, v in pairs(extra) do s[k] = v end
  return s
end

-- weight, script
local MIX = {
  { 30, GOOD },
  { 5, with{ chunked = true } },
  { 5, with{ gzip = true } },
  { 4, { drop = "before_headers" } },
  { 4, { drop = "before_headers", reset = true } },
  { 4, with{ drop = "mid_body" } },
  { 4, with{ drop = "mid_body", reset = true } },
  { 3, { hang = true } },
  { 3, with{ drip = 0.02 } },                    -- ~70 bytes: longer than the timeout
  { 4, with{ delay = 0.05 } },
  { 4, { status = 503, body = "<html>busy</html>" } },
  -- a 429 means "not processed": a POST is then sent again, legitimately; GETs only, so that every POST
  -- the server read counts as processed
  { 3, { status = 429, headers = { ["Retry-After"] = "0" }, body = "{}", match = { method = "GET" } } },
  { 3, with{ content_length = 5000 } },
  { 3, { raw = raw({ "HTTP/1.1 200 OK", "Transfer-Encoding: chunked" }, "zz\r\n{}\r\n0\r\n\r\n") } },
  { 3, { raw = raw({ "HTTP/1.1 200 OK", "Content-Length: 2", "Content-Length: 20" }, "{}" .. string.rep(" ", 18)) } },
  { 3, { raw = "garbage\r\n\r\n" } },
  { 3, { fill = { size = 300000 }, headers = { ["Content-Type"] = "application/json" } } },
  { 3, { body = "false", headers = { ["Content-Type"] = "application/json" } } },
  { 2, { status = 204 } },
}

local total = 0
for _, m in ipairs(MIX) do total = total + m[1] end

--- `n` random scripts (math.random must be seeded by the caller).
function _M.scripts(n)
  local out = {}
  for i = 1, n do
    local r = math.random(total)
    for _, m in ipairs(MIX) do
      r = r - m[1]
      if r <= 0 then out[i] = m[2]; break end
    end
  end
  return out
end

_M.KINDS = { api = true, network = true, timeout = true, decode = true, rate_limited = true, too_large = true }

--- Checks one call's outcome; returns nil or what is wrong. `id`: the X-Soak-Id the call sent.
function _M.problem(id, ok, res, err)
  if not ok then return "raised: " .. tostring(res) end
  if res ~= nil then
    if res == true then return nil end                        -- a 204
    if type(res) ~= "table" then return "a " .. type(res) .. " value" end
    if res.id ~= id then return "wrong value: id " .. tostring(res.id) .. " for " .. id end
    return nil
  end
  if type(err) ~= "table" or not _M.KINDS[err.kind] or type(err.message) ~= "string" then
    return "not an error object: " .. tostring(err)
  end
  return nil
end

return _M
