-- Handlers for examples/nginx.conf: an Intercom webhook endpoint and a small API proxy. Inside nginx the
-- library uses cosockets by itself, so these calls never block the worker.

local intercom = require "intercom"

local ngx = ngx
local json = intercom.json

local _M = {}

local client        -- one per worker: created on first use, reused by every request

local function api()
  if not client then
    client = intercom.default_client()   -- INTERCOM_API_KEY, and INTERCOM_REGION or INTERCOM_BASE_URL
  end
  return client
end

local function reply(status, value)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(json.encode(value))
  return ngx.exit(status)
end

-- The raw body exactly as received (the signature covers these bytes), from memory or its temp file.
local function raw_body()
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if body then return body end
  local path = ngx.req.get_body_file()
  if not path then return "" end
  local f = assert(io.open(path, "rb"))
  body = f:read("*a")
  f:close()
  return body
end

-- Work that calls the API after the webhook was answered (Intercom wants a quick 200).
local function follow_up(premature, note)
  if premature then return end
  local tag_id = os.getenv("INTERCOM_NEW_USER_TAG_ID")
  if note.topic == "contact.user.created" and tag_id and tag_id ~= "" then
    local contact = note.data and note.data.item
    local ok, err = api().tags:tag_contact(contact.id, { id = tag_id })
    if not ok then ngx.log(ngx.ERR, "tagging new user ", contact.id, ": ", tostring(err)) end
  end
end

--- POST /webhooks: verify X-Hub-Signature, answer at once, then act on the notification in a timer.
function _M.webhook()
  if ngx.req.get_method() ~= "POST" then return reply(405, { error = "POST only" }) end
  local secret = os.getenv("INTERCOM_CLIENT_SECRET")
  if not secret or secret == "" then return reply(500, { error = "INTERCOM_CLIENT_SECRET is not set" }) end
  local note, why = intercom.webhooks.handle(raw_body(), ngx.req.get_headers()["x-hub-signature"], secret)
  if not note then return reply(401, { error = why }) end
  ngx.log(ngx.INFO, "intercom webhook ", note.topic, " ", tostring(note.id))
  local ok, err = ngx.timer.at(0, follow_up, note)
  if not ok then ngx.log(ngx.ERR, "cannot start the follow-up: ", err) end
  return reply(200, { received = note.id, topic = note.topic })
end

--- GET /api/contacts/<id>: the contact, fetched with the server's token; Intercom's errors pass through.
function _M.contact(id)
  local contact, err = api().contacts:find(id)
  if not contact then
    local status = (err.kind == "api" or err.kind == "rate_limited") and err.status or 502
    return reply(status, { error = err.code or err.kind, message = err.message, request_id = err.request_id })
  end
  return reply(200, contact)
end

return _M
