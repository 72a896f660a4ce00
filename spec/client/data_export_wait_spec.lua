-- client.data_export:wait polls GET /export/content/data/{id} until the job completes, fails or the time
-- is up; the test server scripts the job's statuses and records each poll.

local control = require "support.control"
local fx = require "support.fixtures"
local intercom = require "intercom"

local function job(status)
  return { job_identifier = "job1", status = status, download_url = "", download_expires_at = "" }
end

local function polls()
  local n = 0
  for _, r in ipairs(control.requests()) do
    assert.equal("GET", r.method)
    assert.equal("/export/content/data/job1", r.path)
    n = n + 1
  end
  return n
end

describe("data_export:wait", function()
  before_each(function() control.reset() end)

  it("polls until completed, calling progress with every job seen, and returns the job", function()
    control.enqueue{ { json = job("pending") }, { json = job("in_progress") }, { json = job("completed") } }
    local seen = {}
    local t0 = intercom.now()
    local done, err, resp = fx.client().data_export:wait("job1", {
      interval = 0.1, progress = function(j) seen[#seen + 1] = j.status end })
    assert.is_nil(err)
    assert.equal("completed", done.status)
    assert.equal(200, resp.status)
    assert.same({ "pending", "in_progress", "completed" }, seen)
    assert.equal(3, polls())
    assert.is_true(intercom.now() - t0 >= 0.19, "two waits of 0.1 s")
  end)

  it("a failed, canceled or no_data job is an api error with code export_<status> and the job", function()
    for _, status in ipairs{ "failed", "canceled", "no_data" } do
      control.reset()
      control.enqueue{ { json = job("in_progress") }, { json = job(status) } }
      local done, err = fx.client().data_export:wait("job1", { interval = 0.05 })
      assert.is_nil(done)
      assert.equal("api", err.kind)
      assert.equal("export_" .. status, err.code)
      assert.equal(status, err.job.status)
      assert.is_false(err.retryable)
      assert.matches("job1", tostring(err), 1, true)
      assert.equal(2, polls())
    end
  end)

  it("gives up after timeout with a timeout error carrying the last job", function()
    control.default{ json = job("in_progress") }
    local t0 = intercom.now()
    local done, err = fx.client().data_export:wait("job1", { timeout = 0.5, interval = 0.1 })
    local dt = intercom.now() - t0
    control.default(nil)
    assert.is_nil(done)
    assert.equal("timeout", err.kind)
    assert.equal("in_progress", err.job.status)
    assert.matches("still in_progress after", err.message, 1, true)
    assert.is_true(dt >= 0.45 and dt < 3, "waited " .. dt)
    local n = polls()
    assert.is_true(n >= 3 and n <= 7, n .. " polls")
  end)

  it("returns the error of a failing find at once", function()
    control.enqueue{ status = 404, json = fx.error_list("not_found", "Job Not Found") }
    local done, err = fx.client().data_export:wait("job1", { interval = 0.05 })
    assert.is_nil(done)
    assert.equal("not_found", err.code)
    assert.equal(1, polls())
  end)

  it("raises on misuse before anything is sent", function()
    local client = fx.client()
    assert.has_error(function() client.data_export:wait(nil) end)
    assert.has_error(function() client.data_export:wait("job1", { timout = 5 }) end)
    assert.has_error(function() client.data_export:wait("job1", { interval = 0 }) end)
    assert.has_error(function() client.data_export:wait("job1", { progress = "x" }) end)
    assert.has_error(function() client.data_export.wait("job1") end)
    assert.equal(0, #control.requests())
  end)
end)
