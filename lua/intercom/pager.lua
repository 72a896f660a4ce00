-- Pages: one mechanism for every pagination style of the 2.12 to 2.16 specs (DESIGN.md, "Pagination").
--
-- A Page is the decoded list response itself (`page.data`, `page.total_count`, `page.pages` read as
-- usual) with methods from its metatable. What a page needs to fetch the next one (the client and the
-- call that produced it) is kept beside it in a weak table, so a page encodes back to JSON unchanged.
--
-- Styles, from operations.lua:
--   cursor  pages.next.starting_after, sent back as the `starting_after` query parameter (contacts,
--           conversations, activity logs). Falls back to page numbers when a response carries no
--           cursor but says which page of how many it is.
--   search  the same cursor, sent back in the body as pagination.starting_after (the search POSTs)
--   page    page numbers, sent back as the `page` query parameter (companies, articles, collections,
--           notes, news, attached contacts/companies). The number comes from `pages.next.page`, from
--           the `page=` of a `pages.next` URL (the spec's pages_link), or is `pages.page + 1`. A cursor
--           in `pages.next` is ignored here: these endpoints document `page`, and the official SDKs
--           page them by number.
--           The same style reads page / total_pages at the top level when there is no `pages` object
--           (audiences, content_snippets: 2.16).
--   next_cursor  an opaque `cursor` query parameter; the answer has `next_cursor` and `has_more`
--           (contacts:list_merge_history, 2.16). Stops when has_more is false or next_cursor is missing.
--   body_page  page numbers sent back in the JSON body as `page`, read from pages.page / total_pages
--           (admins:search_activity_logs, 2.16).
--   scroll  scroll_param, sent back as the `scroll_param` query parameter (companies:scroll). Intercom
--           returns the same scroll_param on every page of one scroll, so a repeated one is normal: the
--           scroll ends on an empty page, as Intercom documents.
-- Every style stops on an empty page and when page >= total_pages, so none fetches an empty page it
-- could have known about. None loops: a cursor or page number already followed ends the chain, and a
-- scroll page identical to the one before (same first and last id, same size) ends it too.

local errors = require "intercom.errors"

local _M = {}

---@class intercom.Page
---@field data table[]|nil
---@field total_count integer|nil
---@field pages table|nil
local Page = {}
Page.__index = Page
Page.__name = "intercom.page"

local state = setmetatable({}, { __mode = "k" })   -- page -> { client, call, seen, prev }

-- Intercom's advice for the two scroll errors, added to the message it sends (the code stays as sent).
local SCROLL_EXISTS = "another scroll is already open for this workspace: Intercom allows one scroll at a "
  .. "time per workspace, and an open scroll expires 1 minute after its last request. Finish the other "
  .. "scroll, or wait a minute and start again"
local SCROLL_EXPIRED = "the scroll expired (a scroll is dropped 1 minute after its last request) or was "
  .. "never opened: start a new scroll without scroll_param; it cannot resume where it stopped"

local function copy(t)
  local c = {}
  if t then for k, v in pairs(t) do c[k] = v end end
  return c
end

--- Wraps a decoded list response. `seen` is the set of cursors already followed in this chain,
--- `prev` the fingerprint of the page before (scroll only).
---@param client intercom.Client the client that fetches the next pages
---@param call table the call that produced `result` (client.lua's call record)
---@param result table the decoded list response; it becomes the Page
---@param seen table<string, boolean>|nil cursors and page numbers already followed
---@param prev string|nil the fingerprint of the previous scroll page
---@return intercom.Page
function _M.new(client, call, result, seen, prev)
  state[result] = { client = client, call = call, seen = seen or {}, prev = prev }
  return setmetatable(result, Page)
end

--- Adds Intercom's documented advice to the errors of a scroll (one open scroll per workspace;
--- expiry after a minute). Other errors are returned unchanged.
---@param call table
---@param err intercom.ErrorObject|nil
---@return intercom.ErrorObject|nil
function _M.explain(call, err)
  if call.page ~= "scroll" or type(err) ~= "table" or err.kind ~= "api" then return err end
  local msg = type(err.message) == "string" and err.message or ""
  if err.code == "scroll_exists" or (err.status == 400 and msg:lower():find("scroll already exists", 1, true)) then
    err.message = SCROLL_EXISTS .. " (Intercom: " .. msg .. ")"
  elseif err.status == 404 and call.params and call.params.scroll_param ~= nil then
    err.message = SCROLL_EXPIRED .. " (Intercom: " .. msg .. ")"
  end
  return err
end

-- `items` may name a nested array: "data.articles" for GET /articles/search.
local function lookup(t, key)
  if not key:find(".", 1, true) then return rawget(t, key) end
  for part in key:gmatch("[^.]+") do
    if type(t) ~= "table" then return nil end
    t = rawget(t, part)
  end
  return t
end

--- The array of this page's items (`data`, or the operation's own key such as `conversations`).
---@return table[]
function Page:items()
  local call = state[self].call
  local list = call.items and lookup(self, call.items)
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

