-- Smoke test of an installed intercom-lua, run from outside the source tree by tools/luarocks-smoke.sh:
--   lua smoke.lua TREE
-- Checks that every module and the C core load from TREE (and nowhere else), that the codec works,
-- and, when INTERCOM_TEST_SERVER is set, that one request goes through. Prints "smoke ok ..." last.

local tree = assert(arg[1], "usage: lua smoke.lua TREE")

local intercom = require "intercom"
local core = require "intercom.core"

local function from_tree(name, path)
  local found = assert(package.searchpath(name, path), name .. " not found")
  assert(found:sub(1, #tree) == tree, name .. " loaded from " .. found .. ", not from " .. tree)
  return found
end

from_tree("intercom", package.path)
from_tree("intercom.core", package.cpath)
for _, m in ipairs{ "client", "errors", "pager", "query", "webhooks", "scheduler", "download", "throttle",
                    "transport.curl", "transport.ngx" } do
  from_tree("intercom." .. m, package.path)
  require("intercom." .. m)
end

assert(core._VERSION == intercom._VERSION, "core " .. core._VERSION .. " vs intercom " .. intercom._VERSION)
assert(intercom.json.encode(intercom.array{}) == "[]")
assert(intercom.json.decode('{"n":9007199254740993}').n == (math.tointeger and math.tointeger(9007199254740993)
  or 9007199254740993))

-- libcurl is dlopen()ed on first use (src/curlapi.h), so a build that cannot find it still loads: check it.
assert(core.curl_version:match("^libcurl/%d"), "libcurl did not load: " .. tostring(core.curl_version))

local fetched = "no request"
local server = os.getenv("INTERCOM_TEST_SERVER")
if server and server ~= "" then
  local client = intercom.new{ token = "smoke-token", base_url = server, max_retries = 0 }
  local contact, err = client.contacts:find("smoke")
  assert(contact, tostring(err))
  fetched = "fetched " .. contact.id
end

print(("smoke ok %s on %s (%s)"):format(intercom._VERSION, jit and jit.version or _VERSION, fetched))
