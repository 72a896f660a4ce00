-- Downloads over HTTP: client.data_export:download to memory, to a file, to a sink, with progress;
-- bounded memory for multi-megabyte bodies, bytes exactly as sent, errors never written as data,
-- dropped connections, retries, and the C stream (core.stream) underneath.

local control = require "support.control"
local fx = require "support.fixtures"
local mime = require "mime"

local JOB = "job-abc123"
local PATH = "/download/content/data/" .. JOB

-- A large body without keeping it in the spec's memory: block i is "%08d" .. TAIL, so any slice can be
-- recomputed from its offset. TAIL has every byte value (NUL, CR, LF, 0xFF ...).
local BLOCK = 64 * 1024
local TAIL do
  local t = {}
  for i = 0, BLOCK - 8 - 1 do t[#t + 1] = string.char((i * 7 + 3) % 256) end
  TAIL = table.concat(t)
end

local function block(i) return string.format("%08d", i) .. TAIL end

local function expected_slice(offset, n)
  local parts = {}
  while n > 0 do
    local bi = math.floor(offset / BLOCK)
    local bo = offset - bi * BLOCK
    local take = math.min(n, BLOCK - bo)
    parts[#parts + 1] = block(bi):sub(bo + 1, bo + take)
    offset, n = offset + take, n - take
  end
  return table.concat(parts)
end

-- Scripts a download of `blocks` blocks. The body is built in a coroutine that then dies: LuaJIT may
-- keep dead values in stack slots of a live thread, which would blur the memory measurements below.
local build_and_enqueue
local function enqueue_big(blocks, extra)
  return coroutine.wrap(build_and_enqueue)(blocks, extra)
end

build_and_enqueue = function(blocks, extra)
  local t = {}
  for i = 0, blocks - 1 do t[#t + 1] = block(i) end
  local script = { body = table.concat(t), headers = { ["Content-Type"] = "application/octet-stream" } }
  for k, v in pairs(extra or {}) do script[k] = v end
  control.enqueue(script)
  return blocks * BLOCK
end

-- Live Lua memory in KB: after a full collection, so that what is measured is what the download holds,
-- not the garbage (each piece is a fresh string) that the collector has not reached yet.
local function live_kb()
  collectgarbage("collect")
  return collectgarbage("count")
end

-- Collects until the count stops falling: LuaJIT keeps a scratch buffer (as big as the last large
-- string built) that each collection only halves, which would hide growth measured after it.
local function settle()
  local last = live_kb()
  for _ = 1, 40 do
    local now = live_kb()
    if now >= last then break end
    last = now
  end
end

-- How much live memory grows while a download runs: sampled every few pieces, against the first
-- sample, taken once the body is flowing.
local function growth_meter()
  settle()
  local n, first, peak = 0, nil, 0
  return function()
    n = n + 1
    if n % 4 ~= 1 then return end
    local now = live_kb()
    first = first or now
    peak = math.max(peak, now - first)
  end, function() return peak end
end

local function file_matches(path, size)
  local f = assert(io.open(path, "rb"))
  local offset = 0
  while true do
    local piece = f:read(300000)
    if not piece then break end
    if piece ~= expected_slice(offset, #piece) then f:close(); return false, "differs at " .. offset end
    offset = offset + #piece
  end
  f:close()
  if offset ~= size then return false, "size " .. offset .. " ~= " .. size end
  return true
end

local read_file = require("support.util").read_if_exists

local function exists(path) return read_file(path) ~= nil end

local function tmppath()
  local p = os.tmpname()
  os.remove(p)
  return p .. ".gz"
end

-- A gzip file, as a data export is: the bytes must arrive exactly like this, never decoded.
local GZ = mime.unb64("H4sIAAAAAAACA8tM0clLzE3lMtRJrSjILyrhAgAdy4sgEQAAAA==")

describe("data_export:download", function()
  before_each(function() control.reset() end)

  it("returns the body in memory, sends Accept: application/octet-stream and no Accept-Encoding", function()
    control.enqueue{ body = GZ, headers = { ["Content-Type"] = "application/octet-stream" } }
    local body, err, resp = fx.client().data_export:download(JOB)
    assert.is_nil(err)
    assert.equal(GZ, body)
    assert.equal(200, resp.status)
    local req = control.last()
    assert.equal("GET", req.method)
    assert.equal(PATH, req.path)
    assert.equal("application/octet-stream", req.headers["accept"])
    assert.equal("Bearer " .. fx.TOKEN, req.headers["authorization"])
    assert.equal("2.12", req.headers["intercom-version"])
    assert.is_nil(req.headers["accept-encoding"])
  end)

  it("delivers a Content-Encoding: gzip body as sent, not decoded", function()
    control.enqueue{ body = GZ, headers = { ["Content-Encoding"] = "gzip", ["Content-Type"] = "text/csv" } }
    control.enqueue{ body = GZ, headers = { ["Content-Encoding"] = "gzip", ["Content-Type"] = "text/csv" } }
    assert.equal(GZ, (fx.client().data_export:download(JOB)))
    local path = tmppath()
    local res = assert(fx.client().data_export:download(JOB, { output_file = path }))
    assert.equal(#GZ, res.bytes)
    assert.equal(GZ, read_file(path))
    os.remove(path)
  end)

  it("streams a multi-megabyte body to a file in bounded memory, bytes identical", function()
    local size = enqueue_big(160)                        -- 10 MB
    local path = tmppath()
    local sample, growth = growth_meter()
    local calls = 0
    local res, err = fx.client().data_export:download(JOB, { output_file = path, progress = function()
      calls = calls + 1
      sample()
      assert.is_false(exists(path))                        -- the final name appears only at the end
    end })
    assert.is_nil(err)
    assert.same({ path = path, bytes = size, content_type = "application/octet-stream" }, res)
    assert.is_true(calls >= 10)
    local peak = growth()
    assert.is_true(peak < size / 1024 / 8, ("Lua memory grew by %.0f KB for a %d KB body"):format(peak, size / 1024))
    assert.is_true(file_matches(path, size))
    assert.is_false(exists(path .. ".part"))
    os.remove(path)
  end)

  it("streams a multi-megabyte body to a sink in bounded memory, in order, then sink(nil)", function()
    local size = enqueue_big(160, { chunked = true })
    local sample, growth = growth_meter()
    local offset, ended, pieces = 0, 0, 0
    local res, err = fx.client().data_export:download(JOB, { sink = function(chunk, e)
      assert.is_nil(e)
      if chunk == nil then ended = ended + 1; return 1 end
      assert.equal(0, ended)
      assert.is_true(chunk == expected_slice(offset, #chunk), "bytes differ at " .. offset)
      offset, pieces = offset + #chunk, pieces + 1
      sample()
      return 1
    end })
    assert.is_nil(err)
    assert.same({ bytes = size, content_type = "application/octet-stream" }, res)
    assert.equal(size, offset)
    assert.equal(1, ended)
    assert.is_true(pieces >= 10)
    local peak = growth()
    assert.is_true(peak < size / 1024 / 8, ("Lua memory grew by %.0f KB for a %d KB body"):format(peak, size / 1024))
  end)

  it("calls progress with increasing counts and the total from Content-Length", function()
    local size = enqueue_big(40)
    local seen = {}
    local body = assert(fx.client().data_export:download(JOB, { progress = function(received, total)
      seen[#seen + 1] = { received, total }
    end }))
    assert.equal(size, #body)
    assert.is_true(body:sub(1, 100) == expected_slice(0, 100))
    assert.is_true(#seen >= 2)
    for i, s in ipairs(seen) do
      assert.equal(size, s[2])
      if i > 1 then assert.is_true(s[1] > seen[i - 1][1]) end
    end
    assert.equal(size, seen[#seen][1])
  end)

  it("gives progress a nil total when the length is unknown (chunked)", function()
    control.enqueue{ body = "abcdef", chunked = true }
    local seen = {}
    assert.equal("abcdef", (fx.client().data_export:download(JOB, { progress = function(r, t)
      seen[#seen + 1] = { r, t }
    end })))
    assert.same({ 6 }, seen[#seen])
  end)

  it("turns a 404 into the error object and writes nothing: no file, no .part, no sink call", function()
    local body404 = fx.error_list("not_found", "Export not found")
    control.enqueue{ status = 404, json = body404 }
    control.enqueue{ status = 404, json = body404 }
    local path = tmppath()
    local f = assert(io.open(path, "wb")); f:write("OLD"); f:close()
    local res, err, resp = fx.client().data_export:download(JOB, { output_file = path })
    assert.is_nil(res)
    assert.equal("api", err.kind)
    assert.equal(404, err.status)
    assert.equal("not_found", err.code)
    assert.equal("Export not found", err.message)
    assert.equal(404, resp.status)
    assert.equal("OLD", read_file(path))               -- an existing file is replaced only by a complete body
    assert.is_false(exists(path .. ".part"))
    os.remove(path)
    local called = 0
    local res2, err2 = fx.client().data_export:download(JOB, { sink = function() called = called + 1 end })
    assert.is_nil(res2)
    assert.equal("not_found", err2.code)
    assert.equal(0, called)
  end)

  it("retries a 503 and delivers only the final body", function()
    control.enqueue{ status = 503, body = "upstream down", headers = { ["Retry-After"] = "0" } }
    control.enqueue{ body = GZ }
    local got = {}
    local res = assert(fx.client().data_export:download(JOB, { sink = function(c) got[#got + 1] = c or "<end>" end }))
    assert.equal(#GZ, res.bytes)
    assert.same({ GZ, "<end>" }, got)
    assert.equal(2, #control.requests())
  end)

  it("a dropped connection mid-body is a network error and leaves no file behind", function()
    enqueue_big(16, { drop = "mid_body" })
    local path = tmppath()
    local res, err = fx.client{ max_retries = 0 }.data_export:download(JOB, { output_file = path })
    assert.is_nil(res)
    assert.equal("network", err.kind)
    assert.truthy(err.message:find("partial", 1, true) or err.message:find("closed", 1, true), err.message)
    assert.is_false(exists(path))
    assert.is_false(exists(path .. ".part"))
    assert.equal(1, #control.requests())
  end)

  it("restarts a file download from the first byte after a drop", function()
    enqueue_big(16, { drop = "mid_body" })
    local size = enqueue_big(16)
    local path = tmppath()
    local counts = {}
    local res = assert(fx.client().data_export:download(JOB, { output_file = path, progress = function(r)
      counts[#counts + 1] = r
    end }))
    assert.equal(size, res.bytes)
    assert.is_true(file_matches(path, size))
    assert.equal(2, #control.requests())
    local restarted = false
    for i = 2, #counts do if counts[i] < counts[i - 1] then restarted = true end end
    assert.is_true(restarted)                            -- progress starts again from 0
    os.remove(path)
  end)

  it("does not restart a sink that already has bytes: the error comes back, the sink hears of it", function()
    enqueue_big(16, { drop = "mid_body" })
    enqueue_big(16)
    local bytes, final = 0, nil
    local res, err = fx.client().data_export:download(JOB, { sink = function(chunk, e)
      if chunk then bytes = bytes + #chunk else final = { e } end
      return 1
    end })
    assert.is_nil(res)
    assert.equal("network", err.kind)
    assert.is_false(err.retryable)
    assert.is_true(bytes > 0)
    assert.is_string(final[1])
    assert.equal(1, #control.requests())
  end)

  it("a sink returning nil, message aborts the download", function()
    enqueue_big(16)
    local calls = 0
    local res, err = fx.client().data_export:download(JOB, { sink = function(chunk)
      if chunk then calls = calls + 1; return nil, "disk full" end
    end })
    assert.is_nil(res)
    assert.equal("network", err.kind)
    assert.truthy(err.message:find("the sink failed: disk full", 1, true), err.message)
    assert.equal(1, calls)
    assert.equal(1, #control.requests())
  end)

  it("an error raised by a callback propagates, and the partial file is removed", function()
    enqueue_big(16)
    local path = tmppath()
    local ok, e = pcall(function()
      return fx.client().data_export:download(JOB, { output_file = path, progress = function() error("stop here") end })
    end)
    assert.is_false(ok)
    assert.truthy(tostring(e):find("stop here", 1, true))
    assert.is_false(exists(path))
    assert.is_false(exists(path .. ".part"))
  end)

  it("an output file that cannot be created is an error, not retried", function()
    control.enqueue{ body = GZ }
    local res, err = fx.client().data_export:download(JOB, { output_file = "/nonexistent-dir/x/export.gz" })
    assert.is_nil(res)
    assert.equal("network", err.kind)
    assert.truthy(err.message:find("cannot open the output file", 1, true), err.message)
    assert.is_false(err.retryable)
    assert.equal(1, #control.requests())
  end)

  it("times out when the server stays silent longer than timeout (an idle timeout)", function()
    control.enqueue{ body = GZ, delay = 3 }
    local res, err = fx.client{ max_retries = 0 }.data_export:download(JOB, { timeout = 1, sink = function() end })
    assert.is_nil(res)
    assert.equal("timeout", err.kind)
  end)

  it("raises on misuse before sending", function()
    local client = fx.client()
    assert.has_error(function() client.data_export:download(JOB, { output_file = "/tmp/a", sink = print }) end,
      nil)
    local ok, msg = pcall(client.data_export.download, client.data_export, JOB, { sink = "file" })
    assert.is_false(ok)
    assert.truthy(msg:find("expected a function", 1, true), msg)
    ok, msg = pcall(client.data_export.download, client.data_export, JOB, { output_fle = "/tmp/x" })
    assert.is_false(ok)
    assert.truthy(msg:find('did you mean "output_file"', 1, true), msg)
    assert.equal(0, #control.requests())
  end)

  it("works through a transport that cannot stream (the whole body, then handed over)", function()
    local inner = require("intercom.transport.curl").new()
    local plain = { request = function(_, req)
      local r = {}
      for k, v in pairs(req) do if k ~= "receiver" then r[k] = v end end
      return inner:request(r)
    end }
    local client = fx.client{ transport = plain }
    local size = enqueue_big(8)
    local path = tmppath()
    local calls = 0
    local function count() calls = calls + 1 end
    local res = assert(client.data_export:download(JOB, { output_file = path, progress = count }))
    assert.equal(size, res.bytes)
    assert.is_true(file_matches(path, size))
    assert.is_true(calls >= 1)
    os.remove(path)
    control.enqueue{ body = GZ }
    local got = {}
    assert(client.data_export:download(JOB, { sink = function(c) got[#got + 1] = c or "<end>" end }))
    assert.same({ GZ, "<end>" }, got)
    control.enqueue{ status = 404, json = fx.error_list("not_found", "gone") }
    local r3, e3 = client.data_export:download(JOB, { output_file = path })
    assert.is_nil(r3)
    assert.equal("not_found", e3.code)
    assert.is_false(exists(path))
    inner:close()
  end)
end)

describe("data_export:download inside client:map", function()
  before_each(function() control.reset() end)

  -- A download streams on its own curl multi (core.stream) and blocks the map while it runs; the map's
  -- other tasks go on around it, and its retry wait yields to them like any other.
  it("streams to a file beside concurrent calls, retrying a 503 on the way", function()
    control.default{ json = fx.contact("c1") }
    control.enqueue{ match = { path = PATH }, status = 503, body = "busy", headers = { ["Retry-After"] = "1" } }
    control.enqueue{ match = { path = PATH }, body = GZ, headers = { ["Content-Type"] = "application/octet-stream" } }
    local path = tmppath()
    local client = fx.client()
    local results, errs = client:map({ "a", "download", "b", "c" }, function(item)
      if item == "download" then return client.data_export:download(JOB, { output_file = path }) end
      return client.contacts:find(item)
    end, { concurrency = 4 })
    assert.same({}, errs)
    assert.same({ path = path, bytes = #GZ, content_type = "application/octet-stream" }, results[2])
    assert.equal(GZ, read_file(path))
    for _, i in ipairs{ 1, 3, 4 } do assert.equal("c1", results[i].id) end
    local downloads = 0
    for _, r in ipairs(control.requests()) do
      if r.path == PATH then downloads = downloads + 1 end
    end
    assert.equal(2, downloads)
    assert.equal(5, #control.requests())
    os.remove(path)
  end)
end)