-- POST /admins/activity_logs/search (2.16): page and per_page travel in the JSON body.
local function with_body_param(call, name, value)
  local c = copy(call)
  c.body = copy(call.body)
  c.body[name] = value
  return c
end

local function integer(v)
  v = tonumber(v)
  if v and v == math.floor(v) then return v end
  return nil
end

-- What identifies a scroll page: an unchanged one means the scroll is not moving.
local function fingerprint(items)
  local n = #items
  local first, last = items[1], items[n]
  local id = function(x) return type(x) == "table" and tostring(x.id) or tostring(x) end
  return n .. "|" .. id(first) .. "|" .. id(last)
end

local function next_scroll(page, s, items)
  local sp = rawget(page, "scroll_param")
  if type(sp) ~= "string" or sp == "" then return nil end
  if s.prev and s.prev == fingerprint(items) then return nil end
  return with_param(s.call, "scroll_param", sp), nil
end

-- GET /contacts/{id}/merge_history (2.16): an opaque `cursor` parameter, and the answer's next_cursor and
-- has_more say whether and where to go on.
local function next_opaque(page, s)
  local cursor = rawget(page, "next_cursor")
  if rawget(page, "has_more") == false or type(cursor) ~= "string" or cursor == "" then return nil end
  if s.seen[cursor] then return nil end
  return with_param(s.call, "cursor", cursor), cursor
end

-- The page number to ask for next in the "page" style, or nil at the end.
local function next_page_number(pages, call, current, total)
  local nxt = pages.next
  local n
  if type(nxt) == "table" then
    n = integer(nxt.page)
  elseif type(nxt) == "string" and nxt ~= "" then
    n = integer(nxt:match("[?&]page=(%d+)"))
  end
  local has_next = type(nxt) == "table" or (type(nxt) == "string" and nxt ~= "")
  if not (has_next or (total and current < total)) then return nil end   -- no next link: the end
  n = n or current + 1
  if n <= current then return nil end
  if call.page ~= "page" and not (total and n <= total) then return nil end
  return n
end

-- The call that fetches the page after `page`, and the key it is remembered by; nil at the end.
local function next_call(page)
  local s = state[page]
  local call = s.call
  local items = page:items()
  if #items == 0 then return nil end
  if call.page == "scroll" then return next_scroll(page, s, items) end
  if call.page == "next_cursor" then return next_opaque(page, s) end
  local pages = rawget(page, "pages")
  -- GET /audiences, /content_snippets (2.16): page, per_page and total_pages at the top level
  if pages == nil and call.page == "page" and integer(rawget(page, "total_pages")) then pages = page end
  if type(pages) ~= "table" then return nil end
  if call.page == "body_page" then
    local current, total = integer(pages.page) or integer(call.body and call.body.page) or 1,
      integer(pages.total_pages)
    if not total or current >= total or s.seen["page:" .. (current + 1)] then return nil end
    return with_body_param(call, "page", current + 1), "page:" .. (current + 1)
  end
  local requested = call.params and integer(call.params.page)
  local current = integer(pages.page) or requested or 1
  local total = integer(pages.total_pages)
  if total and current >= total then return nil end
  if call.page ~= "page" then
    local nxt = pages.next
    local cursor = type(nxt) == "table" and nxt.starting_after
    if type(cursor) == "number" then cursor = string.format("%d", cursor) end
    if type(cursor) == "string" and cursor ~= "" then
      if s.seen[cursor] then return nil end
      if call.page == "search" then return with_body_cursor(call, cursor), cursor end
      return with_param(call, "starting_after", cursor), cursor
    end
    if call.page == "search" or not (integer(pages.page) and total) then return nil end
  end
  local n = next_page_number(pages, call, current, total)
  if not n or s.seen["page:" .. n] then return nil end
  return with_param(call, "page", n), "page:" .. n
end

--- True when there is a page after this one.
---@return boolean
function Page:has_next()
  return next_call(self) ~= nil
end

--- Fetches the next page: returns the Page, or nil at the end, or nil, err, response on failure.
---@return intercom.Page|nil, intercom.ErrorObject|nil, intercom.Response|nil
function Page:next_page()
  local call, key = next_call(self)
  if not call then return nil end
  local s = state[self]
  local seen = s.seen
  if key then seen[key] = true end
  local result, err, resp = s.client:_perform(call)
  if not result then return nil, _M.explain(call, err), resp end
  if type(result) ~= "table" then return nil, nil, resp end
  local prev = call.page == "scroll" and fingerprint(self:items()) or nil
  return _M.new(s.client, call, result, seen, prev), nil, resp
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
      if err then page = nil; errors.raise(err) end
      page, items, i = nxt, nxt and nxt:items(), 0
    end
    return nil
  end
end

_M.Page = Page

return _M
