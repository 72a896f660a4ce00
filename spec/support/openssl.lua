--- Independent HMAC-SHA1 vectors for the webhook specs: `openssl dgst`, never the code under test.
local _M = {}

local function tohex(s)
  return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

--- HMAC-SHA1 of `msg` under `key` as lowercase hex, computed by openssl: the key goes as hex (so any bytes
--- work), the message through a file. Raises when openssl is missing (make deps installs it).
function _M.hmac_sha1_hex(key, msg)
  local ok = os.execute("command -v openssl >/dev/null 2>&1")
  assert(ok == true or ok == 0, "openssl is needed for independent vectors (make deps installs it)")
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(msg)
  f:close()
  local p = assert(io.popen(("openssl dgst -sha1 -mac HMAC -macopt hexkey:%s < %s 2>&1"):format(tohex(key), path)))
  local out = p:read("*a")
  p:close()
  os.remove(path)
  return assert(out:match("(%x+)%s*$"), "unexpected openssl output: " .. out)
end

return _M
