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
--- With `name` (an operation, e.g. "contacts:find"), the decoder records the shape of the answer under
--- that name and takes its tables from the reserve core.json_reserve(name) made, as a session does.
---@param text string
---@param name? string
---@return any|nil value
---@return string|nil err # why the text is not valid JSON
function core.json_decode(text, name) end

--- Makes, ahead of time, the empty tables (at their sizes) that the last answer decoded under `name` had,
--- for the next decode under `name` to take. A session calls it while a request is in flight.
---@param name string
function core.json_reserve(name) end

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
---@field decode? boolean|string # a 2xx JSON object or array comes back decoded (4th result); a name: see json_reserve

--- A libcurl session (one easy handle, reused across requests for keep-alive); freed by __gc/__close.
---@class intercom.core.Session
local Session = {}

--- Runs one HTTP exchange to completion. Returns status, head (the final response's header block, see
--- core.parse_headers), body; with req.decode and a 2xx JSON object or array, status, head, nil, value; or
--- nil, kind ("timeout"|"network"), message, {curl_code, sent}. Raises only on misuse.
---@param req intercom.core.Request
---@return integer|nil status
---@return intercom.core.Head|string head_or_kind
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

--- The header lines of a response ("Name: value", as received), handed over by Session:perform and
--- Multi:perform; read by core.parse_headers and core.head_meta. tostring() gives the text.
---@class intercom.core.Head: userdata

--- The table of a header block: lowercase name -> value, repeated names joined with ", ", obsolete line
--- folding joined with a space.
---@param head intercom.core.Head|string
---@return table<string, string> headers
function core.parse_headers(head) end

--- What every response needs from its header block, without making the table: X-Request-Id and the
--- X-RateLimit-Limit/-Remaining/-Reset values (names matched case-insensitively; each nil when absent).
--- A count of plain digits comes as an integer, anything else as the string, and then `odd` is true.
---@param head intercom.core.Head|string
---@return string|nil request_id
---@return integer|string|nil limit
---@return integer|string|nil remaining
---@return integer|string|nil reset
---@return boolean odd
function core.head_meta(head) end

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

--- Releases the transfer (idempotent); the stream cannot be read afterwards.
function Stream:close() end

--- Starts a streamed request (no I/O until headers() or read()). Raises on misuse.
---@param opts? intercom.core.SessionOpts
---@param req intercom.core.StreamRequest
---@return intercom.core.Stream
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
--- head, body} or {id, nil, kind, message, details}, as Session:perform returns.
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
