-- Downloads (data_export:download): a body that is not JSON, delivered as it arrives (DESIGN.md, the C
-- core streams; it never calls back into Lua).
--
--   client.data_export:download(job)                                  -> the body (a string)
--   client.data_export:download(job, { output_file = "export.gz" })   -> { path, bytes, content_type }
--   client.data_export:download(job, { sink = fn })                   -> { bytes, content_type }
--   ... and `progress = function(received, total) end` with any of them (`total` nil when unknown).
--
-- The client's policy is the same as for every call (client:_perform: URL, headers, retries, rate
-- limits, logger): the call carries a *receiver*, and a transport that can stream (transport/curl.lua,
-- core.stream) hands it the body of a 2xx response piece by piece, between reads of the C stream. Any
-- other status never reaches the receiver: it is read into memory and becomes the usual error object.
-- A transport that cannot stream returns the whole body, which is then handed over here.
--
-- Choices (README, "Downloads"):
-- * output_file: the bytes go to `<path>.part`, renamed to `path` only once the body is complete; on
--   any failure the .part file is removed, so `path` never holds a partial or an error body (and an
--   existing file there is replaced only by a complete download).
-- * Retries: a failure in the middle of the body restarts the download from the first byte (a GET can
--   be replayed) when nothing irrevocable was done: a file is truncated and written again, and the
--   progress counts start again from 0; a sink is restarted only if it has not received a byte yet,
--   otherwise the error is returned (with retryable = false).
-- * sink follows LTN12: sink(chunk) for every piece, sink(nil) at the end, sink(nil, message) when the
--   download fails after it began; a sink returning nil, message aborts the download. So
--   ltn12.sink.file(io.open(path, "wb")) works as it is.

local errors = require "intercom.errors"
local misuse = require "intercom.misuse"

local _M = {}

-- Pieces handed to a sink when a transport returned the body whole.
local SLICE = 256 * 1024

local Receiver = {}
Receiver.__index = Receiver

local function new_receiver(o)
  return setmetatable({
    path = o.output_file, sink = o.sink, progress = o.progress,
    started = false, received = 0, delivered = 0, total = nil, content_type = nil,
  }, Receiver)
end

--- A 2xx response begins (again, after a restart): returns true, or nil and a message.
function Receiver:start(_, headers)
  self.started, self.received = true, 0
  self.total = tonumber(headers and headers["content-length"])
  self.content_type = headers and headers["content-type"]
  if self.path then
    if self.file then self.file:close() end
    local f, err = io.open(self.path .. ".part", "wb")       -- "wb" truncates what a failed attempt left
    if not f then return nil, "cannot open the output file: " .. tostring(err) end
    self.file = f
  elseif not self.sink then
    self.parts = {}
  end
  return true
end

--- One piece of the body: returns true, or nil and a message (which aborts the transfer).
function Receiver:write(chunk)
  if self.file then
    local ok, err = self.file:write(chunk)
    if not ok then return nil, "cannot write the output file " .. self.path .. ".part: " .. tostring(err) end
  elseif self.sink then
    self.delivered = self.delivered + #chunk
    local ok, err = self.sink(chunk)
    if ok == nil and err ~= nil then return nil, "the sink failed: " .. tostring(err) end
  else
    -- in memory, a download obeys max_response_bytes like any answer (a file or a sink has no limit)
    if self.limit and self.received + #chunk > self.limit then
      return nil, "the body is larger than max_response_bytes (" .. self.limit
        .. " bytes)", "too_large"
    end
    self.parts[#self.parts + 1] = chunk
  end
  self.received = self.received + #chunk
  if self.progress then self.progress(self.received, self.total) end
  return true
end

--- Whether a failed attempt may be started again from the first byte.
function Receiver:restartable()
  return not (self.sink and self.delivered > 0)
end

-- The whole body from a transport that does not stream.
function Receiver:feed(status, headers, body)
  local ok, err = self:start(status, headers)
  if not ok then return nil, err end
  if self.total == nil then self.total = #body end
  for i = 1, math.max(#body, 1), SLICE do
    local piece = body:sub(i, i + SLICE - 1)
    if piece ~= "" then
      local kind
      ok, err, kind = self:write(piece)
      if not ok then return nil, err, kind end
    end
  end
  return true
end

--- The body is complete: returns the result, or nil and a message.
function Receiver:finish()
  if self.path then
    local f = self.file
    self.file = nil
    local ok, err = f:close()
    if not ok then return nil, "cannot write the output file " .. self.path .. ".part: " .. tostring(err) end
    local part = self.path .. ".part"
    ok, err = os.rename(part, self.path)
    if not ok then
      os.remove(part)
      return nil, "cannot rename " .. part .. " to " .. self.path .. ": " .. tostring(err)
    end
    return { path = self.path, bytes = self.received, content_type = self.content_type }
  end
  if self.sink then
    local ok, err = self.sink(nil)
    if ok == nil and err ~= nil then return nil, "the sink failed: " .. tostring(err) end
    return { bytes = self.received, content_type = self.content_type }
  end
  return table.concat(self.parts)
end

--- The download failed: removes the partial file, tells a sink that had begun.
function Receiver:abort(message)
  if self.file then
    self.file:close()
    self.file = nil
  end
  if self.path then os.remove(self.path .. ".part") end
  if self.sink and self.started and not self.aborted then
    self.aborted = true
    pcall(self.sink, nil, message)
  end
end

local STREAM_OPTS = { output_file = true, sink = true, progress = true }

--- Runs a download call through client:_perform with a receiver. Returns result, err, response.
function _M.run(client, call)
  local o = call.opts
  if o.output_file and o.sink then
    misuse.raise(call.what .. ": give either output_file or sink, not both")
  end
  local receiver = new_receiver(o)
  if not (o.output_file or o.sink) then receiver.limit = o.max_response_bytes or client._max_response_bytes end
  local c, opts = {}, {}
  for k, v in pairs(call) do c[k] = v end
  for k, v in pairs(o) do if not STREAM_OPTS[k] then opts[k] = v end end
  c.opts, c.receiver = opts, receiver

  local ok, result, err, resp = pcall(client._perform, client, c)
  if not ok then                       -- raised (misuse, or by the sink or progress callback)
    receiver:abort(tostring(result))
    error(result, 0)
  end
  if result == nil then
    receiver:abort(err and err.message)
    return nil, err, resp
  end
  local fail, kind
  if not receiver.started and not (o.output_file or o.sink or o.progress) then
    return result, nil, resp            -- the transport returned the body whole, and that is the result
  end
  if not receiver.started then          -- the transport returned the body whole
    local body = type(result) == "string" and result or ""
    local fed, ferr, fkind = receiver:feed(resp and resp.status, resp and resp.headers, body)
    if not fed then fail, kind = ferr, fkind end
  end
  local out, ferr
  if not fail then out, ferr = receiver:finish() end
  if out == nil then
    receiver:abort(fail or ferr)
    return nil, errors.new{
      kind = kind or "network", message = fail or ferr, method = call.method, path = call.path,
      attempts = resp and resp.attempts, retryable = false, response = resp,
    }, resp
  end
  return out, nil, resp
end

return _M
