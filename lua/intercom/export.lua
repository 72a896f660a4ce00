-- data_export:wait: polls an export job until it is done, so nobody has to write the loop (or reach into
-- intercom.core for a clock). It sends nothing itself: every poll is the resource's own `find`, with the
-- client's retries, and every wait is intercom.sleep (it yields in nginx and inside client:map).

local core = require "intercom.core"
local errors = require "intercom.errors"
local misuse = require "intercom.misuse"

local _M = {}

_M.DEFAULT_TIMEOUT = 600   -- seconds in all: an export of a long period can take minutes
_M.DEFAULT_INTERVAL = 5    -- seconds between polls: a status that changes in minutes needs no more

-- Terminal statuses of the spec's data_export.status other than "completed", and what they mean.
local ENDED = {
  failed = "the export failed",
  canceled = "the export was canceled",
  no_data = "the export found no data in that period (there is nothing to download)",
}

local function seconds(v, what)
  if v == nil then return nil end
  if type(v) ~= "number" or v ~= v or v <= 0 or v == math.huge then
    misuse.raise("data_export:wait: " .. what .. " must be a positive number of seconds, got " .. tostring(v))
  end
  return v
end

local KNOWN = { timeout = true, interval = true, progress = true }

--- Polls `client.data_export:find(job_identifier)` every `interval` seconds until the job's status is
--- "completed" (returns the job), "failed", "canceled" or "no_data" (nil and an `api` error with code
--- "export_<status>"), or `timeout` seconds have passed (nil and a `timeout` error); `err.job` is the last
--- job seen. A failing `find` returns its own error. `progress(job)` is called after every poll.
---@param self table the data_export resource
---@param job_identifier string
---@param opts {timeout: number|nil, interval: number|nil, progress: fun(job: table)|nil}|nil
---@return table|nil job, intercom.ErrorObject|nil err, intercom.Response|nil response
function _M.wait(self, job_identifier, opts)
  if type(self) ~= "table" or type(self.find) ~= "function" then
    misuse.raise("data_export:wait: call it with a colon: client.data_export:wait(job_identifier, [opts])")
  end
  if (type(job_identifier) ~= "string" or job_identifier == "") and type(job_identifier) ~= "number" then
    misuse.raise("data_export:wait: job_identifier must be a non-empty string, got " .. tostring(job_identifier))
  end
  if opts ~= nil and type(opts) ~= "table" then
    misuse.raise("data_export:wait: opts must be a table, got " .. type(opts))
  end
  opts = opts or {}
  for k in pairs(opts) do
    if not KNOWN[k] then misuse.raise("data_export:wait: unknown option " .. tostring(k)) end
  end
  local timeout = seconds(opts.timeout, "timeout") or _M.DEFAULT_TIMEOUT
  local interval = seconds(opts.interval, "interval") or _M.DEFAULT_INTERVAL
  local progress = opts.progress
  if progress ~= nil and type(progress) ~= "function" then
    misuse.raise("data_export:wait: progress must be a function, got " .. type(progress))
  end
  local sleep = require("intercom").sleep
  local path = "/export/content/data/" .. tostring(job_identifier)
  local started = core.now()
  local polls = 0
  while true do
    local job, err, resp = self:find(job_identifier)
    if not job then return nil, err, resp end
    polls = polls + 1
    if progress then progress(job) end
    local status = type(job) == "table" and job.status or nil
    if status == "completed" then return job, nil, resp end
    if ENDED[status] then
      return nil, errors.new{
        kind = "api", status = resp and resp.status, code = "export_" .. status, job = job,
        message = ENDED[status] .. " (job " .. tostring(job_identifier) .. ")",
        method = "GET", path = path, response = resp, request_id = resp and resp.request_id, retryable = false,
      }, resp
    end
    local elapsed = core.now() - started
    if elapsed >= timeout then
      return nil, errors.new{
        kind = "timeout", job = job, retryable = true, method = "GET", path = path, response = resp,
        message = ("data export %s still %s after %.0f s (%d polls)"):format(tostring(job_identifier),
          tostring(status), elapsed, polls),
      }, resp
    end
    sleep(math.min(interval, timeout - elapsed))
  end
end

return _M
