-- Quickstart: who am I, the first contacts, a search, and what an error looks like.
--
--   INTERCOM_API_KEY=... lua5.4 examples/quickstart.lua      -- against your workspace (read-only calls)
--   make demo                                                -- against the local test server, no token
--
-- INTERCOM_BASE_URL points the client elsewhere (make demo sets it to the local test server);
-- INTERCOM_REGION picks "us" (default), "eu" or "au".

local intercom = require "intercom"

-- the default client: its token, region or base URL come from those variables
local client = intercom.default_client()
print("client: " .. tostring(client))

local me, err, resp = client.admins:identify()
if not me then error(err) end
print(("admin: %s <%s>, workspace %s"):format(me.name, me.email, me.app and me.app.id_code or "?"))
print(("rate limit: %s of %s left"):format(tostring(resp.rate_limit.remaining), tostring(resp.rate_limit.limit)))

print("first contacts, two per page:")
local n = 0
for contact in client.contacts:each{ per_page = 2 } do
  n = n + 1
  print(("  %d. %s <%s>"):format(n, tostring(contact.name), tostring(contact.email)))
  if n == 5 then break end
end

local page = assert(client.contacts:search{
  query = { field = "role", operator = "=", value = "user" },
  pagination = { per_page = 3 },
})
print(("search role = user: %d total, %d on the first page"):format(page.total_count or -1, #page:items()))

local _, nf = client.contacts:find("does-not-exist")
print("and an error object reads like this:")
print("  " .. tostring(nf))
