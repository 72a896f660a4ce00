-- Sync contacts from a CSV file: update the contact when one exists (matched by external_id, else by
-- email), create it otherwise.
--
--   INTERCOM_API_KEY=... lua5.4 examples/sync_contacts.lua contacts.csv [--dry-run]
--
-- The first line names the columns. `email` and/or `external_id` identify a contact; `name`, `phone` and
-- `role` (default "user") are standard fields; every other column becomes a custom attribute (sent as
-- the CSV's text: create the attribute in Intercom first). Fields are comma-separated, optionally in
-- double quotes ("" inside quotes is a quote). INTERCOM_BASE_URL points the client elsewhere.

local intercom = require "intercom"
local q = intercom.query

local STANDARD = { email = true, external_id = true, name = true, phone = true, role = true }

-- One CSV record per line (quoted fields may not span lines in this small reader).
local function parse_line(line)
  local fields, pos = {}, 1
  line = line:gsub("\r$", "")
  while true do
    if line:sub(pos, pos) == '"' then
      local value, i = {}, pos + 1
      while true do
        local c = line:sub(i, i)
        if c == "" then error("unterminated quote in: " .. line) end
        if c == '"' then
          if line:sub(i + 1, i + 1) == '"' then value[#value + 1] = '"'; i = i + 2 else i = i + 1; break end
        else
          value[#value + 1] = c; i = i + 1
        end
      end
      fields[#fields + 1] = table.concat(value)
      pos = i
    else
      local stop = line:find(",", pos, true) or (#line + 1)
      fields[#fields + 1] = line:sub(pos, stop - 1)
      pos = stop
    end
    if line:sub(pos, pos) ~= "," then return fields end
    pos = pos + 1
  end
end

local function read_csv(path)
  local f = assert(io.open(path, "r"))
  local header, rows = nil, {}
  for line in f:lines() do
    if line:find("%S") then
      local fields = parse_line(line)
      if not header then
        header = fields
      else
        local row = {}
        for i, name in ipairs(header) do row[name] = fields[i] ~= "" and fields[i] or nil end
        rows[#rows + 1] = row
      end
    end
  end
  f:close()
  return rows
end

-- The contact body for a row: standard fields, the rest as custom attributes.
local function body_of(row)
  local body, custom = { role = row.role or "user" }, {}
  for k, v in pairs(row) do
    if STANDARD[k] then body[k] = v else custom[k] = v end
  end
  if next(custom) then body.custom_attributes = custom end
  return body
end

local function find_existing(client, row)
  local query = row.external_id and q.eq("external_id", row.external_id) or q.eq("email", row.email)
  local page, err = client.contacts:search{ query = query, pagination = { per_page = 1 } }
  if not page then return nil, err end
  return page:items()[1]
end

local path = arg[1]
if not path then
  io.stderr:write("usage: sync_contacts.lua FILE.csv [--dry-run]\n")
  os.exit(2)
end
local dry_run = arg[2] == "--dry-run"

local client = intercom.default_client()   -- INTERCOM_API_KEY, and INTERCOM_REGION or INTERCOM_BASE_URL
local created, updated, failed = 0, 0, 0
for n, row in ipairs(read_csv(path)) do
  local who = row.external_id or row.email
  if not who then
    io.stderr:write(("row %d: no email or external_id, skipped\n"):format(n))
    failed = failed + 1
  else
    local existing, err = find_existing(client, row)
    local result
    if err then
      result = nil
    elseif dry_run then
      result = true
    elseif existing then
      result, err = client.contacts:update(existing.id, body_of(row))
    else
      result, err = client.contacts:create(body_of(row))
    end
    if not result then
      failed = failed + 1
      io.stderr:write(("row %d (%s): %s\n"):format(n, who, tostring(err)))
    elseif existing then
      updated = updated + 1
      print(("updated %s (%s)"):format(who, existing.id))
    else
      created = created + 1
      print(("created %s%s"):format(who, type(result) == "table" and (" (" .. tostring(result.id) .. ")") or ""))
    end
  end
end
print(("%d created, %d updated, %d failed%s"):format(created, updated, failed, dry_run and " (dry run)" or ""))
os.exit(failed == 0 and 0 or 1)
