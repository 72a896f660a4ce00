-- The command line's search expressions (`--query 'role = user and created_at > 2024-01-01'`), parsed
-- into the nested query of the search endpoints with intercom.query's builders, which check it.
--
--   expr    := and { OR and }                    OR binds looser than AND, as in SQL
--   and     := factor { AND factor }             and/or in any case, or && / ||
--   factor  := "(" expr ")" | field op value | field (in | nin | not in) list
--   op      := = != < > <= >= ~ !~ ^ $
--   list    := "(" value { "," value } ")"  or the same in [ ]
--   value   := "quoted" | 'quoted' | 123 | -4.5 | true | false | null | 2024-01-31[T10:00[:00][Z]] | bareword
--   field   := bareword (letters, digits, _ . -) | "quoted"
--
-- Choices (docs/cli.md, "Search expressions"):
-- * A bare word is a string (`role = user`), so the usual case needs no quotes; quote a word that looks
--   like a number, a boolean or a date to keep it a string (`phone = "0123"`).
-- * Integers stay integers (`created_at > 1700000000`); a date (UTC) becomes the UNIX timestamp Intercom's
--   date fields hold, so `created_at > 2024-01-01` means what it says.
-- * `a and b and c` is one AND group, and a group nested in a group of the same operator is merged into
--   it: the meaning is the same, and Intercom limits how deep groups nest.

local q = require "intercom.query"

local _M = {}

local null do
  local ok, core = pcall(require, "intercom.core")
  null = ok and core.null or nil
end

local BUILDERS = {
  ["="] = q.eq, ["!="] = q.ne, ["<"] = q.lt, [">"] = q.gt, ["<="] = q.le, [">="] = q.ge,
  ["~"] = q.contains, ["!~"] = q.not_contains, ["^"] = q.starts_with, ["$"] = q.ends_with,
  IN = q.is_in, NIN = q.not_in,
}

-- Symbol operators, longest first so that "!=" is not read as "!" then "=".
local SYMBOLS = { "!=", "<=", ">=", "!~", "=", "<", ">", "~", "^", "$" }

local Parser = {}
Parser.__index = Parser

local function fail(p, msg, at)
  error({ usage = true, message = ("--query: %s at column %d of %q"):format(msg, at or p.i, p.s) }, 0)
end

