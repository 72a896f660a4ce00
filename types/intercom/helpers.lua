---@meta intercom.helpers
-- LuaLS definitions of the methods that are not operations (lua/intercom/export.lua, attached by
-- lua/intercom/resource.lua); written by hand, never loaded at run time.

---@class intercom.WaitOpts
---@field timeout? number # seconds to wait in all (default 600)
---@field interval? number # seconds between two polls (default 5)
---@field progress? fun(job: intercom.DataExport) # called with the job after every poll

---@class intercom.DataExportResource
local DataExportResource = {}

--- Polls find(job_identifier) until the export is "completed" (returns the job); "failed", "canceled"
--- or "no_data" give an api error with code "export_<status>", running out of time a timeout error
--- (err.job is the last job seen).
---@param job_identifier string|integer
---@param opts? intercom.WaitOpts
---@return intercom.DataExport|nil result
---@return intercom.ErrorObject|nil err
---@return intercom.Response|nil response
function DataExportResource:wait(job_identifier, opts) end
