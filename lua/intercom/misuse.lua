-- Raising misuse errors at the caller's line (DESIGN.md: "Misuse raises, at once and before any request").
--
-- Checks happen a few calls deep inside the library; rather than thread an error level through every
-- helper, `raise` walks up the stack to the first frame outside intercom's own files and blames that one.

local _M = {}

local this = debug.getinfo(1, "S").source           -- "@.../intercom/misuse.lua"
local dir = this:match("^(@.*[/\\])misuse%.lua$") or "@intercom/"
local entry = dir:sub(1, -#"intercom/" - 1) .. "intercom.lua"   -- the entry point beside the folder

local function ours(source)
  return source:sub(1, #dir) == dir or source == entry
end

--- True when a function's `source` (debug.getinfo's) is one of the library's own files.
_M.ours = ours

--- Raises `msg` as an error located at the first caller outside the library.
function _M.raise(msg)
  local level = 2
  while true do
    local info = debug.getinfo(level, "S")
    if not info then level = 1; break end
    if info.what ~= "C" and not ours(info.source) then break end
    level = level + 1
  end
  error(msg, level)
end

return _M
