-- The command line: `intercom <resource> <operation> [path parameters...] [options]` (docs/cli.md).
--
-- Reads the words (cli/args.lua), finds the operation in the table (cli/ops.lua), builds the body and
-- the query parameters, calls the operation's Lua method on a client, and writes JSON to stdout
-- (cli/output.lua), a progress line to a terminal's stderr (cli/progress.lua), and an error as one line
-- on stderr with an exit status that says what kind of failure it was.

local intercom = require "intercom"
local options = require "intercom.options"
local args_mod = require "intercom.cli.args"
local ops = require "intercom.cli.ops"
local help = require "intercom.cli.help"
local output = require "intercom.cli.output"
local progress = require "intercom.cli.progress"
local cli_query = require "intercom.cli.query"

local unpack = table.unpack or unpack   -- LuaJIT: unpack

local _M = {}

--- Exit statuses (docs/cli.md, "Exit status").
_M.EXIT = { ok = 0, api = 1, usage = 2, rate_limited = 3, network = 4 }
local EXIT = _M.EXIT

local function usage(msg)
  error({ usage = true, message = msg }, 0)
end

local function norm(word)
  return (word:gsub("%-", "_"))
end

local function set_of(list)
  local set = {}
  for _, v in ipairs(list) do set[v] = true end
  return set
end

local function did_you_mean(name, list)
  local hint = options.suggest(name, set_of(list))
  return hint and (" (did you mean %q?)"):format(hint) or ""
end

