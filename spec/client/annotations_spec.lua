-- Editor support, checked textually (lua-language-server cannot be installed here): every public
-- function has its ---@param/---@return block, every operation and iterator has a stub in the generated
-- types/intercom/resources.lua, every generated annotation line parses as LuaLS annotation syntax, the
-- ---@meta file of intercom.core covers the C core, and the generated files are up to date.

local operations = require "intercom.operations"

local read = require("support.util").read

local function lines_of(text)
  local out = {}
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do out[#out + 1] = line end
  return out
end

-- ---- a small checker of LuaLS annotation syntax ---------------------------------------------------------
-- type    := item ('|' item)*
-- item    := primary ('[]')* '?'?
-- primary := NAME ('.' NAME)* | '"' chars '"' | INTEGER | 'table' '<' type ',' type '>'
--          | 'fun' '(' [param (',' param)*] ')' [':' type (',' type)*] | '{' field (',' field)* '}'
--          | '(' type ')'
-- param   := NAME '?'? [':' type] | '...'        field := NAME ':' type

local Parser = {}
Parser.__index = Parser

local function parser(s) return setmetatable({ s = s, i = 1 }, Parser) end

function Parser:ws() self.i = self.s:find("[^ ]", self.i) or (#self.s + 1) end
function Parser:peek(p) self:ws(); return self.s:match("^" .. p, self.i) end
function Parser:take(p)
  local m = self:peek(p)
  if m then self.i = self.i + #m end
  return m
end
function Parser:expect(p, what)
  local m = self:take(p)
  if not m then error(("expected %s at %d in %q"):format(what, self.i, self.s), 0) end
  return m
end

local NAME = "[%a_][%w_]*"

function Parser:type()
  self:item()
  while self:take("|") do self:item() end
end

function Parser:item()
  self:primary()
  while self:take("%[%]") do end
  self:take("%?")
end

function Parser:primary()
  if self:take("%(") then
    self:type()
    self:expect("%)", ")")
  elseif self:take('"') then
    self:expect('[^"]*"', "closing quote")
  elseif self:take("%-?%d+") then
    return
  elseif self:take("{") then
    repeat
      self:expect(NAME, "field name")
      self:expect(":", ":")
      self:type()
    until not self:take(",")
    self:expect("}", "}")
  else
    local name = self:expect(NAME, "a type name")
    if name == "fun" and self:take("%(") then
      if not self:take("%)") then
        repeat
          if not self:take("%.%.%.") then
            self:expect(NAME, "parameter name")
            self:take("%?")
            if self:take(":") then self:type() end
          end
        until not self:take(",")
        self:expect("%)", ")")
      end
      if self:take(":") then
        repeat self:type() until not self:take(",")
      end
      return
    end
    while self:take("%.") do self:expect(NAME, "a name after .") end
    if name == "table" and self:take("<") then
      self:type()
      self:expect(",", ",")
      self:type()
      self:expect(">", ">")
    end
  end
end

--- Parses a type at the start of `s`; returns what follows it (a name, a description), or raises.
local function parse_type(s)
  local p = parser(s)
  p:type()
  return s:sub(p.i)
end

-- Checks one annotation line; raises with the reason when it is not valid.
local function check_annotation(line)
  local tag, rest = line:match("^%-%-%-@(%w+)%s*(.*)$")
  if not tag then return end
  if tag == "meta" then return end
  if tag == "class" then
    local name, parents = rest:match("^([%a_][%w_.]*)%s*(.*)$")
    assert(name, "bad class name in: " .. line)
    if parents ~= "" then
      local list = parents:match("^:%s*(.-)%s*$")
      assert(list and list ~= "", "bad parent list in: " .. line)
      for parent in (list .. ","):gmatch("%s*(.-)%s*,") do
        assert(parent:match("^[%a_][%w_.]*$"), "bad parent " .. parent .. " in: " .. line)
      end
    end
  elseif tag == "field" then
    local key, after = rest:match("^([%a_][%w_]*%??)%s+(.*)$")
    if not key then key, after = rest:match('^(%["[^"]+"%]%??)%s+(.*)$') end
    assert(key, "bad field name in: " .. line)
    local tail = parse_type(after)
    -- a description may follow, after whitespace ("# text" or plain text)
    assert(tail == "" or after:sub(1, #after - #tail):match("%s$"), "junk after the type in: " .. line)
  elseif tag == "param" then
    local name, after = rest:match("^([%a_][%w_]*%??)%s+(.*)$")
    if not name then name, after = rest:match("^(%.%.%.)%s+(.*)$") end
    assert(name, "bad param name in: " .. line)
    parse_type(after)
  elseif tag == "return" then
    parse_type(rest)
  elseif tag == "alias" then
    local name, after = rest:match("^([%a_][%w_.]*)%s+(.*)$")
    assert(name, "bad alias in: " .. line)
    parse_type(after)
  else
    error("unknown annotation @" .. tag .. " in: " .. line)
  end
end

-- ---- public functions of the sources --------------------------------------------------------------------

local PUBLIC = {
  "lua/intercom.lua", "lua/intercom/client.lua", "lua/intercom/pager.lua", "lua/intercom/errors.lua",
  "lua/intercom/query.lua", "lua/intercom/webhooks.lua", "lua/intercom/transport/curl.lua",
  "lua/intercom/transport/ngx.lua", "lua/intercom/transport/ngx_http.lua",
}

-- Top-level function definitions with the comment block just above and whether the body returns a value.
local function functions_of(path)
  local ls = lines_of(read(path))
  local found = {}
  for i, line in ipairs(ls) do
    local name, args = line:match("^function ([%w_.:]+)%((.-)%)")
    if name then
      local doc = {}
      local j = i - 1
      while j > 0 and ls[j]:match("^%-%-") do table.insert(doc, 1, ls[j]); j = j - 1 end
      local returns = false
      local k = i
      if not line:match("%send%s*$") then
        repeat
          k = k + 1
          local l = ls[k] or "end"
          if l:match("%f[%w]return%s+[^%s]") and not l:match("%f[%w]return%s+end") then returns = true end
        until l:match("^end")
      end
      found[#found + 1] = { name = name, args = args, doc = table.concat(doc, "\n"), returns = returns,
                            line = i }
    end
  end
  return found
end

local function is_public(name)
  local last = name:match("([%w_]+)$")
  return last:sub(1, 1) ~= "_"
end

local function arg_names(args)
  local out = {}
  for a in args:gmatch("[^,%s]+") do
    if a ~= "self" and a ~= "_" then out[#out + 1] = a end
  end
  return out
end

local function missing_docs(fn)
  local problems = {}
  for _, a in ipairs(arg_names(fn.args)) do
    local pat = a == "..." and "%-%-%-@param %.%.%." or ("%-%-%-@param " .. a .. "%??%s")
    if not fn.doc:find(pat) then problems[#problems + 1] = "---@param " .. a end
  end
  if fn.returns and not fn.doc:find("%-%-%-@return") then problems[#problems + 1] = "---@return" end
  return problems
end

describe("LuaLS annotations", function()
  it("every public function of the public modules has ---@param for each argument and ---@return", function()
    local problems = {}
    local count = 0
    for _, path in ipairs(PUBLIC) do
      for _, fn in ipairs(functions_of(path)) do
        if is_public(fn.name) then
          count = count + 1
          local miss = missing_docs(fn)
          if #miss > 0 then
            problems[#problems + 1] = ("%s:%d %s: %s"):format(path, fn.line, fn.name, table.concat(miss, ", "))
          end
        end
      end
    end
    assert.is_true(count > 40, "only " .. count .. " public functions found: is the scanner broken?")
    assert.same({}, problems)
  end)

  it("the checker itself refuses a function without its block", function()
    local fn = { args = "self, id, opts", doc = "--- Finds.\n---@param id string", returns = true }
    assert.same({ "---@param opts", "---@return" }, missing_docs(fn))
  end)

  describe("generated types/intercom/resources.lua", function()
    local text = read("types/intercom/resources.lua")
    local ls = lines_of(text)
    -- function Var:name(args) end, with its block
    local stubs = {}
    for i, line in ipairs(ls) do
      local var, m, args = line:match("^function ([%w_]+):([%w_]+)%((.-)%) end$")
      if var then
        local doc = {}
        local j = i - 1
        while j > 0 and ls[j]:match("^%-%-%-") do table.insert(doc, 1, ls[j]); j = j - 1 end
        stubs[var .. ":" .. m] = { args = args, doc = table.concat(doc, "\n"), returns = true }
      end
    end
    local classes = {}
    for cls, var in text:gmatch("%-%-%-@class (intercom%.[%w]+Resource)\n[^\n]-local ([%w_]+) = {}") do
      classes[cls] = var
    end
    for cls, var in text:gmatch("%-%-%-@class (intercom%.[%w]+Resource)\n%-%-%-@field[^\n]*\nlocal ([%w_]+) = {}") do
      classes[cls] = var
    end

    it("has a stub with its ---@param/---@return block for every operation and iterator", function()
      local problems, count = {}, 0
      for rname, ops in pairs(operations) do
        local cls = "intercom." .. rname:gsub("^%l", string.upper):gsub("[_.](%w)", string.upper) .. "Resource"
        local var = classes[cls]
        if not var then
          problems[#problems + 1] = "no class " .. cls
        else
          for mname, op in pairs(ops) do
            local names = { mname }
            if op.page then names[2] = mname == "list" and "each" or (mname .. "_each") end
            for _, n in ipairs(names) do
              count = count + 1
              local stub = stubs[var .. ":" .. n]
              if not stub then
                problems[#problems + 1] = "no stub for " .. rname .. ":" .. n
              else
                local params = {}
                for p in op[2]:gmatch("{([^}]+)}") do params[#params + 1] = p end
                if op.body then params[#params + 1] = "body" elseif op.params then params[#params + 1] = "params" end
                params[#params + 1] = "opts"
                assert.equal(table.concat(params, ", "), stub.args, rname .. ":" .. n)
                local miss = missing_docs(stub)
                if #miss > 0 then problems[#problems + 1] = rname .. ":" .. n .. ": " .. table.concat(miss, ", ") end
              end
            end
          end
        end
      end
      assert.is_true(count >= 118, count .. " stubs")
      assert.same({}, problems)
    end)

    it("iterators return a function of the list's item type", function()
      assert.matches("%-%-%-@return fun%(%): intercom%.Contact|nil\nfunction ContactsResource:each%(", text)
      assert.matches("%-%-%-@return intercom%.Contact|nil result", text)
    end)
  end)

  it("every annotation line of the generated and meta files, and of the public modules, parses", function()
    local count = 0
    local files = { "types/intercom/models.lua", "types/intercom/resources.lua", "types/intercom/core.lua",
                    "types/intercom/helpers.lua" }
    for _, path in ipairs(PUBLIC) do files[#files + 1] = path end
    for _, path in ipairs(files) do
      for n, line in ipairs(lines_of(read(path))) do
        if line:match("^%-%-%-@") then
          count = count + 1
          local ok, err = pcall(check_annotation, line)
          assert(ok, path .. ":" .. n .. ": " .. tostring(err))
        end
      end
    end
    assert.is_true(count > 2000, count .. " annotation lines")
  end)

  it("the syntax checker refuses broken annotations", function()
    for _, bad in ipairs{
      "---@field name",                          -- no type
      "---@field name string|",                  -- dangling union
      "---@field name table<string>",            -- table<K, V> needs two types
      "---@class 1bad",
      "---@class intercom.X: 2y",
      "---@param x fun(a: ",
      "---@return (string",
      "---@oops x",
    } do
      assert.is_false(pcall(check_annotation, bad), bad)
    end
    for _, good in ipairs{
      "---@field custom_attributes? table<string, any> # The custom attributes",
      '---@field ["zh-CN"] intercom.ArticleContent',
      '---@field role? "user"|"lead" # the role',
      "---@field tags? (intercom.Tag|string)[]",
      "---@return fun(): intercom.Contact|nil",
      "---@return {curl_code: integer, sent: boolean}|nil details",
      "---@class intercom.DownloadOpts: intercom.RequestOpts",
    } do
      local ok, err = pcall(check_annotation, good)
      assert(ok, good .. ": " .. tostring(err))
    end
  end)

  it("the models have a class for every schema, and contact.custom_attributes is a field of intercom.Contact",
    function()
      local text = read("types/intercom/models.lua")
      local cjson = require "cjson"
      local spec = cjson.decode(read("../shared/intercom-openapi-2.16.json"))
      local n = 0
      for name in pairs(spec.components.schemas) do
        n = n + 1
        local cls = "intercom." .. name:gsub("^%l", string.upper):gsub("_(%w)", string.upper)
        local found = text:find("---@class " .. cls .. "\n", 1, true) or text:find("---@alias " .. cls .. " ", 1, true)
        assert.is_truthy(found, "no class for schema " .. name)
      end
      assert.is_true(n > 100)
      assert.matches("%-%-%-@class intercom%.Contact\n[^@]*.-%-%-%-@field custom_attributes%? table<string, any>", text)
    end)

  it("the intercom.core meta file documents every field of the C core", function()
    local meta = read("types/intercom/core.lua")
    local core = require "intercom.core"
    for name in pairs(core) do
      assert.is_truthy(meta:find("function core%." .. name .. "%(") or meta:find("@field " .. name .. " "),
        "types/intercom/core.lua does not document core." .. name)
    end
    local objects = {
      Session = core.session{},
      Multi = core.multi(),
      Stream = core.stream(nil, { method = "GET", url = "http://127.0.0.1:1/" }),   -- no I/O until read
    }
    for class, object in pairs(objects) do
      local n = 0
      for name in pairs(getmetatable(object).__index) do
        n = n + 1
        assert.is_truthy(meta:find("function " .. class .. ":" .. name .. "%("),
          class .. ":" .. name .. " is not documented")
      end
      assert.is_true(n >= 3)
      object:close()
    end
  end)

  it("the generated files are what tools/gen-types.lua writes now", function()
    local dir = os.tmpname()
    os.remove(dir)
    local p = io.popen(("lua5.4 tools/gen-types.lua ../shared/intercom-openapi-2.16.json %q 2>&1; echo \"exit=$?\"")
      :format(dir))
    local out = p:read("*a")
    p:close()
    assert.matches("exit=0", out)
    for _, f in ipairs{ "models.lua", "resources.lua" } do
      assert(read(dir .. "/intercom/" .. f) == read("types/intercom/" .. f),
        "types/intercom/" .. f .. " is out of date: run `lua5.4 tools/gen-types.lua`")
    end
    os.execute(("rm -rf %q"):format(dir))
  end)
end)
