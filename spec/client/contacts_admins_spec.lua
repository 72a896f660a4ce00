-- Contacts and Admins, every operation of API.md: the method, path, query and body that reach the
-- server, and the decoded answer that comes back.

local control = require "support.control"
local fx = require "support.fixtures"
local cjson = require "cjson"

-- { call, args, method, path, query, body }
local CASES = {
  { "admins:identify", {}, "GET", "/me" },
  { "admins:away", { "7", { away_mode_enabled = true, away_mode_reassign = false } }, "PUT", "/admins/7/away", "",
    { away_mode_enabled = true, away_mode_reassign = false } },
  { "admins:list_all_activity_logs", { { created_at_after = "1677253093" } }, "GET", "/admins/activity_logs",
    "created_at_after=1677253093" },
  { "admins:list", { { display_avatar = false } }, "GET", "/admins", "display_avatar=false" },
  { "admins:find", { "991" }, "GET", "/admins/991" },
  { "contacts:list_attached_companies", { "c1", { page = 2, per_page = 10 } }, "GET", "/contacts/c1/companies",
    "page=2&per_page=10" },
  { "contacts:list_attached_segments", { "c1" }, "GET", "/contacts/c1/segments" },
  { "contacts:list_attached_subscriptions", { "c1" }, "GET", "/contacts/c1/subscriptions" },
  { "contacts:attach_subscription", { "c1", { id = "37846", consent_type = "opt_in" } }, "POST",
    "/contacts/c1/subscriptions", "", { id = "37846", consent_type = "opt_in" } },
  { "contacts:detach_subscription", { "c1", "37846" }, "DELETE", "/contacts/c1/subscriptions/37846" },
  { "contacts:list_attached_tags", { "c1" }, "GET", "/contacts/c1/tags" },
  { "contacts:update", { "c1", { name = "New Name" } }, "PUT", "/contacts/c1", "", { name = "New Name" } },
  { "contacts:find", { "c1" }, "GET", "/contacts/c1" },
  { "contacts:delete", { "c1" }, "DELETE", "/contacts/c1" },
  { "contacts:merge_lead_in_user", { { from = "lead1", into = "user1" } }, "POST", "/contacts/merge", "",
    { from = "lead1", into = "user1" } },
  { "contacts:search", { { query = { field = "email", operator = "~", value = "@example.com" } } }, "POST",
    "/contacts/search", "", { query = { field = "email", operator = "~", value = "@example.com" } } },
  { "contacts:list", { { per_page = 50 } }, "GET", "/contacts", "per_page=50" },
  { "contacts:create", { { email = "joe@example.com" } }, "POST", "/contacts", "", { email = "joe@example.com" } },
  { "contacts:archive", { "c1" }, "POST", "/contacts/c1/archive" },
  { "contacts:unarchive", { "c1" }, "POST", "/contacts/c1/unarchive" },
}

describe("contacts and admins operations", function()
  before_each(function() control.reset() end)

  for _, case in ipairs(CASES) do
    local call, args, method, path, query, body = case[1], case[2], case[3], case[4], case[5], case[6]
    it(call .. " sends " .. method .. " " .. path, function()
      local answer = { type = "test.answer", id = "answer-for-" .. call }
      control.enqueue{ json = answer }
      local client = fx.client()
      local rname, mname = call:match("^(%w+):([%w_]+)$")
      local result, err, resp = client[rname][mname](client[rname], (table.unpack or unpack)(args))
      assert.is_nil(err)
      assert.equal("answer-for-" .. call, result.id)
      assert.equal(200, resp.status)
      local req = control.last()
      assert.equal(method, req.method)
      assert.equal(path, req.path)
      assert.equal(query or "", req.query)
      if body then
        assert.equal("application/json", req.headers["content-type"])
        assert.same(body, cjson.decode(req.body))
      else
        assert.equal("", req.body)
      end
    end)
  end

  it("covers every Contacts and Admins row of API.md", function()
    local api = assert(io.open("../shared/API.md")):read("*a")
    local expected = {}
    for r, m in api:gmatch("`client%.(%w+):([%w_]+)%(") do
      if r == "contacts" or r == "admins" then expected[r .. ":" .. m] = true end
    end
    local covered = {}
    for _, case in ipairs(CASES) do covered[case[1]] = true end
    assert.same(expected, covered)
  end)
end)
