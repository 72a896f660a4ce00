-- CPU time of `require "intercom"` plus `intercom.new{}` (what a script or an nginx worker pays once).
-- Prints milliseconds of CPU (os.clock) for the two together, measured in a fresh process.
local t0 = os.clock()
local intercom = require "intercom"
local client = intercom.new{ token = "bench-token" }
local t1 = os.clock()
assert(client.contacts)
io.write(string.format('{"cpu_ms": %.3f}\n', (t1 - t0) * 1000))
