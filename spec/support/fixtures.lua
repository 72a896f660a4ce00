-- Shared pieces for specs: a client pointed at the test server, and Intercom-shaped JSON documents.

local control = require "support.control"

local _M = {}

_M.TOKEN = "tok_SECRET_abc123"

--- A client talking to the scriptable test server, with fast retries unless the spec says otherwise.
function _M.client(opts)
  local intercom = require "intercom"
  local o = { base_url = control.url(), token = _M.TOKEN }
  for k, v in pairs(opts or {}) do o[k] = v end
  return intercom.new(o)
end

--- A contact as Intercom 2.12 returns it.
function _M.contact(id, extra)
  local c = {
    type = "contact", id = id, workspace_id = "ecahpwf5", external_id = "ext-" .. id,
    role = "user", email = id .. "@example.com", name = "Contact " .. id,
    created_at = 1700000000, updated_at = 1700000100,
    custom_attributes = { plan = "pro" },
    tags = { type = "list", data = {}, url = "/contacts/" .. id .. "/tags", total_count = 0, has_more = false },
  }
  for k, v in pairs(extra or {}) do c[k] = v end
  return c
end

--- A cursor-paginated contact list page: ids, the next cursor (or nil), page number, total pages.
function _M.contact_page(ids, cursor, page, total_pages)
  local data = {}
  for i, id in ipairs(ids) do data[i] = _M.contact(id) end
  local pages = { type = "pages", page = page or 1, per_page = #ids, total_pages = total_pages or 1 }
  if cursor then pages.next = { per_page = #ids, starting_after = cursor } end
  return { type = "list", data = data, total_count = #ids, pages = pages }
end

--- Intercom's error body.
function _M.error_list(code, message, field)
  return { type = "error.list", request_id = "req-" .. code,
           errors = { { code = code, message = message, field = field } } }
end

return _M
