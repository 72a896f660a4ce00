-- Export conversations to JSON lines: one conversation object per line, every page, one page in memory.
--
--   INTERCOM_API_KEY=... lua5.4 examples/export_conversations.lua [OUT.jsonl] [--since EPOCH]
--
-- Without OUT the lines go to standard output. With --since, only conversations updated after EPOCH
-- (a search on updated_at); otherwise every conversation (the list endpoint). INTERCOM_BASE_URL points
-- the client elsewhere.

local intercom = require "intercom"
local q = intercom.query

local out_path, since
local i = 1
while arg[i] do
  if arg[i] == "--since" then
    since = tonumber(arg[i + 1]) or error("--since needs an epoch second")
    i = i + 2
  else
    out_path = arg[i]
    i = i + 1
  end
end

local client = intercom.default_client()   -- INTERCOM_API_KEY, and INTERCOM_REGION or INTERCOM_BASE_URL
local out = out_path and assert(io.open(out_path, "w")) or io.stdout

local iter
if since then
  iter = client.conversations:search_each{ query = q.gt("updated_at", since), pagination = { per_page = 150 } }
else
  iter = client.conversations:each{ per_page = 150 }
end

local n = 0
-- The iterator raises the error object if a page fails: report it and keep what was written.
local ok, err = pcall(function()
  for conversation in iter do
    out:write(intercom.json.encode(conversation), "\n")
    n = n + 1
  end
end)
if out ~= io.stdout then out:close() end
io.stderr:write(("%d conversations exported%s\n"):format(n, out_path and (" to " .. out_path) or ""))
if not ok then
  io.stderr:write("stopped by an error: " .. tostring(err) .. "\n")
  os.exit(1)
end
