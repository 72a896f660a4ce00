-- The progress line on stderr for long work (an export with --all, a download): items, pages, the
-- rate-limit budget left and the time elapsed, redrawn in place. Only when stderr is a terminal (or
-- --progress asks for it): in a pipe or a log file it would be noise, so there it is never written.

local core = require "intercom.core"

local _M = {}

-- Redraws at most this often: a terminal cannot show more, and a fast export must not spend its time
-- drawing.
local INTERVAL = 0.1

--- True when file descriptor `fd` (0, 1 or 2) is a terminal. Lua has no isatty; `test -t` in a shell
--- that inherits our descriptors answers the same question, once per run.
---@param fd integer
---@return boolean
function _M.isatty(fd)
  local r = os.execute(("[ -t %d ]"):format(fd))
  return r == true or r == 0
end

local Progress = {}
Progress.__index = Progress

--- A progress line writing to `file` (stderr); `enabled` false makes every method do nothing.
---@param label string   what is running, e.g. "contacts list"
---@param enabled boolean
---@param file file*|table|nil
---@return table
function _M.new(label, enabled, file)
  return setmetatable({
    label = label, enabled = enabled, file = file or io.stderr,
    started = core.now(), drawn = nil, width = 0,
  }, Progress)
end

local function clock(seconds)
  seconds = math.floor(seconds)
  local h, m, s = math.floor(seconds / 3600), math.floor(seconds / 60) % 60, seconds % 60
  if h > 0 then return ("%d:%02d:%02d"):format(h, m, s) end
  return ("%d:%02d"):format(m, s)
end

--- A byte count for people: 512 B, 1.5 KiB, 12.3 MiB.
---@param n number
---@return string
function _M.bytes(n)
  if n < 1024 then return ("%d B"):format(n) end
  local units = { "KiB", "MiB", "GiB", "TiB" }
  local i = 0
  repeat n = n / 1024; i = i + 1 until n < 1024 or i == #units
  return ("%.1f %s"):format(n, units[i])
end

function Progress:draw(text, force)
  if not self.enabled then return end
  local now = core.now()
  if not force and self.drawn and now - self.drawn < INTERVAL then return end
  self.drawn = now
  local line = self.label .. ": " .. text .. ", " .. clock(now - self.started)
  -- \r and erase-to-end-of-line: the new line replaces the old one whatever their lengths.
  self.file:write("\r" .. line .. "\27[K")
  if self.file.flush then self.file:flush() end
  self.shown = true
end

--- Pages of items so far; `remaining` is the rate-limit budget the last response reported.
---@param items integer
---@param pages integer
---@param remaining integer|nil
---@param force boolean|nil redraw even if the last one was moments ago
function Progress:pages(items, pages, remaining, force)
  local text = ("%d item%s, %d page%s"):format(items, items == 1 and "" or "s", pages, pages == 1 and "" or "s")
  if remaining then text = text .. (", rate limit %s left"):format(tostring(remaining)) end
  self:draw(text, force)
end

--- Bytes received of `total` (nil when the server did not say).
---@param received integer
---@param total integer|nil
---@param force boolean|nil
function Progress:bytes(received, total, force)
  total = total or self.total
  self.total = total
  local text = _M.bytes(received)
  if total and total > 0 then
    text = ("%s of %s (%d%%)"):format(text, _M.bytes(total), math.floor(received * 100 / total))
  end
  self:draw(text, force)
end

--- Clears the line so that another message can be written; the next update draws it again.
function Progress:clear()
  if self.enabled and self.shown then
    self.file:write("\r\27[K")
    self.shown, self.drawn = false, nil
  end
end

--- Ends the line (the last state stays on screen).
function Progress:finish()
  if self.enabled and self.shown then
    self.file:write("\n")
    self.shown = false
  end
end

return _M
