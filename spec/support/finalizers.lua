-- Finalizers that run inside the core's own allocations, for the specs of the lifecycle rule
-- (src/handle.h) and of the shape cache (src/json_shapes.c): any Lua allocation may run a finalizer,
-- so a spec makes the collector run them as often as it can while the function under test allocates.

local _M = {}

--- Leaves behind a finalizable object whose finalizer calls fn (LuaJIT runs __gc for userdata only).
function _M.finalizable(fn)
  if newproxy then
    local u = newproxy(true)
    getmetatable(u).__gc = fn
  else
    setmetatable({}, { __gc = fn })
  end
end

--- A chain of finalizers: each runs fn() and, while fn returns true, leaves the next one behind. Under
--- an aggressive collector one of them runs every few allocations.
function _M.chain(fn)
  local function arm()
    _M.finalizable(function()
      if fn() then arm() end
    end)
  end
  arm()
end

--- Switches the collector to a pace that never lets garbage wait (on), or back to the default (off).
function _M.aggressive(on)
  if _VERSION == "Lua 5.4" then
    if on then
      collectgarbage("incremental", 50, 1000, 10)
      collectgarbage("step", 0)       -- sets the pace from now on (not the debt left by another mode)
    else
      collectgarbage("generational")
    end
  else
    collectgarbage("setpause", on and 50 or 200)
    collectgarbage("setstepmul", on and 1000 or 200)
    if on then collectgarbage("step", 0) end   -- the new pace starts now, not after this cycle
  end
end

return _M
