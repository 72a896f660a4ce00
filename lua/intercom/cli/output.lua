-- What the command line writes to stdout: JSON, one document or one line per item (JSON Lines), written
-- as it comes so that an export of a whole workspace holds one page in memory, never the whole list.

local json = require("intercom").json

local _M = {}

local Output = {}
Output.__index = Output

--- A writer over `file` (anything with :write, io.stdout by default).
---@param file file*|table|nil
---@return table
function _M.new(file)
  return setmetatable({ file = file or io.stdout, lines = 0 }, Output)
end

local function put(self, s)
  local ok, err = self.file:write(s)
  if not ok then error({ io = true, message = "cannot write the output: " .. tostring(err) }, 0) end
end

--- One JSON document (the whole result), on its own line. A result that is a string (a text answer) is
--- written as it is; `true` (a 2xx answer with no body) writes nothing.
---@param value any
function Output:document(value)
  if value == true then return end
  if type(value) == "string" then
    put(self, value)
    if value:sub(-1) ~= "\n" then put(self, "\n") end
    return
  end
  put(self, json.encode(value) .. "\n")
end

--- One item as one line of JSON Lines.
---@param value any
function Output:item(value)
  put(self, json.encode(value) .. "\n")
  self.lines = self.lines + 1
end

--- Raw bytes (a download written to stdout).
---@param chunk string
function Output:bytes(chunk)
  put(self, chunk)
end

function Output:flush()
  if self.file.flush then self.file:flush() end
end

return _M
