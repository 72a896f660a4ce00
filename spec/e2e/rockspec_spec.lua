-- The rockspec is complete and consistent: every Lua module under lua/ and every C source under src/ is
-- listed (and nothing that does not exist), and the versions agree.

local function load_rockspec(path)
  local env = {}
  local chunk = assert(loadfile and (setfenv and loadfile(path) or loadfile(path, "t", env)))
  if setfenv then setfenv(chunk, env) end
  chunk()
  return env
end

local function lines(cmd)
  local p = io.popen(cmd)
  local out = {}
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  table.sort(out)
  return out
end

describe("intercom-scm-1.rockspec", function()
  local spec = load_rockspec("intercom-scm-1.rockspec")

  it("is rockspec format 3.0 with the builtin backend and CURL as an external dependency", function()
    assert.equal("3.0", spec.rockspec_format)
    assert.equal("builtin", spec.build.type)
    assert.same({ header = "curl/curl.h", library = "curl" }, spec.external_dependencies.CURL)
  end)

  it("lists every Lua module under lua/, under its module name, and nothing else", function()
    local expected = {}
    for _, file in ipairs(lines("cd lua && find . -name '*.lua' | sed 's|^\\./||'")) do
      local name = file:gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
      expected[name] = "lua/" .. file
    end
    local listed = {}
    for name, v in pairs(spec.build.modules) do
      if type(v) == "string" then listed[name] = v end
    end
    assert.same(expected, listed)
  end)

  it("builds intercom.core from every C source under src/", function()
    local sources = {}
    for _, f in ipairs(lines("ls src/*.c")) do sources[#sources + 1] = f end
    local listed = {}
    for i, f in ipairs(spec.build.modules["intercom.core"].sources) do listed[i] = f end
    table.sort(listed)
    assert.same(sources, listed)
  end)

  it("has a version that agrees with intercom._VERSION and intercom.core._VERSION", function()
    local intercom = require "intercom"
    local core = require "intercom.core"
    assert.equal(intercom._VERSION, core._VERSION)
    assert.equal(require("intercom.client").VERSION, intercom._VERSION)
    assert.equal(spec.package .. "-" .. spec.version .. ".rockspec", "intercom-scm-1.rockspec")
    -- a development rockspec is "scm-N"; a release rockspec is "<_VERSION>-N"
    local v = spec.version
    assert.is_truthy(v:match("^scm%-%d+$") or v:match("^(.-)%-%d+$") == intercom._VERSION,
      "rockspec version " .. v .. " vs intercom._VERSION " .. intercom._VERSION)
    assert.matches("^%d+%.%d+%.%d+$", intercom._VERSION)
  end)
end)