function Parser:skip()
  self.i = self.s:find("[^%s]", self.i) or (#self.s + 1)
end

function Parser:eof()
  self:skip()
  return self.i > #self.s
end

-- A keyword (and, or, in, nin, not) at the current position, followed by a word boundary.
function Parser:keyword(word)
  self:skip()
  local w = self.s:match("^[%a]+", self.i)
  if w and w:lower() == word then
    local after = self.s:sub(self.i + #w, self.i + #w)
    if after == "" or after:match("[%s%(%[\"']") then
      self.i = self.i + #w
      return true
    end
  end
  return false
end

function Parser:symbol(sym)
  self:skip()
  if self.s:sub(self.i, self.i + #sym - 1) == sym then
    self.i = self.i + #sym
    return true
  end
  return false
end

function Parser:quoted()
  local quote = self.s:sub(self.i, self.i)
  local start = self.i
  local out, i = {}, self.i + 1
  while true do
    local c = self.s:sub(i, i)
    if c == "" then fail(self, "unterminated string", start) end
    if c == quote then break end
    if c == "\\" and quote == '"' then
      i = i + 1
      c = self.s:sub(i, i)
      if c == "" then fail(self, "unterminated string", start) end
    end
    out[#out + 1] = c
    i = i + 1
  end
  self.i = i + 1
  return table.concat(out)
end

function Parser:field()
  self:skip()
  local c = self.s:sub(self.i, self.i)
  if c == '"' or c == "'" then return self:quoted() end
  local f = self.s:match("^[%w_%.%-]+", self.i)
  if not f then
    if c == "" then fail(self, "expected a field name, found the end") end
    fail(self, ("expected a field name, found %q"):format(c))
  end
  self.i = self.i + #f
  return f
end

function Parser:operator(field)
  self:skip()
  local at = self.i
  if self:keyword("in") then return "IN" end
  if self:keyword("nin") then return "NIN" end
  if self:keyword("not") then
    if self:keyword("in") then return "NIN" end
    fail(self, "expected \"in\" after \"not\"")
  end
  if self.s:sub(self.i, self.i + 1) == "==" then
    fail(self, "unknown operator \"==\" (did you mean \"=\"?)", at)
  end
  for _, sym in ipairs(SYMBOLS) do
    if self:symbol(sym) then return sym end
  end
  local found = self.s:match("^%S+", self.i)
  fail(self, ("expected an operator after %q (= != < > <= >= ~ !~ ^ $ in nin), found %s")
    :format(field, found and ("%q"):format(found) or "the end"), at)
end

-- Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil), with
-- math.floor rather than //, which LuaJIT cannot parse.
local function days_from_civil(y, m, d)
  local floor = math.floor
  y = m <= 2 and y - 1 or y
  local era = floor((y >= 0 and y or y - 399) / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

-- A date or date-time (UTC) as a UNIX timestamp, or nil when `word` is not one.
local function timestamp(word)
  local y, mo, d, rest = word:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
  if not y then return nil end
  local h, mi, s = 0, 0, 0
  if rest ~= "" then
    local hh, mm, ss = rest:match("^T(%d%d):(%d%d):?(%d?%d?)Z?$")
    if not hh then return nil end
    h, mi, s = tonumber(hh), tonumber(mm), tonumber(ss) or 0
  end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or s > 60 then return nil end
  local t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s
  return math.tointeger and math.tointeger(t) or t
end

-- A number, or nil. Leading zeros ("0123") make a string: such a word is an id or a phone number.
local function number(word)
  if word:match("^%-?[1-9]%d*$") or word:match("^%-?0$") then
    local n = tonumber(word)
    if math.tointeger then
      n = math.tointeger(n)
      if not n or string.format("%d", n) ~= word then return nil end   -- beyond 64 bits: the digits
    elseif math.abs(n) >= 2 ^ 53 then
      return nil                              -- not exact as a double: keep the digits as a string
    end
    return n
  end
  if word:match("^%-?%d+%.%d+$") then return tonumber(word) end
  return nil
end

function Parser:value()
  self:skip()
  local c = self.s:sub(self.i, self.i)
  if c == '"' or c == "'" then return self:quoted() end
  local word = self.s:match("^[^%s%(%)%[%],]+", self.i)
  if not word then
    fail(self, c == "" and "expected a value, found the end" or ("expected a value, found %q"):format(c))
  end
  self.i = self.i + #word
  if word == "true" then return true end
  if word == "false" then return false end
  if word == "null" then return null end
  local n = number(word)
  if n then return n end
  return timestamp(word) or word
end

function Parser:list()
  self:skip()
  local open = self.s:sub(self.i, self.i)
  local close = open == "(" and ")" or open == "[" and "]" or nil
  if not close then fail(self, "expected a list of values in ( ) or [ ]") end
  self.i = self.i + 1
  local values = {}
  repeat
    values[#values + 1] = self:value()
  until not self:symbol(",")
  if not self:symbol(close) then fail(self, ("expected \",\" or %q in the list"):format(close)) end
  return values
end

-- Builds with intercom.query, turning its misuse error (a string with a position) into a usage error.
local function build(p, at, fn, ...)
  local ok, node = pcall(fn, ...)
  if not ok then
    local msg = tostring(type(node) == "table" and node.message or node):gsub("^[^\n]-:%d+: ", "")
    fail(p, (msg:gsub("^intercom%.query: ", "")), at)
  end
  return node
end

local parse_or

function Parser:factor()
  self:skip()
  local at = self.i
  if self:symbol("(") then
    local node = parse_or(self)
    if not self:symbol(")") then fail(self, "expected \")\"") end
    return node
  end
  local field = self:field()
  local op = self:operator(field)
  local value
  if op == "IN" or op == "NIN" then value = self:list() else value = self:value() end
  return build(self, at, BUILDERS[op], field, value)
end

-- Members of a run of `op`: a member that is itself a group of the same operator is merged in.
local function group(p, at, op, members)
  if #members == 1 then return members[1] end
  local flat = {}
  for _, m in ipairs(members) do
    if m.field == nil and m.operator == op then
      for _, x in ipairs(m.value) do flat[#flat + 1] = x end
    else
      flat[#flat + 1] = m
    end
  end
  return build(p, at, op == "AND" and q.all or q.any, flat)
end

local function parse_and(p)
  p:skip()
  local at = p.i
  local members = { p:factor() }
  while p:keyword("and") or p:symbol("&&") do members[#members + 1] = p:factor() end
  return group(p, at, "AND", members)
end

parse_or = function(p)
  p:skip()
  local at = p.i
  local members = { parse_and(p) }
  while p:keyword("or") or p:symbol("||") do members[#members + 1] = parse_and(p) end
  return group(p, at, "OR", members)
end

--- Parses a search expression into an intercom.query filter or group. Raises `{usage = true, message}`
--- naming the column of the first problem.
---@param s string
---@return table query
function _M.parse(s)
  local p = setmetatable({ s = s, i = 1 }, Parser)
  if p:eof() then fail(p, "the expression is empty") end
  local node = parse_or(p)
  if not p:eof() then
    fail(p, ("expected \"and\", \"or\" or the end, found %q"):format(s:sub(p.i)))
  end
  return node
end

return _M
