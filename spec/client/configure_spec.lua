-- Configuring from the environment: the default client (intercom.contacts, intercom.default_client(),
-- intercom.configure{...}) reads INTERCOM_API_KEY, INTERCOM_REGION and INTERCOM_BASE_URL, and options
-- given explicitly win. Each case runs in a fresh interpreter with exactly those variables set, and
-- checks what reached the test server. Also intercom.sleep and intercom.now.

local control = require "support.control"
local fx = require "support.fixtures"
local intercom = require "intercom"
local util = require "support.util"

local LUA = jit and "luajit" or "lua5.4"
local CPATH = jit and "build/luajit" or "build/5.4"

-- Runs `code` in a fresh interpreter with only the given INTERCOM_* variables; returns exit code and output.
local function run_lua(env, source)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(source)
  f:close()
  local unset, set = {}, {}
  for _, name in ipairs{ "INTERCOM_API_KEY", "INTERCOM_REGION", "INTERCOM_BASE_URL" } do
    unset[#unset + 1] = "-u " .. name
    if env[name] then set[#set + 1] = ("%s=%q"):format(name, env[name]) end
  end
  local vars = { table.concat(unset, " "), table.concat(set, " ") }
  local cmd = ("env %s LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='%s/?.so;;' %s %s 2>&1; echo \"exit=$?\"")
    :format(table.concat(vars, " "), CPATH, LUA, path)
  local p = io.popen(cmd)
  local out = p:read("*a")
  p:close()
  os.remove(path)
  local code = tonumber(out:match("exit=(%d+)%s*$"))
  return code, (out:gsub("exit=%d+%s*$", ""))
end

describe("the default client and the environment", function()
  before_each(function() control.reset() end)

  it("intercom.contacts:find with no configure uses INTERCOM_API_KEY and INTERCOM_BASE_URL", function()
    control.enqueue{ json = fx.contact("c-env") }
    local code, out = run_lua({ INTERCOM_API_KEY = "env-token", INTERCOM_BASE_URL = control.url() }, [[
      local intercom = require "intercom"
      local c = assert(intercom.contacts:find("c-env"))
      print("got " .. c.id)
    ]])
    assert.equal(0, code, out)
    assert.matches("got c-env", out, 1, true)
    local req = control.last()
    assert.equal("/contacts/c-env", req.path)
    assert.equal("Bearer env-token", req.headers["authorization"])
  end)

  it("options given to configure win over the environment", function()
    control.enqueue{ json = fx.contact("c-opt") }
    local code, out = run_lua({ INTERCOM_API_KEY = "env-token", INTERCOM_BASE_URL = util.closed_port_url() },
      ([[
      local intercom = require "intercom"
      intercom.configure{ token = "explicit-token", base_url = %q, max_retries = 0 }
      print("got " .. assert(intercom.contacts:find("c-opt")).id)
    ]]):format(control.url()))
    assert.equal(0, code, out)
    assert.matches("got c-opt", out, 1, true)
    assert.equal("Bearer explicit-token", control.last().headers["authorization"])
  end)

  it("INTERCOM_REGION picks the region's host (any case); an explicit region or base_url wins", function()
    local code, out = run_lua({ INTERCOM_REGION = "EU" }, [[
      local intercom = require "intercom"
      print("default " .. intercom.default_client().base_url)
      print("configured " .. intercom.configure{ region = "au" }.base_url)
      print("explicit base " .. intercom.configure{ base_url = "http://127.0.0.1:9" }.base_url)
      print("kept " .. intercom.configure{ timeout = 5 }.base_url)
    ]])
    assert.equal(0, code, out)
    assert.matches("default https://api.eu.intercom.io\n", out, 1, true)
    assert.matches("configured https://api.au.intercom.io\n", out, 1, true)
    assert.matches("explicit base http://127.0.0.1:9\n", out, 1, true)
    assert.matches("kept https://api.eu.intercom.io\n", out, 1, true)
    -- an explicit region over INTERCOM_BASE_URL: no "both" complaint, the region is used
    code, out = run_lua({ INTERCOM_BASE_URL = "http://127.0.0.1:9" }, [[
      print(require("intercom").configure{ region = "eu" }.base_url)
    ]])
    assert.equal(0, code, out)
    assert.matches("https://api.eu.intercom.io", out, 1, true)
  end)

  it("raises, naming the variables, on both INTERCOM_REGION and INTERCOM_BASE_URL or an unknown region",
    function()
      local code, out = run_lua({ INTERCOM_REGION = "eu", INTERCOM_BASE_URL = "http://127.0.0.1:9" }, [[
        local intercom = require "intercom"
        local ok, err = pcall(function() return intercom.contacts end)
        print(ok, err)
      ]])
      assert.equal(0, code, out)
      assert.matches("false", out)
      assert.matches("both INTERCOM_REGION and INTERCOM_BASE_URL are set", out, 1, true)
      code, out = run_lua({ INTERCOM_REGION = "mars" }, [[
        print(pcall(require("intercom").default_client))
      ]])
      assert.equal(0, code, out)
      assert.matches('INTERCOM_REGION is "mars": expected us, eu or au', out, 1, true)
    end)

  it("with neither a token nor INTERCOM_API_KEY a call raises before anything is sent", function()
    local code, out = run_lua({ INTERCOM_BASE_URL = control.url() }, [[
      print(pcall(function() return require("intercom").contacts:find("x") end))
    ]])
    assert.equal(0, code, out)
    assert.matches("no access token", out, 1, true)
    assert.equal(0, #control.requests())
  end)
end)

describe("intercom.sleep and intercom.now", function()
  it("now is a monotonic clock in seconds; sleep waits that long", function()
    local t0 = intercom.now()
    intercom.sleep(0.2)
    local dt = intercom.now() - t0
    assert.is_true(dt >= 0.19 and dt < 2, "slept " .. dt)
    intercom.sleep(0)
  end)

  it("sleep raises on what is not a number of seconds", function()
    for _, bad in ipairs{ -1, "1", 0 / 0, math.huge, {} } do
      assert.has_error(function() intercom.sleep(bad) end)
    end
    assert.has_error(function() intercom.sleep() end, nil)
  end)

  it("inside client:map, sleep lets the other tasks run", function()
    local client = fx.client()
    local t0 = intercom.now()
    local results = client:map({ 1, 2, 3, 4 }, function(i)
      intercom.sleep(0.4)
      return i * 10
    end, { concurrency = 4 })
    local dt = intercom.now() - t0
    assert.same({ 10, 20, 30, 40 }, results)
    -- one after the other would take 1.6 s
    assert.is_true(dt >= 0.39 and dt < 1.2, "4 sleeps of 0.4 s took " .. dt)
  end)
end)
