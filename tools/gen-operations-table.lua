-- Prints the table of operations of docs/operations.md, generated from lua/intercom/operations.lua through
-- its accessor (intercom.operations_list), so that the table cannot drift from the data the methods are
-- made of (spec/client/coverage_spec.lua compares the two).
--
--   lua5.4 tools/gen-operations-table.lua                          print the block (markers included)
--   lua5.4 tools/gen-operations-table.lua --write docs/operations.md  rewrite the block in that file in
--                                                                  place (`make docs`)
--
-- Rows are sorted by resource, then by method name. The Lua call is the dispatcher's own signature
-- (path parameters in path order, then [body] or [params], then [opts]); `since` is the first API version
-- with the operation; the query column lists the declared query parameters ("name (2.16)": from 2.16 on).

local BEGIN = "<!-- operations:begin -->"
local END = "<!-- operations:end -->"

local root = (arg and arg[0] or ""):match("^(.*)/tools/[^/]*$") or "."
package.path = root .. "/lua/?.lua;" .. package.path
local operations_list = require "intercom.operations_list"

local function paginated(e)
  if not e.page then return "" end
  return e.page .. " (`:" .. e.iterator .. "`)"
end

local function query_of(e)
  local names = {}
  for _, q in ipairs(e.query) do
    names[#names + 1] = q.since == e.since and q.name or (q.name .. " (" .. q.since .. ")")
  end
  return table.concat(names, ", ")
end

local function block()
  local rows = operations_list.entries()
  local per_version = {}
  for _, e in ipairs(rows) do per_version[e.since] = (per_version[e.since] or 0) + 1 end
  local counts, total = {}, 0
  for _, v in ipairs(operations_list.VERSIONS) do
    total = total + (per_version[v] or 0)
    counts[#counts + 1] = ("%s: %d"):format(v, total)
  end
  local out = {
    BEGIN,
    "<!-- generated from lua/intercom/operations.lua by `make docs` (tools/gen-operations-table.lua): "
      .. "do not edit by hand -->",
    "",
    ("All %d operations; per version (each has every operation of the one before): %s. Paginated ones "
      .. "return a Page; the style says how the next page is asked for, and the iterator walks every item.")
      :format(#rows, table.concat(counts, ", ")),
    "",
    "| resource | Lua call | HTTP | since | paginated | query parameters | operationId |",
    "|---|---|---|---|---|---|---|",
  }
  for _, e in ipairs(rows) do
    local id = e.id .. (e.former_id and (" (before 2.16: " .. e.former_id .. ")") or "")
    out[#out + 1] = ("| %s | `%s` | %s %s | %s | %s | %s | %s |"):format(e.resource, e.signature, e.method,
      e.path, e.since, paginated(e), query_of(e), id)
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

if arg and arg[1] == "--write" then
  rewrite(assert(arg[2], "--write needs a file"), block())
elseif arg and arg[1] then
  io.stderr:write("usage: lua5.4 tools/gen-operations-table.lua [--write docs/operations.md]\n")
  os.exit(2)
else
  io.write(block())
end