-- The resources under a prefix ("news" -> "news.items", "news.feeds").
local function children(prefix)
  local list = {}
  for _, rname in ipairs(ops.resources()) do
    if rname:sub(1, #prefix + 1) == prefix .. "." then list[#list + 1] = rname end
  end
  return list
end

-- words -> resource name, operation name (or nil), the remaining words, or a group of resources.
local function resolve(words)
  local rname, used = norm(words[1]), 1
  if words[2] and ops.is_resource(rname .. "." .. norm(words[2])) then
    rname, used = rname .. "." .. norm(words[2]), 2
  end
  if not ops.is_resource(rname) then
    local kids = children(rname)
    if #kids > 0 then return nil, nil, nil, kids end
    local spoken = {}
    for i, r in ipairs(ops.resources()) do spoken[i] = r end
    usage(("unknown resource %q%s; `intercom --help` lists them"):format(words[1], did_you_mean(rname, spoken)))
  end
  local oword = words[used + 1]
  local rest = {}
  for i = used + 2, #words do rest[#rest + 1] = words[i] end
  return rname, oword and norm(oword) or nil, rest
end

local function read_all(file, what)
  local text, err = file:read("*a")
  if not text then usage(("cannot read %s: %s"):format(what, tostring(err))) end
  return text
end

local function decode_body(text, what)
  local value, err = intercom.json.decode(text)
  if value == nil then usage(("%s is not valid JSON: %s"):format(what, tostring(err))) end
  if type(value) ~= "table" then usage(("%s must be a JSON object, got %s"):format(what, text:sub(1, 40))) end
  return value
end

-- --data JSON | @FILE | - | @-
local function data_body(data, env)
  if data == "-" or data == "@-" then return decode_body(read_all(env.stdin, "stdin"), "the body on stdin") end
  if data:sub(1, 1) == "@" then
    local path = data:sub(2)
    local f, err = io.open(path, "rb")
    if not f then usage(("--data %s: %s"):format(data, tostring(err))) end
    local text = read_all(f, path)
    f:close()
    return decode_body(text, path)
  end
  return decode_body(data, "--data")
end

-- A query parameter from the command line: digits become an integer (the same text in a URL, and the type
-- a declared integer parameter wants), anything else stays a string.
local function param_value(v)
  if type(v) == "table" then
    local list = {}
    for i, x in ipairs(v) do list[i] = param_value(x) end
    return list
  end
  if v:match("^[1-9]%d?%d?%d?%d?%d?%d?%d?%d?$") or v == "0" then   -- up to 9 digits: exact everywhere
    return math.tointeger and math.tointeger(tonumber(v)) or tonumber(v)
  end
  return v
end

-- The paging parameters a style reads from the body rather than the query string, and where.
local BODY_PAGING = {
  search = { per_page = "pagination", starting_after = "pagination" },   -- body.pagination.*
  body_page = { page = true, per_page = true },                           -- body.* itself
}

local function flag(key)
  return "--" .. key:gsub("_", "-")
end

-- Returns the body, the query table (the method's params argument) and opts.query (the query of an
-- operation that takes a body).
local function body_and_params(op, a, env, version)
  local spoken = help.spoken(op.resource) .. " " .. op.name
  local body, params, query
  if a.data then
    if not op.body then usage(("%s takes no body (--data)"):format(spoken)) end
    body = data_body(a.data, env)
  end
  if a.query then
    if not op.search then
      usage(("%s is not a search: --query goes with the search operations"):format(spoken))
    end
    body = body or {}
    body.query = cli_query.parse(a.query)
  end
  if op.body and body == nil and not env.isatty(0) then
    local text = read_all(env.stdin, "stdin")
    if text:find("%S") then body = decode_body(text, "the body on stdin") end
  end
  local in_body = BODY_PAGING[op.page] or {}
  local declared = op.body and set_of(ops.query_names(op, version)) or nil
  for _, key in ipairs(a.param_order) do
    local v = param_value(a.params[key])
    local where = in_body[key]
    if where then
      body = body or {}
      if where == "pagination" then
        local pagination = {}
        if type(body.pagination) == "table" then for k, x in pairs(body.pagination) do pagination[k] = x end end
        pagination[key] = v
        body.pagination = pagination
      else
        body[key] = v
      end
    elseif op.params then
      params = params or {}
      params[key] = v                      -- checked by the operation against the version's declared names
    elseif declared and declared[key] then
      query = query or {}
      query[key] = v
    elseif declared and next(declared) then
      local names = {}
      for name in pairs(declared) do names[#names + 1] = flag(name) end
      table.sort(names)
      local hint = options.suggest(key, declared)
      usage(("%s has no query parameter %s%s in API %s; it declares %s"):format(spoken, flag(key),
        hint and (" (did you mean %s?)"):format(flag(hint)) or "", version, table.concat(names, ", ")))
    else
      usage(("%s takes no query parameters (%s)"):format(spoken, flag(key)))
    end
  end
  return body, params, query
end

local function nonempty(v)
  if v == nil or v == "" then return nil end
  return v
end

local function client_options(a, env, version)
  local token = nonempty(env.getenv("INTERCOM_API_KEY"))
  if not token then usage("no access token: set INTERCOM_API_KEY") end
  local o = { token = token, version = version, rate_limit = "auto" }
  if a.region and a.base_url then usage("give either --region or --base-url, not both") end
  local region = a.region or (not a.base_url and nonempty(env.getenv("INTERCOM_REGION"))) or nil
  local base_url = a.base_url or (not a.region and nonempty(env.getenv("INTERCOM_BASE_URL"))) or nil
  if base_url then
    o.base_url = base_url               -- INTERCOM_BASE_URL is more precise than INTERCOM_REGION
  elseif region then
    if not options.REGIONS[region] then usage(("--region: expected us, eu or au, got %q"):format(region)) end
    o.region = region
  end
  if a.timeout then
    o.timeout = tonumber(a.timeout)
    if not o.timeout or o.timeout <= 0 then usage("--timeout: expected a positive number of seconds") end
  end
  if a.max_retries then
    o.max_retries = tonumber(a.max_retries)
    if not o.max_retries or o.max_retries < 0 or o.max_retries % 1 ~= 0 then
      usage("--max-retries: expected a whole number")
    end
  end
  return o
end

local function check_version(a, op)
  local version = a.api_version or ops.default_version()
  local known = ops.versions()
  if not set_of(known)[version] then
    usage(("--api-version: unknown version %q; this library speaks %s"):format(version, table.concat(known, ", ")))
  end
  if op and ops.compare(op.since, version) > 0 then
    usage(("%s %s needs API version %s or later; this call uses %s: add --api-version %s")
      :format(help.spoken(op.resource), op.name, op.since, version, op.since))
  end
  return version
end

local function exit_of(err)
  if err.kind == "rate_limited" then return EXIT.rate_limited end
  if err.kind == "network" or err.kind == "timeout" then return EXIT.network end
  return EXIT.api
end

-- Every page from `page` on, one item per line; stops after the first page unless `all`.
local function stream(page, client, out, bar, all, out_tty)
  local items, pages = 0, 0
  while page do
    pages = pages + 1
    local list = page:items()
    if out_tty then bar:clear() end          -- items and the line share one terminal (--progress)
    for i = 1, #list do out:item(list[i]) end
    items = items + #list
    bar:pages(items, pages, client.rate_limit.remaining)
    if not all then break end
    local nxt, err = page:next_page()
    if err then
      bar:pages(items, pages, client.rate_limit.remaining, true)
      return nil, err
    end
    page = nxt
  end
  bar:pages(items, pages, client.rate_limit.remaining, true)
  return true
end

local function resource_object(client, rname)
  local target = client
  for part in rname:gmatch("[^.]+") do target = target[part] end
  return target
end

-- The progress line of the running command, ended on Ctrl-C so that the shell's prompt starts a new line.
local interrupted_bar

local function execute(a, env, out)
  local words = a.words
  if a.version then
    out:document("intercom-lua " .. intercom._VERSION .. ", API versions " .. table.concat(ops.versions(), ", ")
      .. " (default " .. ops.default_version() .. "), " .. _VERSION .. (jit and (", " .. jit.version) or ""))
    return EXIT.ok
  end
  if words[1] == "help" then
    table.remove(words, 1)
    a.help = true
  end
  if #words == 0 then
    if a.help then
      out:document(help.main(intercom._VERSION))
      return EXIT.ok
    end
    usage("give a resource and an operation, e.g. `intercom contacts list`; `intercom --help` says more")
  end
  local rname, oname, rest, group = resolve(words)
  if group then
    if a.help then
      local parts = {}
      for _, r in ipairs(group) do parts[#parts + 1] = help.resource(r) end
      out:document(table.concat(parts, "\n"))
      return EXIT.ok
    end
    local subs = {}
    for i, r in ipairs(group) do subs[i] = r:match("%.(.+)$") end
    usage(("%s: give one of %s, then an operation"):format(words[1], table.concat(subs, ", ")))
  end
  if not oname then
    if a.help then
      out:document(help.resource(rname))
      return EXIT.ok
    end
    usage(("%s: give an operation: %s"):format(help.spoken(rname), table.concat(ops.operations(rname), ", ")))
  end
  local op = ops.get(rname, oname)
  if not op then
    usage(("%s has no operation %q%s; `intercom %s --help` lists them"):format(help.spoken(rname), oname,
      did_you_mean(oname, ops.operations(rname)), help.spoken(rname)))
  end
  if a.help then
    out:document(help.operation(op))
    return EXIT.ok
  end
  local spoken = help.spoken(rname) .. " " .. oname
  if #rest ~= #op.path_params then
    usage(("%s takes %d argument%s (%s), got %d: usage: intercom %s"):format(spoken, #op.path_params,
      #op.path_params == 1 and "" or "s", #op.path_params > 0 and table.concat(op.path_params, ", ") or "none",
      #rest, (help.operation(op):match("^Usage: intercom ([^\n]*)"))))
  end
  if (a.all or a.jsonl) and not op.page then
    usage(("%s is not paginated: --all and --jsonl go with the list and search operations"):format(spoken))
  end
  if a.output and not op.download then usage(("%s is not a download: --output goes with downloads"):format(spoken)) end
  local version = check_version(a, op)
  local body, params, query = body_and_params(op, a, env, version)
  -- Only long work gets the line. On its own, it is drawn when stderr is a terminal and stdout is not:
  -- items scrolling past on the same terminal would tear it (--progress draws it anyway, clearing it
  -- before each page).
  local long = (a.all or op.download) and true or false
  local out_tty = long and env.isatty(1)
  local show = long and (a.progress or (not a.no_progress and env.isatty(2) and not out_tty))
  local bar = progress.new(spoken, show and true or false, env.stderr)
  local copts = client_options(a, env, version)
  if a.verbose then
    -- the library's log events (request, response, retry, throttle, error): URLs and statuses, never the
    -- token; the progress line steps aside for them
    copts.logger = function(event)
      bar:clear()
      env.stderr:write("intercom: ", tostring(event.message), "\n")
    end
  end
  local client = intercom.new(copts)
  interrupted_bar = bar

  local opts = query and { query = query } or nil
  if op.download then
    opts = opts or {}
    opts.progress = function(received, total) bar:bytes(received, total) end
    if a.output then
      opts.output_file = a.output
    else
      opts.sink = function(chunk)
        if chunk then out:bytes(chunk) end
        return true
      end
    end
  end
  local list, n = ops.arguments(op, rest, body, params, opts)
  local target = resource_object(client, rname)
  local result, err = target[oname](target, unpack(list, 1, n))
  if err then
    bar:finish()
    env.stderr:write(tostring(err), "\n")
    client:close()
    return exit_of(err)
  end
  if op.download then
    bar:bytes(type(result) == "table" and result.bytes or 0, nil, true)
    bar:finish()
    if a.output then out:document(result) end
  elseif op.page and (a.all or a.jsonl) and type(result) == "table" and result.items then
    local ok, serr = stream(result, client, out, bar, a.all, out_tty)
    bar:finish()
    if not ok then
      env.stderr:write(tostring(serr), "\n")
      client:close()
      return exit_of(serr)
    end
  else
    out:document(result)
  end
  client:close()
  return EXIT.ok
end

-- A misuse error raised by the library is a string that starts with the place it was raised from; the
-- command line has no use for that place.
local function message_of(e)
  if type(e) == "table" and e.message then return tostring(e.message) end
  return (tostring(e):gsub("^[^\n]-%.lua:%d+: ", ""))
end

--- Runs the command line. `argv` are the words after the program name; `env` replaces the process's
--- streams and environment (stdout, stderr, stdin, getenv, isatty(fd)), for tests. Returns the exit status.
---@param argv string[]
---@param env table|nil
---@return integer
function _M.run(argv, env)
  env = env or {}
  env.stdout = env.stdout or io.stdout
  env.stderr = env.stderr or io.stderr
  env.stdin = env.stdin or io.stdin
  env.getenv = env.getenv or os.getenv
  env.isatty = env.isatty or progress.isatty
  local out = output.new(env.stdout)
  interrupted_bar = nil
  local ok, code = pcall(function()
    local a = args_mod.parse(argv)
    return execute(a, env, out)
  end)
  out:flush()
  if ok then return code end
  local e = code
  if e == "interrupted!" or (type(e) == "string" and e:match(": interrupted!$")) then   -- Ctrl-C (SIGINT)
    if interrupted_bar then interrupted_bar:finish() end
    env.stderr:write("intercom: interrupted\n")
    return 130
  end
  if type(e) == "table" and e.io then
    env.stderr:write("intercom: ", message_of(e), "\n")
    return EXIT.api
  end
  if type(e) == "table" and getmetatable(e) == intercom.errors.Error then   -- raised by an iterator
    env.stderr:write(tostring(e), "\n")
    return exit_of(e)
  end
  -- a usage error of ours, or a misuse raised by the library (both before anything was sent)
  env.stderr:write("intercom: ", message_of(e), "\n")
  return EXIT.usage
end

return _M
