-- Pages: one mechanism for the four pagination styles of the 2.12 spec (DESIGN.md, "Pagination").
--
-- A Page is the decoded list response itself (`page.data`, `page.total_count`, `page.pages` read as
-- usual) with methods from its metatable. What a page needs to fetch the next one (the client and the
-- call that produced it) is kept beside it in a weak table, so a page encodes back to JSON unchanged.
--
-- Styles, from operations.lua:
--   cursor  pages.next.starting_after, sent back as the `starting_after` query parameter
--   search  the same cursor, sent back in the body as pagination.starting_after
--   page    pages.page / pages.total_pages, sent back as the `page` query parameter
--   scroll  scroll_param, sent back as the `scroll_param` query parameter
-- A cursor style falls back to page numbers when a response carries no cursor but says which page it
-- is. Every style stops on an empty page, on a cursor seen before, and when page == total_pages, so
-- no iterator loops or fetches an empty page it could have known about.

local _M = {}

---@class intercom.Page
---@field data table[]|nil
---@field total_count integer|nil
---@field pages table|nil
local Page = {}
Page.__index = Page
Page.__name = "intercom.page"

local state = setmetatable({}, { __mode = "k" })   -- page -> { client, call, seen }

local function copy(t)
  local c = {}
  if t then for k, v in pairs(t) do c[k] = v end end
  return c
end

--- Wraps a decoded list response. `seen` is the set of cursors already followed in this chain.
---@param client intercom.Client the client that fetches the next pages
---@param call table the call that produced `result` (client.lua's call record)
---@param result table the decoded list response; it becomes the Page
---@param seen table<string, boolean>|nil cursors already followed
---@return intercom.Page
function _M.new(client, call, result, seen)
  state[result] = { client = client, call = call, seen = seen or {} }
  return setmetatable(result, Page)
end

--- The array of this page's items (`data`, or the operation's own key such as `conversations`).
---@return table[]
function Page:items()
  local call = state[self].call
  local list = call.items and rawget(self, call.items)
  if list == nil then list = rawget(self, "data") end
  if type(list) ~= "table" then return {} end
  return list
end

local function with_param(call, name, value)
  local c = copy(call)
  c.params = copy(call.params)
  c.params[name] = value
  return c
end

local function with_body_cursor(call, cursor)
  local c = copy(call)
  c.body = copy(call.body)
  local pagination = copy(type(c.body.pagination) == "table" and c.body.pagination or nil)
  pagination.starting_after = cursor
  c.body.pagination = pagination
  return c
end

-- The call that fetches the page after `page`, and the cursor it follows; nil at the end.
local function next_call(page)
  local s = state[page]
  local call = s.call
  if #page:items() == 0 then return nil end
  if call.page == "scroll" then
    local sp = rawget(page, "scroll_param")
    if type(sp) ~= "string" or sp == "" or s.seen[sp] then return nil end
    return with_param(call, "scroll_param", sp), sp
  end
  local pages = rawget(page, "pages")
  if type(pages) ~= "table" then return nil end
  local current, total = tonumber(pages.page), tonumber(pages.total_pages)
  if current and total and current >= total then return nil end
  local nxt = pages.next
  local cursor = type(nxt) == "table" and nxt.starting_after
  if type(cursor) == "number" then cursor = string.format("%d", cursor) end
  if type(cursor) == "string" and cursor ~= "" then
    if s.seen[cursor] then return nil end
    if call.page == "search" then return with_body_cursor(call, cursor), cursor end
    return with_param(call, "starting_after", cursor), cursor
  end
  if current and total and call.page ~= "search" then
    return with_param(call, "page", current + 1), "page:" .. (current + 1)
  end
  return nil
end

--- True when there is a page after this one.
---@return boolean
function Page:has_next()
  return next_call(self) ~= nil
end

--- Fetches the next page: returns the Page, or nil at the end, or nil, err, response on failure.
---@return intercom.Page|nil, intercom.Error|nil, intercom.Response|nil
function Page:next_page()
  local call, cursor = next_call(self)
  if not call then return nil end
  local s = state[self]
  local seen = s.seen
  seen[cursor] = true
  local result, err, resp = s.client:_perform(call)
  if not result then return nil, err, resp end
  if type(result) ~= "table" then return nil, nil, resp end
  return _M.new(s.client, call, result, seen), nil, resp
end

--- Iterates over every item from this page on, fetching the next pages lazily (one in memory at a
--- time). Raises the error object if a fetch fails: a generic `for` cannot return it.
---@return fun(): table|nil
function Page:each()
  local page, items, i = self, self:items(), 0
  return function()
    while page do
      i = i + 1
      local item = items[i]
      if item ~= nil then return item end
      local nxt, err = page:next_page()
      if err then page = nil; error(err, 2) end
      page, items, i = nxt, nxt and nxt:items(), 0
    end
    return nil
  end
end

_M.Page = Page

return _M
