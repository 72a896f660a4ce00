---@meta intercom.core
-- LuaLS definitions of the C core (src/*.c), for editors; never loaded at run time. Most code uses it
-- through the Lua layer (intercom.json, intercom.webhooks, the curl transport).

---@class intercom.core
---@field _VERSION string # the library version, equal to intercom._VERSION
---@field null lightuserdata # JSON null (a NULL lightuserdata: equal to cjson.null)
---@field array_mt table # the metatable of decoded JSON arrays; a table carrying it encodes as an array
---@field curl_version string # e.g. "libcurl/7.88.1 OpenSSL/3.0.11 zlib/1.2.13 nghttp2/1.52.0"
local core = {}

--- Encodes a Lua value as JSON: exact integers, intercom.null, arrays marked by array_mt stay arrays.
--- Raises on what cannot be encoded (functions, NaN, cycles, mixed keys), naming the path.
---@param value any
---@return string json
function core.json_encode(value) end

--- Decodes a JSON text. Integers stay Lua integers (5.3+), null is core.null, arrays carry array_mt.
---@param text string
---@return any|nil value
---@return string|nil err # why the text is not valid JSON
function core.json_decode(text) end

--- HMAC-SHA1 of `message` keyed by `key`, as 40 lowercase hex digits.
---@param key string
---@param message string
---@return string hex
function core.hmac_sha1_hex(key, message) end

--- Checks an `X-Hub-Signature: sha1=<hex>` value against the body and the secret, in constant time.
---@param raw_body string
---@param signature_header string
---@param client_secret string
---@return boolean ok
function core.webhook_verify(raw_body, signature_header, client_secret) end

--- Seconds on a monotonic clock (only differences are meaningful).
---@return number seconds
function core.now() end

--- Seconds since the epoch (wall clock).
---@return number seconds
function core.wall() end

--- Sleeps (blocking the thread; the ngx transport uses ngx.sleep instead).
---@param seconds number
function core.sleep(seconds) end

---@class intercom.core.SessionOpts
---@field ca_file? string # CA bundle instead of the system's
---@field proxy? string # proxy URL for libcurl

---@class intercom.core.Request
---@field method string
---@field url string
---@field headers? string[] # "Name: value" lines
---@field body? string
---@field timeout? number # seconds for the whole transfer
---@field connect_timeout? number # seconds to connect
---@field output_file? string # write the body to this file (the result's body is then nil)
---@field once? boolean # the request must reach the server at most once: libcurl may not replay it
---@field decode? boolean # a 2xx JSON object or array comes back decoded (4th result)

--- A libcurl session (one easy handle, reused across requests for keep-alive); freed by __gc/__close.
---@class intercom.core.Session
local Session = {}

--- Runs one HTTP exchange to completion. Returns status, headers (lowercase names), body; with
--- req.decode and a 2xx JSON object or array, status, headers, nil, value; or nil, kind
--- ("timeout"|"network"), message, {curl_code, sent}. Raises only on misuse.
---@param req intercom.core.Request
---@return integer|nil status
---@return table<string, string>|string headers_or_kind
---@return string|nil body_or_message
---@return {curl_code: integer, sent: boolean}|table|nil details_or_value
function Session:perform(req) end

--- Releases the easy handle and its connections; the session cannot be used afterwards.
function Session:close() end

--- Whether close() was called.
---@return boolean
function Session:closed() end

--- Creates a session.
---@param opts? intercom.core.SessionOpts
---@return intercom.core.Session
function core.session(opts) end

--- The table of a block of "Name: value" header lines: lowercase name -> value, repeated names joined
--- with ", ", obsolete line folding joined with a space (what Session:perform returns is made so).
---@param text string
---@return table<string, string> headers
function core.parse_headers(text) end

--- Percent-encodes everything but RFC 3986's unreserved characters (A-Z a-z 0-9 - . _ ~), as %XX with
--- uppercase hex; returns the string itself when nothing needs encoding.
---@param s string
---@return string
function core.url_escape(s) end

--- Base64 (standard alphabet, padded, no line breaks) of a byte string.
---@param bytes string
---@return string base64
function core.base64_encode(bytes) end

--- Decodes canonical padded base64; nil and a message for anything else.
---@param text string
---@return string|nil bytes
---@return string|nil err
function core.base64_decode(text) end

---@class intercom.core.StreamRequest
---@field method string
---@field url string
---@field headers? string[] # "Name: value" lines
---@field body? string
---@field timeout? number # idle timeout: seconds without a byte before the transfer fails
---@field connect_timeout? number # seconds to connect

--- A response body read piece by piece (downloads); freed by close/__gc/__close. The bytes are the
--- server's, never decoded; at most about 256 KB wait in C for the next read.
---@class intercom.core.Stream
local Stream = {}

--- Runs the transfer until the final response's head is in. Returns status, headers (lowercase names);
--- or nil, kind ("timeout"|"network"), message, {curl_code, sent}.
---@return integer|nil status
---@return table<string, string>|string headers_or_kind
---@return string|nil message
---@return {curl_code: integer, sent: boolean}|nil details
function Stream:headers() end

--- The next piece of the body; nil at the end; nil, kind, message, details on failure.
---@return string|nil chunk
---@return string|nil kind
---@return string|nil message
---@return {curl_code: integer, sent: boolean}|nil details
function Stream:read() end

--- Releases the transfer (idempotent); the stream cannot be read afterwards. Called while the stream is
--- busy (from a finalizer), it takes effect when the current call ends.
function Stream:close() end

--- Whether close() took effect.
---@return boolean
function Stream:closed() end

--- Starts a streamed request (no I/O until headers() or read()). Raises on misuse; returns nil, kind,
--- message, details when libcurl refuses an option security depends on.
---@param opts? intercom.core.SessionOpts
---@param req intercom.core.StreamRequest
---@return intercom.core.Stream|nil
function core.stream(opts, req) end

--- Concurrent transfers on one libcurl multi handle, driven from Lua (client:map's scheduler); freed by
--- close/__gc/__close. Nothing calls back into Lua during a transfer.
---@class intercom.core.Multi
local Multi = {}

--- Starts a transfer; raises on misuse.
---@param req intercom.core.Request
---@param opts? intercom.core.SessionOpts
---@return integer id
function Multi:add(req, opts) end

--- Runs the transfers until one completes or `timeout` seconds pass. Each done entry is {id, status,
--- headers, body, value} or {id, nil, kind, message, details}, as Session:perform returns.
---@param timeout number
---@return table[] done
function Multi:perform(timeout) end

--- Stops a transfer that has not completed.
---@param id integer
function Multi:remove(id) end

--- How many transfers are running or done but not yet returned by perform.
---@return integer
function Multi:pending() end

--- Releases every transfer and the multi handle (idempotent).
function Multi:close() end

--- Whether close() was called.
---@return boolean
function Multi:closed() end

--- Creates a multi handle (HTTP/2 multiplexing where the server offers it).
---@return intercom.core.Multi
function core.multi() end

return core
