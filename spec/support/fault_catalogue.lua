--- One catalogue of server faults, run against every backend (spec/e2e/nginx_faults_spec.lua): the curl
--- transport in plain Lua, and in a real nginx the ngx transport with its own HTTP/1.1 client and with the
--- real lua-resty-http. Each case: `scripts` for the test server, the `call` made (find, create, delete),
--- per-request `opts`, and what must come back: `kind` (nil: a success, `id` the contact's id, or `value`),
--- `phase`, a pattern the message must match, per backend family ("curl" or "ngx", which both nginx
--- backends share), and `within`, the seconds the call may take at most (the attempt's timeout plus slack).
local fx = require "support.fixtures"

local function raw_head(lines, body)
  return table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or "")
end

local CONTACT = '{"type":"contact","id":"c1","email":"c1@example.com"}'

local TOO_LARGE = { curl = "max_response_bytes", ngx = "^reading the response body: .*max_response_bytes" }
local JSON = { ["Content-Type"] = "application/json" }

local HEAD_PHASE = { ngx = "^reading the response head: " }
local BODY_PHASE = { ngx = "^reading the response body: " }

local function with(t, extra)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  for k, v in pairs(extra) do out[k] = v end
  return out
end

local many_headers = {}
for i = 1, 1500 do many_headers[i] = "X-H" .. i .. ": v" end
table.insert(many_headers, 1, "HTTP/1.1 200 OK")
many_headers[#many_headers + 1] = "Content-Type: application/json"
many_headers[#many_headers + 1] = "Content-Length: " .. #CONTACT

local huge_header = "X-Big: " .. string.rep("b", 1024 * 1024)

return {
  { name = "a plain answer", scripts = { { json = fx.contact("c1") } }, id = "c1" },
  { name = "a chunked answer", scripts = { { json = fx.contact("c1"), chunked = true } }, id = "c1" },
  { name = "a 100 Continue before the answer",
    scripts = { { interim = { { status = 100 } }, json = fx.contact("c1") } }, id = "c1" },
  { name = "accepts and never answers", scripts = { { hang = true } }, opts = { timeout = 0.5 },
    kind = "timeout", phase = with(HEAD_PHASE, { curl = "imed out" }), within = 2.5 },
  { name = "drips the head, a byte every 0.1 s", opts = { timeout = 1 },
    scripts = { { raw = raw_head({ "HTTP/1.1 200 OK", "Content-Type: application/json",
                                   "Content-Length: " .. #CONTACT }, CONTACT), drip = 0.1 } },
    kind = "timeout", phase = with(HEAD_PHASE, { curl = "imed out" }), within = 3 },
  { name = "drips a body with a length", opts = { timeout = 1 },
    scripts = { { json = fx.contact("c1"), drip = 0.05 } },
    kind = "timeout", phase = with(BODY_PHASE, { curl = "imed out" }), within = 3 },
  { name = "drips a chunked body", opts = { timeout = 1 },
    scripts = { { json = fx.contact("c1"), drip = 0.05, chunked = true } },
    kind = "timeout", phase = with(BODY_PHASE, { curl = "imed out" }), within = 3 },
  { name = "drips a body without a length, up to the close", opts = { timeout = 1 },
    scripts = { { raw = raw_head({ "HTTP/1.1 200 OK", "Content-Type: application/json", "Connection: close" },
                                 CONTACT .. string.rep(" ", 100)), drip = 0.05, drip_from = 70 } },
    kind = "timeout", phase = with(BODY_PHASE, { curl = "imed out" }), within = 3 },
  { name = "closes before the head", scripts = { { drop = "before_headers", ["repeat"] = 2 } },
    kind = "network", phase = with(HEAD_PHASE, { curl = "Empty reply" }), within = 3 },
  { name = "resets before the head", scripts = { { drop = "before_headers", reset = true, ["repeat"] = 2 } },
    kind = "network", phase = with(HEAD_PHASE, { curl = "reset" }), within = 3 },
  { name = "closes in the middle of the body", scripts = { { json = fx.contact("c1"), drop = "mid_body" } },
    kind = "network", phase = with(BODY_PHASE, { curl = "partial file" }), within = 3 },
  { name = "a body shorter than its Content-Length", scripts = { { json = fx.contact("c1"), content_length = 5000 } },
    kind = "network", phase = with(BODY_PHASE, { curl = "partial file" }), within = 3 },
  { name = "a malformed chunk-size line",
    scripts = { { raw = raw_head({ "HTTP/1.1 200 OK", "Content-Type: application/json",
                                   "Transfer-Encoding: chunked" }, "zz\r\n" .. CONTACT .. "\r\n0\r\n\r\n") } },
    kind = "network", phase = with(BODY_PHASE, { curl = "chunk" }), within = 3 },
  -- either length frames a valid-looking answer ({} or {} and spaces): taking one would return {} as the contact
  { name = "two different Content-Length values on two lines",
    scripts = { { raw = raw_head({ "HTTP/1.1 200 OK", "Content-Type: application/json", "Content-Length: 2",
                                   "Content-Length: 20" }, "{}" .. string.rep(" ", 18)) } },
    kind = "network", phase = { curl = "two different Content%-Length", ngx = "Content%-Length" }, within = 3 },
  { name = "two different Content-Length values on one line (2, 20)",
    scripts = { { raw = raw_head({ "HTTP/1.1 200 OK", "Content-Type: application/json", "Content-Length: 2, 20" },
                                 "{}" .. string.rep(" ", 18)) } },
    kind = "network", phase = { curl = "Content%-Length", ngx = "Content%-Length" }, within = 3 },
  { name = "a status line that is not HTTP", scripts = { { raw = "garbage\r\n\r\nmore garbage" } },
    kind = "network", phase = with(HEAD_PHASE, { curl = "." }), within = 3 },
  { name = "a 1 MB header", kind = "network", within = 5,
    scripts = { { raw = raw_head({ "HTTP/1.1 200 OK", huge_header, "Content-Length: " .. #CONTACT }, CONTACT) } },
    phase = with(HEAD_PHASE, { curl = "." }) },
  { name = "1500 header lines", only = "ngx", kind = "network", within = 5,
    scripts = { { raw = raw_head(many_headers, CONTACT) } },
    phase = with(HEAD_PHASE, { ngx = "^reading the response head: the response has more than 1000 header lines" }) },
  { name = "a body past max_response_bytes", opts = { max_response_bytes = 100000 },
    scripts = { { fill = { size = 300000 }, headers = JSON } }, kind = "too_large", phase = TOO_LARGE,
    within = 5 },
  { name = "a chunked body past max_response_bytes", opts = { max_response_bytes = 100000 },
    scripts = { { fill = { size = 300000 }, chunked = true, headers = JSON } }, kind = "too_large", phase = TOO_LARGE,
    within = 5 },
  -- curl inflates (gzip is offered) and stops at the limit; nginx offers no encoding and gets the
  -- compressed bytes, which are not JSON
  { name = "a gzip bomb (64 MB inflated)", opts = { max_response_bytes = 1024 * 1024 },
    scripts = { { fill = { size = 64 * 1024 * 1024 }, gzip = true, headers = JSON } },
    kind = { curl = "too_large", ngx = "decode" }, phase = { curl = "max_response_bytes", ngx = "decode" },
    within = 10 },
  { name = "a 200 whose body is false", scripts = { { body = "false" } },
    kind = "decode", phase = { curl = "got false", ngx = "got false" }, within = 3 },
  { name = "a 200 whose body is a number", scripts = { { body = "42" } },
    kind = "decode", phase = { curl = "got 42", ngx = "got 42" }, within = 3 },
  { name = "a 503 with an HTML page", scripts = { { status = 503, body = "<html>busy</html>" } },
    kind = "api", phase = { curl = "HTTP 503", ngx = "HTTP 503" }, within = 3 },
  { name = "a 204 to a delete", call = "delete", scripts = { { status = 204 } }, value = true },
  { name = "a download in memory past max_response_bytes", call = "download", opts = { max_response_bytes = 100000 },
    scripts = { { fill = { size = 300000 }, headers = { ["Content-Type"] = "text/csv" } } },
    kind = "too_large", phase = TOO_LARGE, within = 5 },
  -- a download's timeout is an idle one: a body dripping for 2 s arrives whole with timeout = 0.5 ...
  { name = "a download dripping past its idle timeout in all, never idle that long", call = "download",
    opts = { timeout = 0.5 }, value = string.rep("d", 40),
    scripts = { { body = string.rep("d", 40), drip = 0.05, headers = { ["Content-Type"] = "text/csv" } } },
    within = 6 },
  -- ... and its optional deadline bounds the whole attempt
  { name = "a download past its deadline", call = "download", opts = { timeout = 0.5, deadline = 1 },
    scripts = { { body = string.rep("d", 40), drip = 0.05, headers = { ["Content-Type"] = "text/csv" } } },
    kind = "timeout", phase = with(BODY_PHASE, { curl = "imed out" }), within = 3 },
}
