-- Prints the README's table of operations, generated from lua/intercom/operations.lua, so that the table
-- cannot drift from the data the methods are made of (spec/client/coverage_spec.lua compares the two).
--
--   lua5.4 tools/gen-operations-table.lua                    print the block (markers included)
--   lua5.4 tools/gen-operations-table.lua --readme README.md rewrite the block in README.md in place
--                                                            (`make docs`)
--
-- Rows are sorted by resource, then by method name. The Lua call follows the dispatcher's rule
-- (lua/intercom/resource.lua): path parameters in path order, then [body] or [params], then [opts].

local BEGIN = "<!-- operations:begin -->"
local END = "<!-- operations:end -->"

local root = (arg and arg[0] or ""):match("^(.*)/tools/[^/]*$") or "."
local operations = dofile(root .. "/lua/intercom/operations.lua")

local function call_of(rname, mname, op)
  local args = {}
  for name in op[2]:gmatch("{([^}]+)}") do args[#args + 1] = name end
  if op.body then args[#args + 1] = "[body]" elseif op.params then args[#args + 1] = "[params]" end
  args[#args + 1] = "[opts]"
  return "client." .. rname .. ":" .. mname .. "(" .. table.concat(args, ", ") .. ")"
end

local function paginated(mname, op)
  if not op.page then return "" end
  local iterator = mname == "list" and "each" or (mname .. "_each")
  return op.page .. " (`:" .. iterator .. "`)"
end

local function block()
  local rows = {}
  for rname, ops in pairs(operations) do
    for mname, op in pairs(ops) do
      rows[#rows + 1] = { rname, mname, op }
    end
  end
  table.sort(rows, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    return a[2] < b[2]
  end)
  local out = {
    BEGIN,
    "<!-- generated from lua/intercom/operations.lua by `make docs` (tools/gen-operations-table.lua): "
      .. "do not edit by hand -->",
    "",
    ("All %d operations. Paginated ones return a Page; the style says how the next page is asked for, "
      .. "and the iterator walks every item."):format(#rows),
    "",
    "| resource | Lua call | HTTP | paginated |",
    "|---|---|---|---|",
  }
  for _, r in ipairs(rows) do
    local rname, mname, op = r[1], r[2], r[3]
    out[#out + 1] = ("| %s | `%s` | %s %s | %s |"):format(rname, call_of(rname, mname, op), op[1], op[2],
      paginated(mname, op))
  end
  out[#out + 1] = END
  return table.concat(out, "\n") .. "\n"
end

local function rewrite(path, text)
  local f = assert(io.open(path, "rb"))
  local old = f:read("a")
  f:close()
  local s = old:find(BEGIN, 1, true)
  local e = old:find(END, 1, true)
  if not s or not e or e < s then
    io.stderr:write(path .. ": no " .. BEGIN .. " ... " .. END .. " block to rewrite\n")
    os.exit(1)
  end
  local after = old:sub(e + #END):gsub("^\n", "")
  local new = old:sub(1, s - 1) .. text .. after
  if new == old then
    print(path .. ": operations table already up to date")
    return
  end
  f = assert(io.open(path, "wb"))
  f:write(new)
  f:close()
  print(path .. ": operations table rewritten")
end

if arg and arg[1] == "--readme" then
  rewrite(assert(arg[2], "--readme needs a file"), block())
elseif arg and arg[1] then
  io.stderr:write("usage: lua5.4 tools/gen-operations-table.lua [--readme README.md]\n")
  os.exit(2)
else
  io.write(block())
end
