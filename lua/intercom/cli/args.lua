-- The command line's words, read into one record: which command, its positional words, the options the
-- CLI knows, and every other `--name value` as a query parameter. No knowledge of the operations here:
-- main.lua resolves the words against the operations table.
--
--   intercom [options] <resource> <operation> [path parameters...] [options]
--
-- Options go anywhere, as `--name value` or `--name=value`; `--` ends them (a path parameter that starts
-- with a dash goes after it). An unknown `--some-name value` is the query parameter `some_name`, given
-- twice it is an array.

local _M = {}

-- Options that take a value, by the field of the record they fill.
local VALUED = {
  data = "data", query = "query", region = "region", ["base-url"] = "base_url",
  ["api-version"] = "api_version", timeout = "timeout", ["max-retries"] = "max_retries",
  output = "output",
}
-- Switches.
local SWITCHES = {
  help = "help", all = "all", jsonl = "jsonl", version = "version",
  progress = "progress", ["no-progress"] = "no_progress", verbose = "verbose",
}
local SHORT = { ["-h"] = "help", ["-d"] = "data", ["-q"] = "query", ["-o"] = "output", ["-v"] = "verbose" }

_M.VALUED, _M.SWITCHES = VALUED, SWITCHES

local function usage(msg)
  error({ usage = true, message = msg }, 0)
end

--- The option names the CLI knows (for "did you mean"), as a set of "--name".
---@return table<string, boolean>
function _M.known()
  local set = {}
  for name in pairs(VALUED) do set[name] = true end
  for name in pairs(SWITCHES) do set[name] = true end
  return set
end

---@class intercom.cli.Args
---@field words string[]                    positional words: resource, operation, path parameters
---@field params table<string, string|string[]> unknown --name value pairs, names snake_cased
---@field param_order string[]              their names in the order given (for messages)
---@field help boolean|nil
---@field all boolean|nil
---@field jsonl boolean|nil
---@field version boolean|nil
---@field progress boolean|nil
---@field no_progress boolean|nil
---@field verbose boolean|nil
---@field data string|nil
---@field query string|nil
---@field region string|nil
---@field base_url string|nil
---@field api_version string|nil
---@field timeout string|nil
---@field max_retries string|nil
---@field output string|nil

--- Reads argv (a sequence of strings). Raises `{usage = true, message}` on a malformed command line.
---@param argv string[]
---@return intercom.cli.Args
function _M.parse(argv)
  local r = { words = {}, params = {}, param_order = {} }
  local i, n = 1, #argv
  local function value_of(name, inline)
    if inline then return inline end
    i = i + 1
    local v = argv[i]
    if v == nil then usage(("--%s needs a value"):format(name)) end
    return v
  end
  while i <= n do
    local a = argv[i]
    if a == "--" then
      for j = i + 1, n do r.words[#r.words + 1] = argv[j] end
      break
    elseif SHORT[a] then
      local field = SHORT[a]
      if SWITCHES[field] then r[field] = true else r[field] = value_of(a:sub(2), nil) end
    elseif a:sub(1, 2) == "--" then
      local name, inline = a:match("^%-%-([^=]+)=(.*)$")
      name = name or a:sub(3)
      if name == "" then usage("an option needs a name: " .. a) end
      if SWITCHES[name] then
        if inline then usage(("--%s takes no value"):format(name)) end
        r[SWITCHES[name]] = true
      elseif VALUED[name] then
        local field = VALUED[name]
        if r[field] ~= nil then usage(("--%s given twice"):format(name)) end
        r[field] = value_of(name, inline)
      else
        if not name:match("^[%w][%w_%-%.%[%]]*$") then usage("not an option name: " .. a) end
        local key = name:gsub("%-", "_")
        local v = value_of(name, inline)
        local old = r.params[key]
        if old == nil then
          r.params[key] = v
          r.param_order[#r.param_order + 1] = key
        elseif type(old) == "table" then
          old[#old + 1] = v
        else
          r.params[key] = { old, v }
        end
      end
    elseif a:sub(1, 1) == "-" and #a > 1 and not a:match("^%-%d") then
      usage("unknown option " .. a .. " (options are spelled --name)")
    else
      r.words[#r.words + 1] = a
    end
    i = i + 1
  end
  if r.progress and r.no_progress then usage("give either --progress or --no-progress") end
  return r
end

return _M
