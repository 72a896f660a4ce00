rockspec_format = "3.0"
package = "intercom"
version = "scm-1"
source = {
   url = "git+https://example.invalid/intercom-lua.git",
}
description = {
   summary = "The Intercom REST API 2.12 to 2.16 for Lua: a libcurl C core and a declarative Lua layer",
   detailed = [[
All 231 operations of Intercom's API 2.12 to 2.16 from Lua 5.4 or LuaJIT/OpenResty: retries with backoff,
rate-limit state, every pagination style, typed error objects, and an exact JSON codec in C.
]],
   license = "MIT",
   labels = { "intercom", "http", "api", "openresty" },
}
dependencies = {
   "lua >= 5.1",
}
build = {
   type = "builtin",
   modules = {
      ["intercom.core"] = {
         sources = { "src/base64.c", "src/buffer.c", "src/clock.c", "src/core.c", "src/curlapi.c", "src/escape.c",
                     "src/handle.c", "src/head.c", "src/http.c", "src/json.c", "src/json_decode.c", "src/json_encode.c",
                     "src/json_shapes.c", "src/multi.c", "src/stream.c", "src/transfer.c",
                     "src/webhook.c" },
         -- libcurl is not linked: it is dlopen()ed on first use (src/curlapi.h), so only its headers are
         -- needed (Debian: libcurl4-openssl-dev), where the compiler finds them. No external_dependencies
         -- entry: luarocks would look for curl.h itself and miss Debian's multiarch include folder.
         -- pthread: the loader runs once per process (pthread_once).
         libraries = { "dl", "pthread" },
         defines = {},
      },
      ["intercom"] = "lua/intercom.lua",
      ["intercom.attachment"] = "lua/intercom/attachment.lua",
      ["intercom.budget"] = "lua/intercom/budget.lua",
      ["intercom.cli.args"] = "lua/intercom/cli/args.lua",
      ["intercom.cli.help"] = "lua/intercom/cli/help.lua",
      ["intercom.cli.main"] = "lua/intercom/cli/main.lua",
      ["intercom.cli.ops"] = "lua/intercom/cli/ops.lua",
      ["intercom.cli.output"] = "lua/intercom/cli/output.lua",
      ["intercom.cli.progress"] = "lua/intercom/cli/progress.lua",
      ["intercom.cli.query"] = "lua/intercom/cli/query.lua",
      ["intercom.client"] = "lua/intercom/client.lua",
      ["intercom.download"] = "lua/intercom/download.lua",
      ["intercom.errors"] = "lua/intercom/errors.lua",
      ["intercom.export"] = "lua/intercom/export.lua",
      ["intercom.misuse"] = "lua/intercom/misuse.lua",
      ["intercom.operations"] = "lua/intercom/operations.lua",
      ["intercom.operations_list"] = "lua/intercom/operations_list.lua",
      ["intercom.options"] = "lua/intercom/options.lua",
      ["intercom.pager"] = "lua/intercom/pager.lua",
      ["intercom.query"] = "lua/intercom/query.lua",
      ["intercom.ratelimit.memory"] = "lua/intercom/ratelimit/memory.lua",
      ["intercom.ratelimit.redis"] = "lua/intercom/ratelimit/redis.lua",
      ["intercom.ratelimit.shdict"] = "lua/intercom/ratelimit/shdict.lua",
      ["intercom.redis"] = "lua/intercom/redis.lua",
      ["intercom.resource"] = "lua/intercom/resource.lua",
      ["intercom.response"] = "lua/intercom/response.lua",
      ["intercom.retry"] = "lua/intercom/retry.lua",
      ["intercom.scheduler"] = "lua/intercom/scheduler.lua",
      ["intercom.throttle"] = "lua/intercom/throttle.lua",
      ["intercom.url"] = "lua/intercom/url.lua",
      ["intercom.webhooks"] = "lua/intercom/webhooks.lua",
      ["intercom.transport.curl"] = "lua/intercom/transport/curl.lua",
      ["intercom.transport.ngx"] = "lua/intercom/transport/ngx.lua",
      ["intercom.transport.ngx_http"] = "lua/intercom/transport/ngx_http.lua",
   },
   install = {
      bin = { intercom = "bin/intercom" },   -- the command line (docs/cli.md); luarocks wraps it
   },
   -- the LuaLS definitions, installed in the rock's folder: `luarocks show --rock-dir intercom`/types
   copy_directories = { "types" },
}
