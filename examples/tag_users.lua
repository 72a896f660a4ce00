-- Tag every user matching a search: creates the tag if needed, then tags each contact found.
--
--   INTERCOM_API_KEY=... lua5.4 examples/tag_users.lua TAG FIELD OPERATOR VALUE
--   e.g.  lua5.4 examples/tag_users.lua "Beta" email '$' "@example.com"
--
-- OPERATOR is one of Intercom's search operators (= != ~ !~ ^ $ < > ...); only contacts with role "user"
-- are tagged. INTERCOM_BASE_URL points the client elsewhere.

local intercom = require "intercom"
local q = intercom.query

local tag_name, field, op, value = arg[1], arg[2], arg[3], arg[4]
if not (tag_name and field and op and value) then
  io.stderr:write("usage: tag_users.lua TAG FIELD OPERATOR VALUE\n")
  os.exit(2)
end
if op == "<" or op == ">" or op == "<=" or op == ">=" then value = tonumber(value) or value end

local client = intercom.default_client()   -- INTERCOM_API_KEY, and INTERCOM_REGION or INTERCOM_BASE_URL

-- POST /tags creates the tag, or returns the existing one of that name.
local tag = assert(client.tags:create{ name = tag_name })

local query = q.all(q.eq("role", "user"), { field = field, operator = op, value = value })
q.validate(query)

local tagged, failed = 0, 0
for contact in client.contacts:search_each{ query = query, pagination = { per_page = 150 } } do
  local ok, err = client.tags:tag_contact(contact.id, { id = tag.id })
  if ok then
    tagged = tagged + 1
    print(("tagged %s <%s>"):format(contact.id, tostring(contact.email)))
  else
    failed = failed + 1
    io.stderr:write(("%s: %s\n"):format(contact.id, tostring(err)))
  end
end
print(("%d contacts tagged %q, %d failed"):format(tagged, tag.name, failed))
os.exit(failed == 0 and 0 or 1)
