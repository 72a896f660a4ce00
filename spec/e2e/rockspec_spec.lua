-- The rockspecs are complete and consistent: every Lua module under lua/ and every C source under src/ is
-- listed (and nothing that does not exist), the version is written once (src/version.h) and agrees
-- everywhere, and the release rockspec is what tools/gen-rockspec.lua makes of the development one.

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

  it("is rockspec format 3.0 with the builtin backend, needs no variables, and installs types/", function()
    assert.equal("3.0", spec.rockspec_format)
    assert.equal("builtin", spec.build.type)
    -- libcurl is dlopen()ed, its header found by the compiler: an external dependency would make
    -- luarocks look for curl.h itself, and miss Debian's multiarch folder (CURL_INCDIR needed)
    assert.is_nil(spec.external_dependencies)
    local core = spec.build.modules["intercom.core"]
    assert.is_nil(core.incdirs)
    assert.is_nil(core.libdirs)
    assert.same({ "types" }, spec.build.copy_directories)
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
    local f = assert(io.open("src/version.h"))
    local header = f:read("*a")
    f:close()
    assert.equal(header:match('#define IC_VERSION "([^"]+)"'), core._VERSION)
    assert.equal(require("intercom.client").VERSION, intercom._VERSION)
    assert.equal(spec.package .. "-" .. spec.version .. ".rockspec", "intercom-scm-1.rockspec")
    -- a development rockspec is "scm-N"; a release rockspec is "<_VERSION>-N"
    local v = spec.version
    assert.is_truthy(v:match("^scm%-%d+$") or v:match("^(.-)%-%d+$") == intercom._VERSION,
      "rockspec version " .. v .. " vs intercom._VERSION " .. intercom._VERSION)
    assert.matches("^%d+%.%d+%.%d+$", intercom._VERSION)
  end)
end)

describe("the release rockspec", function()
  local version = require("intercom")._VERSION
  local path = "rockspecs/intercom-" .. version .. "-1.rockspec"

  it("is the one tools/gen-rockspec.lua makes from intercom-scm-1.rockspec and src/version.h", function()
    local f = assert(io.open(path), path .. " is missing: run `make rockspec`")
    local committed = f:read("*a")
    f:close()
    local p = io.popen("lua5.4 tools/gen-rockspec.lua")
    local generated = p:read("*a")
    p:close()
    assert.is_true(committed == generated, path .. " is stale: run `make rockspec`")
  end)

  it("is version <_VERSION>-1, built from the tarball `make rock` makes, with the same build", function()
    local rel = load_rockspec(path)
    local scm = load_rockspec("intercom-scm-1.rockspec")
    assert.equal(version .. "-1", rel.version)
    assert.equal("intercom-" .. version .. ".tar.gz", rel.source.url)
    assert.equal("intercom-" .. version, rel.source.dir)
    assert.same(scm.build, rel.build)
    assert.same(scm.dependencies, rel.dependencies)
    -- exactly one release rockspec: an old one left beside would be a second version number
    assert.same({ "rockspecs/intercom-" .. version .. "-1.rockspec" }, lines("ls rockspecs/*.rockspec"))
  end)
end)
