-- intercom.attachment: builds one entry of `attachment_files` (conversations:reply, tickets:reply,
-- conversations:create ...), the spec's conversation_attachment_files: { content_type, data, name },
-- with `data` the base64 of the file.
--
--   local file = intercom.attachment{ path = "/tmp/report.pdf" }
--   local note = intercom.attachment{ data = "hello", name = "hello.txt" }
--   client.conversations:reply(id, { message_type = "comment", type = "admin", admin_id = "42",
--                                    body = "See attached", attachment_files = { file, note } })
--
-- Misuse raises at the caller's line: an unknown option, both or neither of path and data, a file that
-- cannot be read (the message names the path), a file over MAX_BYTES.

local core = require "intercom.core"
local misuse = require "intercom.misuse"
local options = require "intercom.options"

---@class intercom.AttachmentSpec
---@field path? string          a file to read
---@field data? string          the bytes, instead of path (then name is required)
---@field name? string          defaults to the file's base name
---@field content_type? string  defaults to a guess from the name's extension

---@class intercom.AttachmentFile
---@field content_type string
---@field data string  base64
---@field name string

---@class intercom.attachment
---@overload fun(spec: intercom.AttachmentSpec): intercom.AttachmentFile
local _M = {}

--- The largest file accepted, in bytes. Intercom's help center states 100 MB as the size limit of an
--- individual attachment; the API reference itself only limits a request to 10 files.
_M.MAX_BYTES = 100 * 1024 * 1024

--- Content types by file extension (lowercase), for when `content_type` is not given.
_M.TYPES = {
  txt = "text/plain", log = "text/plain", md = "text/markdown", csv = "text/csv", tsv = "text/tab-separated-values",
  html = "text/html", htm = "text/html", css = "text/css", xml = "application/xml", ics = "text/calendar",
  json = "application/json", js = "text/javascript", pdf = "application/pdf", rtf = "application/rtf",
  png = "image/png", jpg = "image/jpeg", jpeg = "image/jpeg", gif = "image/gif", webp = "image/webp",
  svg = "image/svg+xml", bmp = "image/bmp", tif = "image/tiff", tiff = "image/tiff", ico = "image/x-icon",
  heic = "image/heic", heif = "image/heif", avif = "image/avif",
  mp3 = "audio/mpeg", wav = "audio/wav", ogg = "audio/ogg", m4a = "audio/mp4",
  mp4 = "video/mp4", mov = "video/quicktime", webm = "video/webm", avi = "video/x-msvideo",
  zip = "application/zip", gz = "application/gzip", tgz = "application/gzip", tar = "application/x-tar",
  ["7z"] = "application/x-7z-compressed", rar = "application/vnd.rar",
  doc = "application/msword", xls = "application/vnd.ms-excel", ppt = "application/vnd.ms-powerpoint",
  docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  pptx = "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  odt = "application/vnd.oasis.opendocument.text", ods = "application/vnd.oasis.opendocument.spreadsheet",
  eml = "message/rfc822",
}

--- The type used when the extension is unknown.
_M.DEFAULT_TYPE = "application/octet-stream"

local function nonempty_string(v, name)
  if type(v) ~= "string" or v == "" then misuse.raise(name .. ": expected a non-empty string, got " .. type(v)) end
  return v
end

local KNOWN = {
  path = nonempty_string,
  name = nonempty_string,
  content_type = function(v, name) return nonempty_string(options.check_header_value(v, name), name) end,
  data = function(v, name)
    if type(v) ~= "string" then misuse.raise(name .. ": expected a string (the file's bytes), got " .. type(v)) end
    return v
  end,
}

--- The content type for a file name, from its extension (case-insensitive); DEFAULT_TYPE if unknown.
---@param name string
---@return string
function _M.content_type(name)
  local ext = tostring(name):match("%.([%w]+)$")
  return ext and _M.TYPES[ext:lower()] or _M.DEFAULT_TYPE
end

-- The last component of a path ("/tmp/a/report.pdf" -> "report.pdf"; Windows separators too).
local function basename(path)
  return path:match("([^/\\]+)[/\\]*$") or path
end

local function too_big(what, n)
  misuse.raise(("intercom.attachment: %s is %d bytes, over the %d-byte limit of one attachment (MAX_BYTES)")
    :format(what, n, _M.MAX_BYTES))
end

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then misuse.raise("intercom.attachment: cannot read " .. path .. ": " .. tostring(err)) end
  -- A directory opens fine on POSIX; the first read is what fails (and seek would report a huge size).
  local probe, perr = f:read(0)
  if probe == nil and perr then f:close(); misuse.raise("intercom.attachment: cannot read " .. path .. ": " .. perr) end
  local size = f:seek("end")
  if size and size > _M.MAX_BYTES then f:close(); too_big(path, size) end
  f:seek("set", 0)
  local data, rerr = f:read("*a")
  f:close()
  if data == nil then misuse.raise("intercom.attachment: cannot read " .. path .. ": " .. tostring(rerr)) end
  return data
end

--- Builds one `attachment_files` entry: `{ content_type = ..., data = <base64>, name = ... }`.
--- `spec`: `path` (a file to read) or `data` (the bytes) with `name`; optional `content_type` (guessed
--- from the name's extension), optional `name` with `path` (defaults to the file's base name).
---@param spec intercom.AttachmentSpec
---@return intercom.AttachmentFile
function _M.new(spec)
  local o = options.check(spec, KNOWN, "intercom.attachment")
  if (o.path == nil) == (o.data == nil) then
    misuse.raise("intercom.attachment: give either path or data (with name)")
  end
  local data, name = o.data, o.name
  if o.path then
    data = read_file(o.path)
    name = name or basename(o.path)
  else
    if name == nil then misuse.raise("intercom.attachment: data needs a name, e.g. name = \"notes.txt\"") end
    if #data > _M.MAX_BYTES then too_big("data", #data) end
  end
  return {
    content_type = o.content_type or _M.content_type(name),
    data = core.base64_encode(data),
    name = name,
  }
end

return setmetatable(_M, {
  __call = function(_, spec) return _M.new(spec) end,
})
