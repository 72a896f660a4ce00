-- Concurrency: client:map runs fn(item) for each item in its own coroutine (DESIGN.md, "Concurrency").
--
-- The scheduler is a plain Lua loop. A task (the coroutine of one item) that sends a request adds it to
-- one curl multi handle (intercom.core's multi) and yields; a task that must wait before a retry yields
-- too, into a timer list. The loop resumes tasks as their responses come in and their timers expire, and
-- starts the next item whenever a task ends, so no more than `concurrency` items run at once. libcurl never
-- calls into Lua: the loop drives the multi (add, perform, remove) between resumes.
--
-- Nothing above the transport knows about this: client.lua's _perform (URL, headers, retries, backoff,
-- rate-limit state) runs unchanged inside a task, because the curl transport's request and sleep ask
-- `current()` whether they run in a task and, if so, yield instead of blocking. Anything else keeps
-- blocking: a call outside map, or inside a coroutine of the caller's own (its yields belong to the
-- caller). A map called inside a task adds its items to the running scheduler and waits for them.
--
-- `items` may be an iterator (a function returning the next item, nil at the end): it is called for the
-- next item only when a worker is free, so a whole workspace (client.contacts:each()) streams through in
-- bounded memory. With `fail_fast`, no new item starts after the first error; the ones running finish.
--
-- Inside nginx (where cosockets exist) there is no multi: each of `concurrency` workers is an ngx.thread
-- that takes the next item and runs fn; the ngx transport's cosockets yield to nginx's event loop, so the
-- workers' requests overlap just the same (ngx_map below).

local core = require "intercom.core"
local errors = require "intercom.errors"
local misuse = require "intercom.misuse"
local options = require "intercom.options"

local co_create, co_resume, co_yield = coroutine.create, coroutine.resume, coroutine.yield
local co_running, co_status = coroutine.running, coroutine.status

local _M = {}

_M.DEFAULT_CONCURRENCY = 16

-- The first value of every yield the scheduler understands; anything else was yielded by fn itself.
local SIGNAL = setmetatable({}, { __name = "intercom.scheduler.signal" })

-- Task coroutine -> { sched, group, index }. Weak keys: an abandoned coroutine is just garbage.
local tasks = setmetatable({}, { __mode = "k" })

local Scheduler = {}
Scheduler.__index = Scheduler

--- The scheduler running the current coroutine as a map task, or nil.
function _M.current()
  local task = tasks[co_running() or SIGNAL]
  return task and task.sched
end

--- Waits `seconds`: yields to the scheduler inside a map task, blocks otherwise.
---@param seconds number
function _M.sleep(seconds)
  if seconds <= 0 then return end
  if _M.current() then
    co_yield(SIGNAL, "sleep", seconds)
  else
    core.sleep(seconds)
  end
end

--- Called by the curl transport inside a task: starts `req` on the scheduler's multi (the first curl
--- transport to send provides it, so one map uses one multi) and yields until the response is in.
--- Returns what session:perform returns: status, headers, body, value, or nil, kind, message, details.
function Scheduler:request(transport, req, conn_opts)
  local multi = self.multi
  if not multi then
    multi = transport:multi()
    self.multi = multi
  end
  local id, kind, message, details = multi:add(req, conn_opts)   -- raises on misuse, in the task
  if not id then return nil, kind, message, details end
  return co_yield(SIGNAL, "transfer", id)
end

function Scheduler:push(co, a, b, c, d)
  local tail = self.tail + 1
  self.tail = tail
  self.ready[tail] = { co, a, b, c, d }
end

-- The next item of group g and its index, or nil when there is none (or fail_fast stopped the group). An
-- iterator that raises ends the items: what it raised becomes the error of the item it was asked for.
local function next_item(g)
  if g.stopped then return nil end
  local i = g.next
  if not g.pull then
    if i > g.n then return nil end
    g.next = i + 1
    return i, g.items[i]
  end
  local ok, item = pcall(g.pull)
  if not ok then
    g.errs[i], g.stopped = item, true
    return nil
  end
  if item == nil then
    g.stopped = true
    return nil
  end
  g.next = i + 1
  return i, item
