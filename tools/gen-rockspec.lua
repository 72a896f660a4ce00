-- Writes the release rockspec from the development one and the version in src/version.h, so that the
-- version is written in one place and the two rockspecs cannot list different files.
--
--   lua5.4 tools/gen-rockspec.lua             prints rockspecs/intercom-<version>-1.rockspec
--   lua5.4 tools/gen-rockspec.lua --write     writes it (`make rock` does)
--   lua5.4 tools/gen-rockspec.lua --version   prints the version alone (for the Makefile)
--
-- The release's source.url is the tarball `make rock` makes (build/rock/intercom-<version>.tar.gz), named
-- relative to the folder the rockspec is packed in: `luarocks pack` reads it from there and puts it into
-- intercom-<version>-1.src.rock, which then installs with no network.

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function version()
  local v = read("src/version.h"):match('#define IC_VERSION "([^"]+)"')
  assert(v and v:match("^%d+%.%d+%.%d+$"), "src/version.h: no IC_VERSION \"X.Y.Z\"")
  return v
end

local function generate(v)
  local scm = read("intercom-scm-1.rockspec")
  local out, n = scm:gsub('\nversion = "scm%-1"\n', '\nversion = "' .. v .. '-1"\n', 1)
  assert(n == 1, "intercom-scm-1.rockspec: no version line")
  out, n = out:gsub("\nsource = %b{}\n", ("\nsource = {\n   url = \"intercom-%s.tar.gz\",   -- made by `make rock`\n"
    .. "   dir = \"intercom-%s\",\n}\n"):format(v, v), 1)
  assert(n == 1, "intercom-scm-1.rockspec: no source table")
  return "-- Generated from intercom-scm-1.rockspec and src/version.h by tools/gen-rockspec.lua (`make rock`):\n"
    .. "-- do not edit by hand.\n" .. out
end

local mode = arg[1]
local v = version()
if mode == "--version" then
  io.write(v, "\n")
elseif mode == "--write" then
  local path = "rockspecs/intercom-" .. v .. "-1.rockspec"
  os.execute("mkdir -p rockspecs")
  local f = assert(io.open(path, "wb"))
  f:write(generate(v))
  f:close()
  io.write(path, "\n")
elseif mode == nil then
  io.write(generate(v))
else
  io.stderr:write("usage: lua5.4 tools/gen-rockspec.lua [--write|--version]\n")
  os.exit(2)
end
