-- The operations table as the specs walk it (contract_spec, coverage_spec): every operation in key order,
-- read through the library's own accessor (intercom.operations_list), and the client object a resource
-- name leads to.

local operations = require "intercom.operations"
local operations_list = require "intercom.operations_list"

local _M = {}

--- Every operation as { key = "resource:method", rname, mname, op = the raw line, entry = the accessor's
--- entry }, sorted by key.
function _M.all()
  local list = {}
  for _, e in ipairs(operations_list.entries()) do
    list[#list + 1] = { key = e.key, rname = e.resource, mname = e.name, op = operations[e.resource][e.name],
                        entry = e }
  end
  return list
end

--- client["news.items"] is client.news.items.
function _M.resource_of(client, rname)
  local obj = client
  for part in rname:gmatch("[^.]+") do obj = obj[part] end
  return obj
end

return _M
