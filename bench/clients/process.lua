-- What the Lua bench clients read about their own process (each client puts its directory on package.path).
local _M = {}

--- Resident set size in KB, from /proc/self/status (W5 samples it at page 100 and page 2,000).
function _M.rss_kb()
  local f = io.open("/proc/self/status")
  local kb = f and tonumber(f:read("*a"):match("VmRSS:%s*(%d+)"))
  if f then f:close() end
  return kb
end

return _M