end
_M.next_item = next_item

-- Starts items of group g until it runs `concurrency` of them or has none left.
function Scheduler:start_more(g)
  while g.active < g.concurrency do
    local i, item = next_item(g)
    if not i then break end
    g.active = g.active + 1
    local fn = g.fn
    local co = co_create(function() return fn(item) end)
    tasks[co] = { sched = self, group = g, index = i }
    self:push(co)
  end
end

function Scheduler:finish(co, ok, result, err)
  local task = tasks[co]
  tasks[co] = nil
  local g, i = task.group, task.index
  if not ok then
    g.errs[i] = errors.traced_in(result, co)   -- what fn raised: an error object or a message
  else
    g.results[i] = result
    if result == nil then g.errs[i] = err end
  end
  if g.fail_fast and g.errs[i] ~= nil then g.stopped = true end
  g.active = g.active - 1
  self:start_more(g)
  if g.active == 0 then
    g.finished = true
    if g.waiter then self:push(g.waiter, g.results, g.errs) end
  end
end

function Scheduler:resume(co, a, b, c, d)
  local ok, r1, r2, r3 = co_resume(co, a, b, c, d)
  if co_status(co) == "dead" then return self:finish(co, ok, r1, r2) end
  if r1 ~= SIGNAL then
    -- Nobody could receive that value: this item fails rather than hanging.
    return self:finish(co, false, "client:map: fn yielded by itself (only intercom operations may suspend a "
      .. "map task; run your own coroutines inside fn instead)")
  end
  if r2 == "transfer" then
    self.inflight[r3] = co
    self.n_inflight = self.n_inflight + 1
  elseif r2 == "sleep" then
    self.timers[#self.timers + 1] = { core.now() + r3, co }
  end
  -- "join": a nested map; the last of its items wakes this task up (finish)
end

-- Seconds until the earliest timer (possibly <= 0), or nil without timers.
function Scheduler:next_timer()
  local now, wait = core.now(), nil
  for _, t in ipairs(self.timers) do
    local w = t[1] - now
    if not wait or w < wait then wait = w end
  end
  return wait
end

function Scheduler:wake_timers()
  local now, keep = core.now(), {}
  for _, t in ipairs(self.timers) do
    if t[1] <= now then self:push(t[2]) else keep[#keep + 1] = t end
  end
  self.timers = keep
end

-- The longest single wait in perform: the loop just goes round again.
local MAX_WAIT = 60

function Scheduler:run(group)
  local ready, inflight = self.ready, self.inflight
  while not group.finished do
    while self.head <= self.tail do
      local e = ready[self.head]
      ready[self.head] = nil
      self.head = self.head + 1
      self:resume(e[1], e[2], e[3], e[4], e[5])
    end
    if group.finished then break end
    local wait = self:next_timer()
    if self.n_inflight > 0 then
      local done = self.multi:perform(wait and math.max(wait, 0) or MAX_WAIT)
      for _, r in ipairs(done) do
        local co = inflight[r[1]]
        if co then
          inflight[r[1]] = nil
          self.n_inflight = self.n_inflight - 1
          self:push(co, r[2], r[3], r[4], r[5])
        end
      end
    elseif wait then
      core.sleep(wait)
    else
      error("intercom: client:map has tasks waiting for nothing (a bug)")
    end
    if self.timers[1] then self:wake_timers() end
  end
end

-- Drops what a failed run left in flight; the multi itself belongs to its transport and stays open.
function Scheduler:abandon()
  local multi = self.multi
  if multi and not multi:closed() then
    for id in pairs(self.inflight) do multi:remove(id) end
  end
  self.inflight, self.n_inflight = {}, 0
end

local MAP_OPTIONS = {
  concurrency = function(v, name)
    if type(v) ~= "number" or v ~= math.floor(v) or v < 1 or v == math.huge then
      misuse.raise(name .. ": expected a positive integer, got " .. tostring(v))
    end
    return v
  end,
  fail_fast = function(v, name)
    if type(v) ~= "boolean" then misuse.raise(name .. ": expected a boolean, got " .. type(v)) end
    return v
  end,
}

local function new_group(items, fn, o, waiter)
  local pull = type(items) == "function" and items or nil
  return { items = not pull and items or nil, pull = pull, fn = fn, n = not pull and #items or nil,
           concurrency = o.concurrency or _M.DEFAULT_CONCURRENCY, fail_fast = o.fail_fast, next = 1, active = 0,
           results = {}, errs = {}, waiter = waiter, finished = false }
end

-- ---- inside nginx: ngx.thread workers ----------------------------------------------------------------

local function ngx_map(ngx, items, fn, o)
  local g = new_group(items, fn, o, nil)
  local function worker()
    while true do
      local i, item = next_item(g)
      if not i then return end
      local ok, result, err = pcall(fn, item)
      if not ok then
        g.errs[i] = result
      else
        g.results[i] = result
        if result == nil then g.errs[i] = err end
      end
      if g.fail_fast and g.errs[i] ~= nil then g.stopped = true end
    end
  end
  local threads = {}
  for w = 1, g.concurrency do
    if g.pull == nil and w > g.n then break end
    local th, err = ngx.thread.spawn(worker)
    if not th then error("client:map: ngx.thread.spawn failed: " .. tostring(err), 0) end
    threads[#threads + 1] = th
  end
  for _, th in ipairs(threads) do
    local ok, err = ngx.thread.wait(th)
    if not ok then error(err, 0) end
  end
  return g.results, g.errs
end

local function in_ngx_cosocket_phase()
  local ngx = rawget(_G, "ngx")
  if type(ngx) ~= "table" or type(ngx.thread) ~= "table" then return nil end
  if not require("intercom.transport.ngx").cosockets_allowed() then return nil end
  return ngx
end

--- Runs `fn` once the outermost running map has finished (at once when no map runs): a client:close()
--- inside a task must not pull the multi from under the other tasks.
function _M.after_map(fn)
  local sched = _M.current()
  if not sched then return fn() end
  sched.after[#sched.after + 1] = fn
end

--- client:map(items, fn, opts): runs fn(item) for every item, up to opts.concurrency at once, and returns
--- results, errs in input order (errs[i] when fn returned nil, err or raised). See client.lua.
function _M.map(items, fn, opts)
  if type(items) ~= "table" and type(items) ~= "function" then
    misuse.raise("client:map: items must be a table (an array) or an iterator function, got " .. type(items))
  end
  if type(fn) ~= "function" then
    misuse.raise("client:map: fn must be a function, got " .. type(fn))
  end
  local o = options.check(opts, MAP_OPTIONS, "client:map")

  local outer = _M.current()
  if outer then
    local g = new_group(items, fn, o, co_running())
    outer:start_more(g)
    if g.active == 0 then return g.results, g.errs end
    return co_yield(SIGNAL, "join")
  end

  local ngx = in_ngx_cosocket_phase()
  if ngx then return ngx_map(ngx, items, fn, o) end

  local g = new_group(items, fn, o, nil)
  local sched = setmetatable({ ready = {}, head = 1, tail = 0, inflight = {}, n_inflight = 0, timers = {},
                               after = {} }, Scheduler)
  sched:start_more(g)
  if g.active == 0 then return g.results, g.errs end
  local ok, err = pcall(sched.run, sched, g)
  if not ok then sched:abandon() end
  for _, after in ipairs(sched.after) do after() end
  if not ok then error(err, 0) end
  return g.results, g.errs
end

return _M
