-- intercom.core stream (src/stream.c): a response body read piece by piece, against the test server
-- (real HTTP over loopback); downloads above it are spec/client/download_spec.lua.
local control = require "support.control"
local core = require "intercom.core"

-- The finalizer hazard, run by the last spec below in a child interpreter.
local HAZARD = [[
local core = require "intercom.core"
local control = require "support.control"
local fin = require "support.finalizers"
control.reset()
local many = {}
for i = 1, 60 do many["X-Header-" .. i] = string.rep("v", 40) .. i end
local body = string.rep("0123456789", 20000)
local inside = 0
for round = 1, 200 do
  control.enqueue{ headers = many, body = body }
  local s = core.stream(nil, { method = "GET", url = control.url() .. "/s" .. round })
  local armed, over, closed_inside = false, false, false
  fin.chain(function()
    if over or s:closed() then return false end
    if not armed then return true end       -- too early: leave the next one behind
    closed_inside = true
    s:close()
    return false
  end)
  fin.aggressive(true)
  armed = true
  local ok, status, headers = pcall(s.headers, s)
  local err = not ok and status or nil
  local chunk
  if ok and not closed_inside then
    ok, chunk = pcall(s.read, s)
    if not ok then err, chunk = chunk, nil end
  end
  armed, over = false, true
  fin.aggressive(false)
  if err then
    -- a finalizer closed the stream just before a call took it (LuaJIT allocates in a call's entry):
    -- the call raises "closed", as any call on a closed stream does
    assert(closed_inside and tostring(err):find("intercom stream is closed", 1, true), tostring(err))
  else
    assert(status == 200, "status " .. tostring(status))
    assert(headers["x-header-60"] == string.rep("v", 40) .. "60", "round " .. round .. ": headers")
    if chunk then assert(chunk == body:sub(1, #chunk), "round " .. round .. ": chunk") end
    assert(closed_inside == s:closed(), "round " .. round .. ": closed() is wrong")
    if closed_inside then inside = inside + 1 end
  end
  s:close()
  if inside == 3 then break end
end
assert(inside == 3, "finalizers closed the stream inside a call in " .. inside .. " rounds")
print("ok " .. inside)
]]

describe("core.stream", function()
  before_each(function() control.reset() end)

  it("reads headers, then pieces, then nil at the end (and again)", function()
    control.enqueue{ body = "hello stream", headers = { ["X-Test"] = "a", ["Content-Type"] = "text/plain" } }
    local s = core.stream(nil, { method = "GET", url = control.url() .. "/s", headers = { "X-Req: 1" } })
    local status, headers = s:headers()
    assert.equal(200, status)
    assert.equal("a", headers["x-test"])
    assert.equal("12", headers["content-length"])
    assert.equal("hello stream", s:read())
    assert.is_nil(s:read())
    assert.is_nil(s:read())
    assert.equal(200, (s:headers()))
    s:close()
    s:close()
    assert.matches("closed", tostring(s))
    assert.has_error(function() s:read() end, "intercom stream is closed")
    assert.equal("1", control.last().headers["x-req"])
  end)

  it("sends a body with the given method and no Expect or default Content-Type", function()
    control.enqueue{ body = "ok" }
    local s = core.stream({}, { method = "PUT", url = control.url() .. "/p", body = "payload" })
    assert.equal(200, (s:headers()))
    assert.equal("ok", s:read())
    s:close()
    local req = control.last()
    assert.equal("PUT", req.method)
    assert.equal("payload", req.body)
    assert.is_nil(req.headers["expect"])
    assert.is_nil(req.headers["content-type"])
  end)

  it("reports a failure as nil, kind, message, details", function()
    local s = core.stream(nil, { method = "GET", url = "http://127.0.0.1:1/x", connect_timeout = 2 })
    local v, kind, msg, details = s:headers()
    assert.is_nil(v)
    assert.equal("network", kind)
    assert.is_string(msg)
    assert.equal(7, details.curl_code)
    assert.is_false(details.sent)
    local v2, kind2 = s:read()
    assert.is_nil(v2)
    assert.equal("network", kind2)
    s:close()
  end)

  it("raises on misuse", function()
    -- the request is checked by the code sessions use too (src/transfer.c), hence "intercom request:"
    assert.has_error(function() core.stream(nil, { url = "http://x" }) end, "intercom request: 'method' is required")
    assert.has_error(function() core.stream(nil, { method = "GET", url = "http://x", output_file = "/tmp/x" }) end,
      "intercom stream: 'output_file' is not supported: read() the body")
    assert.has_error(function() core.stream(nil, { method = "G T", url = "http://x" }) end)
    local smuggled = { "A: b\r\nC: d" }
    assert.has_error(function() core.stream(nil, { method = "GET", url = "http://x", headers = smuggled }) end)
    assert.has_error(function() core.stream({ ca_file = 1 }, { method = "GET", url = "http://x" }) end)
    assert.has_error(function() core.stream(nil, { method = "GET", url = "http://x", timeout = -1 }) end)
    local s = core.stream(nil, { method = "GET", url = "http://127.0.0.1:1/" })
    assert.has_error(function() getmetatable(s).__index.read({}) end)   -- luaL_checkudata
    s:close()
  end)

  it("a stream dropped without close is freed by the garbage collector", function()
    control.default{ body = string.rep("x", 1024 * 1024) }
    for _ = 1, 20 do
      local s = core.stream(nil, { method = "GET", url = control.url() .. "/gc" })
      assert.equal(200, (s:headers()))
      assert.is_string(s:read())
    end
    collectgarbage("collect")
    collectgarbage("collect")
  end)

  -- headers() and read() make Lua values of the stream's buffers with the stream BUSY (src/handle.h): a
  -- finalizer that closes it meanwhile only has it closed when the call is done, and what the call
  -- returns is whole.
  it("stays sound when a finalizer closes the stream while headers() or read() makes its values", function()
    -- in a fresh interpreter, whose small heap lets the collector run a finalizer at nearly every
    -- allocation (and which is the sanitized one under make check-memory)
    local rc, out = require("support.util").run_lua(HAZARD)
    assert.equal(0, rc, out)
    assert.matches("^ok ", out)
  end)
end)
