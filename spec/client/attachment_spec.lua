-- intercom.attachment: attachment_files entries from a file or a string, and what reaches the server.

local control = require "support.control"
local fx = require "support.fixtures"
local cjson = require "cjson"
local mime = require "mime"
local intercom = require "intercom"
local core = require "intercom.core"

local function tmpfile(content, suffix)
  local path = os.tmpname() .. (suffix or "")
  local f = assert(io.open(path, "wb"))
  f:write(content)
  f:close()
  return path
end

-- Every byte value, CR/LF and NUL included, so that nothing is treated as text on the way.
local BINARY do
  local t = {}
  for i = 0, 255 do t[#t + 1] = string.char(i) end
  BINARY = table.concat(t) .. "\r\n\0end"
end

describe("intercom.attachment", function()
  it("reads a file: base64 data, the base name, a type from the extension", function()
    local path = tmpfile(BINARY, ".png")
    local a = intercom.attachment{ path = path }
    os.remove(path)
    assert.same({ "content_type", "data", "name" }, (function()
      local keys = {}
      for k in pairs(a) do keys[#keys + 1] = k end
      table.sort(keys)
      return keys
    end)())
    assert.equal("image/png", a.content_type)
    assert.equal(path:match("[^/]+$"), a.name)
    assert.equal(mime.b64(BINARY), a.data)
    assert.equal(BINARY, core.base64_decode(a.data))
  end)

  it("takes bytes with a name, and an explicit name and type win", function()
    local a = intercom.attachment{ data = "hello, world\n", name = "hello.txt" }
    assert.same({ content_type = "text/plain", data = "aGVsbG8sIHdvcmxkCg==", name = "hello.txt" }, a)
    local path = tmpfile("{}", ".bin")
    local b = intercom.attachment{ path = path, name = "config.json", content_type = "application/x-custom" }
    os.remove(path)
    assert.same({ content_type = "application/x-custom", data = "e30=", name = "config.json" }, b)
    assert.same({ content_type = "text/plain", data = "", name = "empty.txt" },
      intercom.attachment{ data = "", name = "empty.txt" })
  end)

  it("guesses the content type from the extension, case-insensitively", function()
    local ct = intercom.attachment.content_type
    assert.equal("application/pdf", ct("REPORT.PDF"))
    assert.equal("image/jpeg", ct("photo.Jpeg"))
    assert.equal("application/gzip", ct("export.csv.gz"))
    assert.equal("text/csv", ct("a.b.csv"))
    assert.equal("application/octet-stream", ct("Makefile"))
    assert.equal("application/octet-stream", ct("archive.unknownext"))
  end)

  local function raises(spec, needle)
    local ok, msg = pcall(intercom.attachment, spec)
    assert.is_false(ok)
    assert.equal("string", type(msg))
    assert.truthy(msg:find(needle, 1, true), msg)
    assert.truthy(msg:find("attachment_spec.lua", 1, true), msg)   -- blamed on the caller's line
  end

  it("raises on misuse, naming what is wrong", function()
    raises({ path = "/nonexistent/dir/report.pdf" }, "cannot read /nonexistent/dir/report.pdf")
    raises({ path = "/tmp" }, "cannot read /tmp")
    raises({ data = "x" }, "data needs a name")
    raises({ data = "x", name = "x.txt", path = "/etc/hostname" }, "either path or data")
    raises({}, "either path or data")
    raises({ data = "x", name = "x.txt", contnet_type = "text/plain" }, 'did you mean "content_type"')
    raises({ data = 42, name = "x.txt" }, "expected a string")
    raises({ data = "x", name = "x.txt", content_type = "text/plain\r\nX-Evil: 1" }, "CR, LF or NUL")
  end)

  it("refuses a file or a string over MAX_BYTES", function()
    local saved = intercom.attachment.MAX_BYTES
    intercom.attachment.MAX_BYTES = 1000
    local path = tmpfile(string.rep("x", 1001), ".txt")
    local ok1, msg1 = pcall(intercom.attachment, { path = path })
    local ok2, msg2 = pcall(intercom.attachment, { data = string.rep("x", 1001), name = "big.txt" })
    local ok3 = pcall(intercom.attachment, { data = string.rep("x", 1000), name = "fits.txt" })
    intercom.attachment.MAX_BYTES = saved
    os.remove(path)
    assert.is_false(ok1)
    assert.truthy(msg1:find("1001 bytes, over the 1000-byte limit", 1, true), msg1)
    assert.truthy(msg1:find(path, 1, true), msg1)
    assert.is_false(ok2)
    assert.truthy(msg2:find("limit", 1, true), msg2)
    assert.is_true(ok3)
    assert.equal(100 * 1024 * 1024, intercom.attachment.MAX_BYTES)
  end)
end)

describe("attachments over HTTP", function()
  before_each(function() control.reset() end)

  it("a conversation reply carries attachment_files with the exact base64 and fields", function()
    control.enqueue{ json = { type = "conversation", id = "c1" } }
    local path = tmpfile(BINARY, ".pdf")
    local reply = {
      message_type = "comment", type = "admin", admin_id = "991266", body = "See attached",
      attachment_files = { intercom.attachment{ path = path },
                           intercom.attachment{ data = "a,b\n1,2\n", name = "rows.csv" } },
    }
    local conv = assert(fx.client().conversations:reply("c1", reply))
    os.remove(path)
    assert.equal("c1", conv.id)
    local req = control.last()
    assert.equal("POST", req.method)
    assert.equal("/conversations/c1/reply", req.path)
    assert.equal("application/json", req.headers["content-type"])
    local sent = cjson.decode(req.body)
    local files = sent.attachment_files
    assert.equal(2, #files)
    assert.same({ content_type = "application/pdf", name = path:match("[^/]+$"), data = mime.b64(BINARY) }, files[1])
    assert.equal(BINARY, (mime.unb64(files[1].data)))
    assert.same({ content_type = "text/csv", name = "rows.csv", data = mime.b64("a,b\n1,2\n") }, files[2])
    assert.equal("See attached", sent.body)
  end)

  it("a ticket reply carries a multi-megabyte attachment intact", function()
    control.enqueue{ json = { type = "ticket", id = "t1" } }
    local blob = BINARY:rep(12000)                   -- about 3 MB
    local a = intercom.attachment{ data = blob, name = "dump.bin" }
    assert(fx.client().tickets:reply("t1", { message_type = "comment", type = "user", intercom_user_id = "u1",
                                              body = "logs", attachment_files = { a } }))
    local req = control.last()
    assert.equal("/tickets/t1/reply", req.path)
    local sent = cjson.decode(req.body).attachment_files[1]
    assert.equal("application/octet-stream", sent.content_type)
    assert.equal("dump.bin", sent.name)
    assert.equal(#blob, #(mime.unb64(sent.data)))
    assert.equal(blob, (mime.unb64(sent.data)))
  end)
end)
