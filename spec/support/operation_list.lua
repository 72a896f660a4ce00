-- operations.lua as the specs walk it (contract_spec, coverage_spec): every operation in key order, and
-- the client object a resource name leads to.

local operations = require "intercom.operations"

local _M = {}

--- Every operation as { key = "resource:method", rname, mname, op }, sorted by key.
function _M.all()
  local list = {}
  for rname, ops in pairs(operations) do
    for mname, op in pairs(ops) do
      list[#list + 1] = { key = rname .. ":" .. mname, rname = rname, mname = mname, op = op }
    end
  end
  table.sort(list, function(a, b) return a.key < b.key end)
  return list
end

--- client["news.items"] is client.news.items.
function _M.resource_of(client, rname)
  local obj = client
  for part in rname:gmatch("[^.]+") do obj = obj[part] end
  return obj
end

return _M
