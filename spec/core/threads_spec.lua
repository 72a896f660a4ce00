-- The core's process-wide state is initialised once, thread-safely (src/curlapi.c, src/json.c,
-- src/base64.c). Two threads with a Lua state each start at once (tools/thread_host.c) and use what has
-- global state: loading libcurl and curl_global_init (a session), the "C" locale of JSON numbers (a
-- float), base64's table. Host and core are built with ThreadSanitizer, which reports a data race
-- whenever two threads touch the same memory without synchronisation, whether or not it went wrong this
-- time. Before the fix (plain globals: `if (!ready) { ...; ready = 1; }`) it reported the loader's flag
-- and function table, and curl_global_init ran twice at once.
--
-- The host links liblua5.4 in the Lua 5.4 run and libluajit in the LuaJIT run; about 2 s (two clang builds).

local sh = require("support.util").sh

local SCRIPT = [[
local core = require "intercom.core"
local s = core.session()
assert(core.curl_version:find("libcurl", 1, true))
s:close()
assert(core.json_encode{ x = 1.5 } == '{"x":1.5}')
assert(core.json_decode('{"x": 2.25}').x == 2.25)
assert(core.base64_decode(core.base64_encode("threads")) == "threads")
]]

describe("two threads, each with its own Lua state", function()
  it("use the core at once without a data race (ThreadSanitizer)", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir .. "/intercom"))
    local lua_inc, lua_lib = "/usr/include/lua5.4", "-llua5.4"
    if jit then lua_inc, lua_lib = "/usr/include/luajit-2.1", "-lluajit-5.1" end
    local tsan = "clang -g -O1 -fsanitize=thread -std=c99 -D_POSIX_C_SOURCE=200809L"
    local code, out = sh(("%s -fPIC -shared $(pkg-config --cflags libcurl) -I%s -o %s/intercom/core.so src/*.c %s")
      :format(tsan, lua_inc, dir, "-ldl -lpthread"))
    assert.equal(0, code, "building the core with -fsanitize=thread: " .. out)
    code, out = sh(("%s -I%s -o %s/host tools/thread_host.c %s -lm -ldl -lpthread"):format(tsan, lua_inc, dir, lua_lib))
    assert.equal(0, code, "building tools/thread_host.c: " .. out)
    local f = assert(io.open(dir .. "/script.lua", "w"))
    f:write(SCRIPT)
    f:close()
    for _ = 1, 3 do
      code, out = sh(("cd %s && LUA_CPATH='./?.so' TSAN_OPTIONS='%s' ./host script.lua 4")
        :format(dir, "halt_on_error=1 report_signal_unsafe=0"))
      assert.is_nil(out:find("ThreadSanitizer", 1, true), out)
      assert.equal(0, code, out)
    end
    os.execute("rm -rf " .. dir)
  end)
end)
