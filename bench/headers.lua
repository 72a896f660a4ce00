-- What a response's headers cost per request: the headers table the C core makes of nginx's header
-- block (the transport contract: every response carries one), and reading the request id and the
-- rate-limit state from it in Lua (intercom.response.meta). docs/performance.md compares both with W1's
-- CPU per request (the 2% rule of issue 11 for Intercom-specific work in Lua).
--
--   lua5.4|luajit bench/headers.lua        (LUA_PATH/LUA_CPATH as for the other bench scripts)
local core = require "intercom.core"
local response = require "intercom.response"

local block = table.concat({
  "Server: nginx/1.22.1", "Date: Wed, 25 Nov 2026 03:28:47 GMT", "Content-Type: application/json",
  "Content-Length: 2259", "Connection: keep-alive", "X-RateLimit-Limit: 10000", "X-RateLimit-Remaining: 9999",
  "X-RateLimit-Reset: 1717000060", "X-Request-Id: c5db1855084610f5559370f7946e8b82", "", "",
}, "\r\n")

local function us_per_call(fn, n)
  collectgarbage()
  local t = os.clock()
  for _ = 1, n do fn() end
  return (os.clock() - t) / n * 1e6
end

local headers = core.parse_headers(block)
local n = 200000
local table_us = us_per_call(function() return core.parse_headers(block) end, n)
local meta_us = us_per_call(function() return response.meta({ status = 200, headers = headers }, 1) end, n)
io.write(string.format('{"headers_table_us": %.3f, "request_id_rate_limit_us": %.3f}\n', table_us, meta_us))
