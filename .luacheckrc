-- luacheck configuration (make lint)
std = "max"
max_line_length = 120
files["lua/intercom/operations.lua"] = { max_line_length = false }   -- one operation per line, by design
files["spec/"] = { std = "+busted" }
files["spec/support/ngx/"] = { std = "+ngx_lua" }    -- code that runs inside nginx
files["examples/"] = { std = "+ngx_lua" }
files["bin/intercom"] = { globals = { "_" } }   -- `_=[[`: the sh/Lua polyglot that picks the interpreter
exclude_files = { "build/", "lua_modules/", ".luarocks/" }
