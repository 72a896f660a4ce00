-- The command line's help, generated from the operations table (through cli/ops.lua) every time it is
-- asked for: a new operation in the table is documented here without a line written for it.

local ops = require "intercom.cli.ops"

local _M = {}

local PAGING = {
  cursor = "cursor pages (pages.next.starting_after; --per-page, --starting-after)",
  search = "cursor pages, the cursor in the body (pagination.starting_after; --per-page, --starting-after)",
  page = "numbered pages (page, total_pages; --page, --per-page)",
  scroll = "a scroll (scroll_param; one open scroll per workspace)",
  next_cursor = "an opaque cursor (next_cursor, has_more; --cursor, --per-page)",
  body_page = "numbered pages asked for in the body (--page, --per-page go into the body)",
}

local function flag(name)
  return "--" .. name:gsub("_", "-")
end

--- How a resource is typed on the command line: "news.items" is `news items`.
---@param rname string
---@return string
function _M.spoken(rname)
  return (rname:gsub("%.", " "))
end

-- The words after the operation name in a usage line.
local function synopsis(op)
  local parts = {}
  for _, p in ipairs(op.path_params) do parts[#parts + 1] = "<" .. p .. ">" end
  if op.search then parts[#parts + 1] = "[--query EXPR]" end
  if op.body then parts[#parts + 1] = "[--data JSON]" end
  if op.params or #op.query_params > 0 then parts[#parts + 1] = "[--PARAM VALUE...]" end
  if op.page then parts[#parts + 1] = "[--all | --jsonl]" end
  if op.download then parts[#parts + 1] = "[--output FILE]" end
  return table.concat(parts, " ")
end

local function lua_call(op)
  local args = {}
  for _, p in ipairs(op.path_params) do args[#args + 1] = p end
  if op.body then args[#args + 1] = "body" elseif op.params then args[#args + 1] = "params" end
  args[#args + 1] = "opts"
  return ("client.%s:%s(%s)"):format(op.resource, op.name, table.concat(args, ", "))
end

local function versions_line()
  local list = ops.versions()
  return table.concat(list, ", ") .. " (default " .. ops.default_version() .. ")"
end

--- The top-level help.
---@param version string the library's version
---@return string
function _M.main(version)
  local out = {
    "intercom: the Intercom REST API from the shell (intercom-lua " .. version .. ")",
    "",
    "Usage:",
    "  intercom <resource> <operation> [path parameters...] [options]",
    "  intercom <resource> --help                 the operations of a resource",
    "  intercom <resource> <operation> --help     one operation: arguments, method, path, version",
    "",
    "Examples:",
    "  intercom contacts find 6329bd9ffe4e3f0d5d4a",
    "  intercom contacts create --data '{\"email\":\"a@example.com\"}'",
    "  intercom contacts search --query 'role = user and created_at > 2024-01-01' --all",
    "  intercom contacts list --all --jsonl > contacts.jsonl",
    "",
    "Options (anywhere on the line):",
    "  --data JSON | @FILE | -   the request body; without --data, an operation that takes a body",
    "                            reads it from stdin when stdin is not a terminal",
    "  --query EXPR              a search expression: field op value, and/or, ( ); ops = != < > <= >=",
    "                            ~ !~ ^ $ in nin; e.g. 'role = user and email ~ \"@example.com\"'",
    "  --NAME VALUE              a query parameter: --per-page 50 sends per_page=50",
    "  --all                     every page, one item per line (JSON Lines), page by page",
    "  --jsonl                   the items of one page, one per line",
    "  --output FILE, -o FILE    where a download goes (default: stdout)",
    "  --region us|eu|au         the data region (or INTERCOM_REGION; default us)",
    "  --base-url URL            another server (or INTERCOM_BASE_URL)",
    "  --api-version V           " .. versions_line(),
    "  --timeout SECONDS         per attempt (default 30)",
    "  --max-retries N           retries of a failed attempt (default 2)",
    "  --progress, --no-progress the progress line on stderr (default: when stderr is a terminal and",
    "                            stdout is not)",
    "  --verbose, -v             log each request, response, retry and wait on stderr",
    "  --help, -h                this help; after a resource or an operation, theirs",
    "  --version                 the versions of intercom-lua and of the API",
    "",
    "Environment: INTERCOM_API_KEY (the access token, required; never printed), INTERCOM_REGION,",
    "INTERCOM_BASE_URL.",
    "",
    "Output: JSON on stdout; errors on stderr, one line. Exit status: 0 success, 1 API error,",
    "2 usage error, 3 rate limited, 4 network error or timeout.",
    "",
    "Resources (operations):",
  }
  local cells = {}
  for _, rname in ipairs(ops.resources()) do
    cells[#cells + 1] = ("%s (%d)"):format(_M.spoken(rname), #ops.operations(rname))
  end
  local width = 0
  for _, c in ipairs(cells) do width = math.max(width, #c) end
  local per_line = math.max(1, math.floor(96 / (width + 2)))
  for i = 1, #cells, per_line do
    local row = {}
    for j = i, math.min(i + per_line - 1, #cells) do row[#row + 1] = cells[j] .. (" "):rep(width - #cells[j]) end
    out[#out + 1] = "  " .. (table.concat(row, "  "):gsub("%s+$", ""))
  end
  out[#out + 1] = ""
  out[#out + 1] = "Reference: docs/cli.md"
  return table.concat(out, "\n") .. "\n"
end

--- The help of one resource: each operation with its arguments, method, path and first version.
---@param rname string
---@return string
function _M.resource(rname)
  local names = ops.operations(rname)
  local rows, w1, w2 = {}, 0, 0
  for _, oname in ipairs(names) do
    local op = ops.get(rname, oname)
    local args = { oname }
    for _, p in ipairs(op.path_params) do args[#args + 1] = "<" .. p .. ">" end
    local left = table.concat(args, " ")
    local mid = ("%-6s %s"):format(op.method, op.path)
    local tags = { "since " .. op.since }
    if op.body then tags[#tags + 1] = "body" end
    if op.search then tags[#tags + 1] = "search" end
    if op.page then tags[#tags + 1] = "paginated" end
    if op.download then tags[#tags + 1] = "download" end
    rows[#rows + 1] = { left, mid, table.concat(tags, ", ") }
    w1, w2 = math.max(w1, #left), math.max(w2, #mid)
  end
  local out = {
    ("intercom %s: %d operations"):format(_M.spoken(rname), #names),
    "",
  }
  for _, r in ipairs(rows) do
    out[#out + 1] = ("  %-" .. w1 .. "s  %-" .. w2 .. "s  %s"):format(r[1], r[2], r[3])
  end
  out[#out + 1] = ""
  out[#out + 1] = ("One operation: intercom %s <operation> --help. API versions: %s.")
    :format(_M.spoken(rname), versions_line())
  return table.concat(out, "\n") .. "\n"
end

--- The help of one operation.
---@param op intercom.cli.Op
---@return string
function _M.operation(op)
  local out = {
    ("Usage: intercom %s %s %s"):format(_M.spoken(op.resource), op.name, synopsis(op)):gsub("%s+$", ""),
    "",
    ("  %s %s%s"):format(op.method, op.path, op.id and ("   (operationId " .. op.id .. ")") or ""),
    ("  Needs API version %s or later; --api-version picks one of %s."):format(op.since, versions_line()),
    "  In Lua: " .. lua_call(op),
    "",
  }
  if #op.path_params > 0 then
    local names = {}
    for _, p in ipairs(op.path_params) do names[#names + 1] = "<" .. p .. ">" end
    out[#out + 1] = "Arguments: " .. table.concat(names, " ") .. ", in this order (the path parameters)."
  end
  if op.body then
    out[#out + 1] = "Body: a JSON object from --data JSON, --data @FILE, --data - (stdin), or stdin when it is"
    out[#out + 1] = "not a terminal."
  end
  if op.search then
    out[#out + 1] = "Search: --query EXPR builds the body's query, e.g. --query 'role = user and created_at >"
    out[#out + 1] = "2024-01-01' (docs/cli.md); --per-page N and --starting-after CURSOR set its pagination."
  end
  if op.params or #op.query_params > 0 then
    local names = {}
    for _, q in ipairs(op.query_params) do
      names[#names + 1] = flag(q.name) .. (q.since ~= op.since and (" (" .. q.since .. "+)") or "")
    end
    out[#out + 1] = "Query parameters, --NAME VALUE each (given twice, an array)"
      .. (#names > 0 and ":" or ".")
    local line = " "
    for i, n in ipairs(names) do
      local piece = " " .. n .. (i < #names and "," or "")
      if #line + #piece > 100 then
        out[#out + 1] = line
        line = " "
      end
      line = line .. piece
    end
    if #names > 0 then out[#out + 1] = line end
  end
  if op.text then out[#out + 1] = "Answer: text (text/plain), written as it is." end
  if op.redirect then
    out[#out + 1] = "Answer: a redirect, printed as {\"location\": URL} and never followed (the URL is signed)."
  end
  if op.page then
    out[#out + 1] = ("Paginated: %s."):format(PAGING[op.page] or op.page)
    out[#out + 1] = "Without --all, the first page as one document; --jsonl: its items, one per line; --all: every"
    out[#out + 1] = "item of every page, one per line, fetched page by page."
  end
  if op.download then
    out[#out + 1] = "Download: the file goes to stdout, or to --output FILE (then its path, size and type are"
    out[#out + 1] = "printed as JSON); the progress line shows bytes and the total."
  end
  if not (op.body or op.params or op.page or op.download or #op.path_params > 0) then
    out[#out + 1] = "No arguments."
  end
  return table.concat(out, "\n") .. "\n"
end

return _M
