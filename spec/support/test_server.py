#!/usr/bin/env python3
"""Scriptable HTTP/1.1 test server for the intercom-lua specs (Python 3 standard library only).

    python3 spec/support/test_server.py [--port N] [--host 127.0.0.1] [--demo] [--tls CERT KEY]

Prints one line, the base URL (http://127.0.0.1:PORT, or https:// with --tls), then serves until
SIGTERM/SIGINT. One thread per connection, HTTP/1.1 keep-alive, request bodies by Content-Length or chunked.
The HTTP handling is written over plain sockets (not http.server) because the fault modes need byte-level
control. --tls serves HTTPS with the given PEM certificate chain and key (the TLS handshake runs in the
connection's thread; a client that rejects the certificate just ends that connection).

Control API (JSON in and out, never recorded as requests):
  POST /__control/reset      clear queue, default, recorded requests and stats
  POST /__control/enqueue    one script or an array of scripts, appended to the FIFO queue
  POST /__control/default    one script used when no queued script matches; null clears it
  GET  /__control/requests   every recorded request, in arrival order
  GET  /__control/stats      {open, max_open, total, connections, accepted}
  POST /__control/ratelimit  {limit, window}: enforce a rate limit like Intercom's on every scripted request
                             (windows of `window` whole seconds aligned to the epoch; every answer carries
                             X-RateLimit-Limit/Remaining/Reset and a Date header; over the limit a 429
                             error.list is sent instead of the script, which stays queued); null switches it
                             off. Optional: clock_offset (seconds this server's clock is ahead, for the
                             windows, Reset and Date: a skewed server), reset_ms (true: Reset in milliseconds)

Script fields (all optional):
  status          integer, default 200
  headers         {name: value}; a list value sends the header once per element
  body            response body (text)
  body_base64     response body as base64 (exact bytes; spec/support/control.lua always uses this)
  json            any JSON value: serialized; Content-Type: application/json unless given in headers
  gzip            true: gzip the body and send Content-Encoding: gzip
  chunked         true: send the body with Transfer-Encoding: chunked
  interim         list of {status (1xx), headers} sent before the final response
  delay           seconds to wait before answering
  drip            seconds to wait between each byte of the body
  drop            "before_headers": close without answering; "mid_body": send the headers (full
                  Content-Length) and half of the body, then close. Note: libcurl replays a request once,
                  on a new connection, when a *reused* connection closes without any answer; to make such
                  a drop reach the caller, give it repeat = 2 (or drop on a connection's first request)
  reset           true: every close caused by this script is abortive (SO_LINGER 0: a TCP RST, so the
                  client sees "connection reset by peer" instead of an orderly end of stream)
  hang            true: read the request, then send nothing until the client gives up and closes
  reflect         true: every "{{name}}" in the body is replaced by the request's header `name` (lowercase),
                  like a debug page or proxy error page that echoes the request back
  content_length  value of the Content-Length header instead of the real length (the connection is closed
                  after the body, since the framing is then broken)
  close           true: answer with Connection: close and close the connection
  repeat          serve this script N times (default 1)
  match           {method, path}: only a request with this method / exact path (no query) takes the script;
                  the first matching script in the queue is used, unmatched ones stay queued
  fill            {size, byte}: a body of `size` copies of the one-character string `byte` (default "a"),
                  made here so that a huge body need not travel through the control API; with gzip it is
                  compressed piece by piece (and kept for the next script asking the same): a gzip bomb
  raw_base64      the whole answer as exact bytes (status line, head and body as given, malformed or not),
                  sent after reading the request, then the connection is closed; `drip` applies to them
                  from byte `drip_from` on (default 0: all of them)
"""

import argparse
import base64
import gzip as gzip_mod
import json
import os
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import uuid
import zlib
from http import HTTPStatus

MAX_LINE = 65536
MAX_HEADERS = 200
IDLE_TIMEOUT = 300.0

SCRIPT_FIELDS = {
    "status", "headers", "body", "body_base64", "json", "gzip", "chunked", "interim", "delay", "drip",
    "drop", "content_length", "close", "repeat", "match", "reset", "hang", "reflect", "fill", "raw_base64",
    "drip_from",
}

GZIP_CACHE = {}


def fill_body(fill, compress):
    """The body of a `fill` script: size copies of one byte, gzip-compressed in pieces when asked."""
    size = int(fill["size"])
    byte = fill.get("byte", "a").encode("latin-1")[:1] or b"a"
    if not compress:
        return byte * size
    key = (size, byte)
    if key not in GZIP_CACHE:
        z = zlib.compressobj(9, zlib.DEFLATED, 31)
        piece = byte * (1 << 20)
        out, left = [], size
        while left > 0:
            n = min(left, len(piece))
            out.append(z.compress(piece[:n]))
            left -= n
        out.append(z.flush())
        GZIP_CACHE.clear()
        GZIP_CACHE[key] = b"".join(out)
    return GZIP_CACHE[key]


class BadRequest(Exception):
    pass


class State:
    """Everything the control API manipulates, behind one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.epoch = 0
        self.queue = []          # [script, remaining]
        self.default = None
        self.requests = []
        self.open = 0
        self.max_open = 0
        self.total = 0
        self.connections = 0     # connections that carried a recorded request (since the last reset)
        self.accepted = 0        # every TCP connection accepted (since the last reset), control ones too
        self.next_conn = 0       # connection ids are never reused, not even across resets
        self.ratelimit = None    # {limit, window} when /__control/ratelimit switched it on
        self.rl_window = None    # start of the current rate-limit window, and requests counted in it
        self.rl_used = 0

    def reset(self):
        with self.lock:
            self.epoch += 1
            self.queue = []
            self.default = None
            self.requests = []
            # Requests still being answered from before the reset (a sleeping `delay`) no longer count.
            self.open = 0
            self.max_open = 0
            self.total = 0
            self.connections = 0
            self.accepted = 0
            self.ratelimit = None
            self.rl_window = None
            self.rl_used = 0

    def new_connection(self):
        with self.lock:
            self.next_conn += 1
            self.accepted += 1
            return self.next_conn

    def take(self, req, conn):
        """Records a request and picks its script (or the default, or None)."""
        with self.lock:
            req["epoch"] = self.epoch
            self.requests.append(req)
            self.total += 1
            self.open += 1
            self.max_open = max(self.max_open, self.open)
            if conn.counted_epoch != self.epoch:
                conn.counted_epoch = self.epoch
                self.connections += 1
            if self.ratelimit is not None:
                over, req["rl_headers"] = self.count_rate_limited(req["wall"])
                req["rate_limited"] = over
                if over:
                    return {"status": 429, "json": {
                        "type": "error.list", "request_id": "testserver-429",
                        "errors": [{"code": "rate_limit_exceeded", "message": "Rate Limit Exceeded"}]}}
            for i, entry in enumerate(self.queue):
                script = entry[0]
                if matches(script.get("match"), req):
                    entry[1] -= 1
                    if entry[1] <= 0:
                        del self.queue[i]
                    return script
            return self.default

    def count_rate_limited(self, wall):
        """Counts one request against the rate limit (lock held): (over the limit?, headers to send)."""
        limit, window = self.ratelimit["limit"], self.ratelimit["window"]
        wall = wall + self.ratelimit.get("clock_offset", 0)
        start = int(wall // window) * window
        if start != self.rl_window:
            self.rl_window, self.rl_used = start, 0
        self.rl_used += 1
        headers = [("X-RateLimit-Limit", str(limit)), ("X-RateLimit-Remaining", str(max(0, limit - self.rl_used))),
                   ("X-RateLimit-Reset", str((start + window) * (1000 if self.ratelimit.get("reset_ms") else 1))),
                   ("Date", time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(wall)))]
        return self.rl_used > limit, headers

    def done(self, req):
        with self.lock:
            if req["epoch"] == self.epoch:
                self.open -= 1

    def stats(self):
        with self.lock:
            return {"open": self.open, "max_open": self.max_open, "total": self.total,
                    "connections": self.connections, "accepted": self.accepted,
                    "queued": sum(e[1] for e in self.queue)}


def matches(m, req):
    if not m:
        return True
    if "method" in m and m["method"].upper() != req["method"].upper():
        return False
    if "path" in m and m["path"] != req["path"]:
        return False
    return True


def check_script(s):
    if not isinstance(s, dict):
        raise BadRequest("a script must be a JSON object, got %r" % (s,))
    unknown = set(s) - SCRIPT_FIELDS
    if unknown:
        raise BadRequest("unknown script field(s): %s (known: %s)"
                         % (", ".join(sorted(unknown)), ", ".join(sorted(SCRIPT_FIELDS))))
    if "drop" in s and s["drop"] not in ("before_headers", "mid_body"):
        raise BadRequest("drop must be \"before_headers\" or \"mid_body\"")
    if "match" in s:
        m = s["match"]
        if not isinstance(m, dict) or set(m) - {"method", "path"}:
            raise BadRequest("match must be an object with optional method and path")
    if "body" in s and "json" in s:
        raise BadRequest("give either body or json, not both")
    if "body_base64" in s and ("body" in s or "json" in s):
        raise BadRequest("give either body_base64 or body/json, not both")
    if "repeat" in s and (not isinstance(s["repeat"], int) or s["repeat"] < 1):
        raise BadRequest("repeat must be a positive integer")
    if "headers" in s and not isinstance(s["headers"], dict):
        raise BadRequest("headers must be an object")
    return s


def check_ratelimit(r):
    if r is None:
        return None
    if (not isinstance(r, dict) or set(r) - {"limit", "window", "clock_offset", "reset_ms"}
            or not isinstance(r.get("limit"), int) or not isinstance(r.get("clock_offset", 0), (int, float))
            or r["limit"] < 0 or not isinstance(r.get("window"), int) or r["window"] < 1):
        raise BadRequest("ratelimit must be null or {limit: integer >= 0, window: whole seconds >= 1}")
    return r


# ---- HTTP plumbing -----------------------------------------------------------------------------------

class Conn:
    def __init__(self, sock, conn_id):
        self.sock = sock
        self.id = conn_id
        self.rfile = sock.makefile("rb")
        self.counted_epoch = -1
        self.abort = False       # close with a TCP RST instead of a FIN

    def readline(self):
        line = self.rfile.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise BadRequest("line too long")
        return line

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        try:
            self.rfile.close()
        except OSError:
            pass
        if self.abort:
            # Linger on, timeout 0: close() discards unsent data and sends RST. No shutdown() first: that
            # would send the FIN this mode exists to avoid.
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
            self.sock.close()
            return
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def wait_for_close(self):
        """Sends nothing and returns once the client has closed its end (or the idle timeout passed)."""
        try:
            while self.sock.recv(4096):
                pass
        except OSError:
            pass


def read_request(conn):
    """Returns a request dict, or None when the client closed the connection between requests."""
    line = conn.readline()
    while line in (b"\r\n", b"\n"):  # tolerate stray CRLF between requests (RFC 9112 2.2)
        line = conn.readline()
    if not line:
        return None
    parts = line.decode("latin-1").rstrip("\r\n").split(" ")
    if len(parts) != 3:
        raise BadRequest("malformed request line")
    method, target, version = parts
    headers = {}
    order = []
    while True:
        h = conn.readline()
        if not h:
            raise BadRequest("connection closed in headers")
        if h in (b"\r\n", b"\n"):
            break
        if len(order) >= MAX_HEADERS:
            raise BadRequest("too many headers")
        text = h.decode("latin-1").rstrip("\r\n")
        if text[:1] in (" ", "\t") and order:  # obs-fold
            name = order[-1]
            headers[name] += " " + text.strip()
            continue
        name, sep, value = text.partition(":")
        if not sep:
            raise BadRequest("malformed header line")
        name = name.strip().lower()
        value = value.strip()
        if name in headers:
            headers[name] += ", " + value
        else:
            headers[name] = value
            order.append(name)
    if headers.get("expect", "").lower() == "100-continue":
        conn.send(b"HTTP/1.1 100 Continue\r\n\r\n")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = read_chunked(conn)
    elif "content-length" in headers:
        try:
            n = int(headers["content-length"])
        except ValueError:
            raise BadRequest("bad Content-Length")
        body = conn.rfile.read(n) if n > 0 else b""
        if len(body) != n:
            raise BadRequest("connection closed in body")
    else:
        body = b""
    path, _, query = target.partition("?")
    return {
        "method": method, "path": path, "query": query, "target": target, "version": version,
        "headers": headers, "raw_body": body, "time": time.monotonic(), "wall": time.time(), "conn": conn.id,
    }


def read_chunked(conn):
    out = []
    while True:
        line = conn.readline()
        if not line:
            raise BadRequest("connection closed in chunked body")
        size = int(line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while True:  # trailers
                t = conn.readline()
                if t in (b"\r\n", b"\n", b""):
                    return b"".join(out)
        data = conn.rfile.read(size)
        if len(data) != size:
            raise BadRequest("connection closed in chunk")
        out.append(data)
        conn.readline()


def reason(status):
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Status %d" % status


def header_lines(headers):
    out = []
    for name, value in headers:
        out.append(("%s: %s\r\n" % (name, value)).encode("latin-1", "replace"))
    return b"".join(out)


def has_header(headers, name):
    name = name.lower()
    return any(n.lower() == name for n, _ in headers)


def wants_close(req):
    conn_hdr = req["headers"].get("connection", "").lower()
    if req["version"] == "HTTP/1.0":
        return "keep-alive" not in conn_hdr
    return "close" in conn_hdr


def respond(conn, req, status, headers, body, close=False):
    """A plain complete response; returns whether the connection must be closed."""
    close = close or wants_close(req)
    headers = list(headers)
    if not has_header(headers, "content-length"):
        headers.append(("Content-Length", str(len(body))))
    if close:
        headers.append(("Connection", "close"))
    head = ("HTTP/1.1 %d %s\r\n" % (status, reason(status))).encode() + header_lines(headers) + b"\r\n"
    conn.send(head + (b"" if req["method"] == "HEAD" else body))
    return close


def json_response(conn, req, status, value, extra_headers=(), close=False):
    body = json.dumps(value).encode()
    headers = [("Content-Type", "application/json")] + list(extra_headers)
    return respond(conn, req, status, headers, body, close)


# ---- scripted answers -----------------------------------------------------------------------------------

def script_body(script, headers):
    if "json" in script:
        if not has_header(headers, "content-type"):
            headers.append(("Content-Type", "application/json"))
        return json.dumps(script["json"]).encode()
    if "body_base64" in script:
        return base64.b64decode(script["body_base64"])
    body = script.get("body", "")
    return body.encode("utf-8") if isinstance(body, str) else str(body).encode()


def serve_script(conn, req, script):
    """Answers with a script; returns whether the connection must be closed."""
    if script.get("reset"):
        conn.abort = True
    if script.get("delay"):
        time.sleep(float(script["delay"]))
    if script.get("hang"):
        conn.wait_for_close()
        return True
    if script.get("drop") == "before_headers":
        return True
    if "raw_base64" in script:
        raw = base64.b64decode(script["raw_base64"])
        start = int(script.get("drip_from", 0))
        conn.send(raw[:start])
        send_body(conn, raw[start:], script.get("drip"))
        return True
    for interim in script.get("interim") or []:
        ih = [(k, v) for k, v in (interim.get("headers") or {}).items()]
        conn.send(("HTTP/1.1 %d %s\r\n" % (interim.get("status", 100), reason(interim.get("status", 100))))
                  .encode() + header_lines(ih) + b"\r\n")
    status = int(script.get("status", 200))
    headers = []
    for name, value in (script.get("headers") or {}).items():
        for v in (value if isinstance(value, list) else [value]):
            headers.append((name, v if isinstance(v, str) else json.dumps(v)))
    for name, value in req.get("rl_headers") or []:
        if not has_header(headers, name):
            headers.append((name, value))
    body = script_body(script, headers) if "fill" not in script else fill_body(script["fill"], script.get("gzip"))
    if script.get("reflect"):
        for name, value in req["headers"].items():
            body = body.replace(("{{%s}}" % name).encode("latin-1"), value.encode("latin-1", "replace"))
    if script.get("gzip") and "fill" not in script:
        body = gzip_mod.compress(body)
    if script.get("gzip"):
        headers.append(("Content-Encoding", "gzip"))
    close = bool(script.get("close")) or wants_close(req)
    chunked = bool(script.get("chunked"))
    no_body = req["method"] == "HEAD" or status in (204, 304)
    if "content_length" in script:
        headers = [(n, v) for n, v in headers if n.lower() != "content-length"]
        headers.append(("Content-Length", str(script["content_length"])))
        close = True
    elif chunked:
        headers.append(("Transfer-Encoding", "chunked"))
    elif not has_header(headers, "content-length") and not (status == 204 or status == 304):
        headers.append(("Content-Length", str(len(body))))
    if script.get("drop") == "mid_body":
        close = True
    if close:
        headers.append(("Connection", "close"))
    conn.send(("HTTP/1.1 %d %s\r\n" % (status, reason(status))).encode() + header_lines(headers) + b"\r\n")
    if no_body:
        return close
    if script.get("drop") == "mid_body":
        body = body[: len(body) // 2]
        if chunked:
            body = b"%x\r\n" % len(body) + body if body else b""
        send_body(conn, body, script.get("drip"))
        return True
    if chunked:
        framed = (b"%x\r\n" % len(body) + body + b"\r\n" if body else b"") + b"0\r\n\r\n"
        send_body(conn, framed, script.get("drip"))
    else:
        send_body(conn, body, script.get("drip"))
    return close


def send_body(conn, body, drip):
    if drip:
        for i in range(len(body)):
            conn.send(body[i:i + 1])
            if i + 1 < len(body):
                time.sleep(float(drip))
    elif body:
        conn.send(body)


def unscripted(conn, req):
    msg = "test server: no scripted response for %s %s" % (req["method"], req["path"])
    return json_response(conn, req, 501, {
        "type": "error.list", "request_id": "testserver",
        "errors": [{"code": "unscripted", "message": msg}],
    })


# ---- control API ----------------------------------------------------------------------------------------

def public_request(r):
    body = r["raw_body"]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("latin-1")
    return {
        "method": r["method"], "path": r["path"], "query": r["query"], "target": r["target"],
        "headers": r["headers"], "body": text, "body_base64": base64.b64encode(body).decode(),
        "time": r["time"], "wall": r["wall"], "conn": r["conn"], "rate_limited": r.get("rate_limited", False),
    }


def control(conn, req, state):
    name = req["path"][len("/__control/"):]
    try:
        if req["method"] == "POST" and name in ("reset", "enqueue", "default", "ratelimit"):
            payload = None
            if name != "reset" and req["raw_body"].strip():
                try:
                    payload = json.loads(req["raw_body"].decode("utf-8"))
                except ValueError as e:
                    raise BadRequest("invalid JSON: %s" % e)
            if name == "reset":
                state.reset()
                return json_response(conn, req, 200, {"ok": True})
            if name == "enqueue":
                scripts = payload if isinstance(payload, list) else [payload]
                for s in scripts:
                    check_script(s)
                with state.lock:
                    for s in scripts:
                        state.queue.append([s, int(s.get("repeat", 1))])
                return json_response(conn, req, 200, {"ok": True, "queued": len(scripts)})
            if name == "ratelimit":
                check_ratelimit(payload)
                with state.lock:
                    state.ratelimit, state.rl_window, state.rl_used = payload, None, 0
                return json_response(conn, req, 200, {"ok": True})
            if payload is not None:
                check_script(payload)
            with state.lock:
                state.default = payload
            return json_response(conn, req, 200, {"ok": True})
        if req["method"] == "GET" and name == "requests":
            with state.lock:
                reqs = [public_request(r) for r in state.requests]
            return json_response(conn, req, 200, reqs)
        if req["method"] == "GET" and name == "stats":
            return json_response(conn, req, 200, state.stats())
        return json_response(conn, req, 404, {"error": "unknown control endpoint %s %s" % (req["method"], req["path"])})
    except BadRequest as e:
        return json_response(conn, req, 400, {"error": str(e)})


# ---- demo mode: a tiny fake Intercom API 2.12 --------------------------------------------------------------

DEMO_NOW = 1736201547
DEMO_ADMINS = [
    {"type": "admin", "id": "991266214", "name": "Ciaran Lee", "email": "ciaran@example.com",
     "job_title": "Support lead", "away_mode_enabled": False, "away_mode_reassign": False,
     "has_inbox_seat": True, "team_ids": [814865], "avatar": "https://static.intercomassets.com/avatars/1.png"},
    {"type": "admin", "id": "991266215", "name": "Aoife Byrne", "email": "aoife@example.com",
     "job_title": "Engineer", "away_mode_enabled": True, "away_mode_reassign": False,
     "has_inbox_seat": True, "team_ids": [], "avatar": None},
]
DEMO_NAMES = [("Joe Bloggs", "joe@bloggs.com", "user"), ("Ada Lovelace", "ada@example.com", "user"),
              ("Grace Hopper", "grace@example.com", "user"), ("Alan Turing", "alan@example.com", "lead"),
              ("Edsger Dijkstra", "edsger@example.com", "user")]


def demo_contact(i, name, email, role, cid=None):
    cid = cid or "677c554b6abd011ad17ff4e%x" % i
    listref = lambda kind: {"type": "list", "data": [], "url": "/contacts/%s/%s" % (cid, kind),
                            "total_count": 0, "has_more": False}
    return {
        "type": "contact", "id": cid, "workspace_id": "ecahpwf5", "external_id": str(70 + i), "role": role,
        "email": email, "email_domain": email.split("@")[-1], "phone": None, "name": name, "avatar": None,
        "owner_id": None, "social_profiles": {"type": "list", "data": []}, "has_hard_bounced": False,
        "marked_email_as_spam": False, "unsubscribed_from_emails": False,
        "created_at": DEMO_NOW - 86400 * (5 - i), "updated_at": DEMO_NOW, "signed_up_at": DEMO_NOW - 86400 * (5 - i),
        "last_seen_at": None, "last_replied_at": None, "last_contacted_at": None, "last_email_opened_at": None,
        "last_email_clicked_at": None, "language_override": None, "browser": None, "browser_version": None,
        "browser_language": None, "os": None,
        "location": {"type": "location", "country": "Ireland", "region": "Dublin", "city": "Dublin",
                     "country_code": "IRL", "continent_code": "EU"},
        "custom_attributes": {}, "tags": listref("tags"), "notes": listref("notes"),
        "companies": listref("companies"),
    }


DEMO_CONTACTS = [demo_contact(i, *nr) for i, nr in enumerate(DEMO_NAMES)]


def demo_cursor(index):
    return base64.urlsafe_b64encode(("after:%d" % index).encode()).decode().rstrip("=")


def demo_uncursor(cursor):
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if raw.startswith("after:"):
            return int(raw[6:])
    except (ValueError, UnicodeDecodeError):
        pass
    return None


def demo_page(items, per_page, starting_after):
    start = 0
    if starting_after:
        start = demo_uncursor(starting_after)
        if start is None:
            return None
    per_page = max(1, min(int(per_page or 10), 150))
    chunk = items[start:start + per_page]
    total_pages = (len(items) + per_page - 1) // per_page
    pages = {"type": "pages", "page": start // per_page + 1, "per_page": per_page, "total_pages": total_pages}
    if start + per_page < len(items):
        pages["next"] = {"per_page": per_page, "starting_after": demo_cursor(start + per_page)}
    return {"type": "list", "data": chunk, "total_count": len(items), "pages": pages}


def demo_query_params(query):
    from urllib.parse import parse_qs
    return {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}


def demo_search_match(contact, q):
    if not isinstance(q, dict):
        return True
    if "value" in q and isinstance(q["value"], list) and "operator" in q and q["operator"] in ("AND", "OR"):
        results = [demo_search_match(contact, sub) for sub in q["value"]]
        return all(results) if q["operator"] == "AND" else any(results)
    field, op, value = q.get("field"), q.get("operator", "="), q.get("value")
    if field is None:
        return True
    have = contact.get(field)
    try:
        if op == "=":
            return have == value
        if op == "!=":
            return have != value
        if op == ">":
            return have is not None and have > value
        if op == "<":
            return have is not None and have < value
        if op == "~":
            return have is not None and str(value) in str(have)
        if op == "!~":
            return have is None or str(value) not in str(have)
        if op == "^":
            return have is not None and str(have).startswith(str(value))
        if op == "$":
            return have is not None and str(have).endswith(str(value))
        if op == "IN":
            return have in (value or [])
        if op == "NIN":
            return have not in (value or [])
    except TypeError:
        return False
    return True


def demo(conn, req, state):
    rid = "req_" + uuid.uuid4().hex[:20]
    extra = [("X-RateLimit-Limit", "10000"), ("X-RateLimit-Remaining", "9999"),
             ("X-RateLimit-Reset", str(int(time.time()) + 10)), ("X-Request-Id", rid)]

    def answer(status, value):
        return json_response(conn, req, status, value, extra)

    def error(status, code, message):
        return answer(status, {"type": "error.list", "request_id": rid,
                               "errors": [{"code": code, "message": message}]})

    if not req["headers"].get("authorization", "").startswith("Bearer "):
        return answer(401, {"type": "error.list", "request_id": rid,
                            "errors": [{"code": "unauthorized", "message": "Access Token Invalid"}]})
    method, path = req["method"], req["path"].rstrip("/") or "/"
    params = demo_query_params(req["query"])
    if method == "GET" and path == "/me":
        me = dict(DEMO_ADMINS[0])
        me.update({"email_verified": True, "avatar": {"type": "avatar", "image_url": me["avatar"]},
                   "app": {"type": "app", "id_code": "ecahpwf5", "name": "Demo App", "created_at": DEMO_NOW,
                           "secure": False, "identity_verification": False, "timezone": "Europe/Dublin",
                           "region": "US"}})
        return answer(200, me)
    if method == "GET" and path == "/admins":
        return answer(200, {"type": "admin.list", "admins": DEMO_ADMINS})
    if method == "GET" and path == "/contacts":
        page = demo_page(DEMO_CONTACTS, params.get("per_page"), params.get("starting_after"))
        if page is None:
            return error(400, "parameter_invalid", "starting_after is invalid")
        return answer(200, page)
    if method == "POST" and path == "/contacts/search":
        try:
            body = json.loads(req["raw_body"] or b"{}")
        except ValueError:
            return error(400, "parameter_invalid", "Request body is not valid JSON")
        pagination = body.get("pagination") or {}
        found = [c for c in DEMO_CONTACTS if demo_search_match(c, body.get("query"))]
        page = demo_page(found, pagination.get("per_page"), pagination.get("starting_after"))
        if page is None:
            return error(400, "parameter_invalid", "starting_after is invalid")
        return answer(200, page)
    if method == "POST" and path == "/contacts":
        try:
            body = json.loads(req["raw_body"] or b"{}")
        except ValueError:
            return error(400, "parameter_invalid", "Request body is not valid JSON")
        if not isinstance(body, dict) or not (body.get("email") or body.get("external_id") or body.get("role")):
            return error(400, "parameter_invalid", "Role, email or external_id is required")
        contact = demo_contact(len(DEMO_CONTACTS), body.get("name"), body.get("email") or "",
                               body.get("role") or "user", cid=uuid.uuid4().hex[:24])
        contact["external_id"] = None
        for k in ("external_id", "phone", "avatar", "signed_up_at", "last_seen_at", "owner_id",
                  "unsubscribed_from_emails", "custom_attributes"):
            if k in body:
                contact[k] = body[k]
        contact["created_at"] = contact["updated_at"] = int(time.time())
        return answer(200, contact)
    if method == "GET" and path.startswith("/contacts/") and path.count("/") == 2:
        cid = path.split("/")[2]
        for c in DEMO_CONTACTS:
            if c["id"] == cid:
                return answer(200, c)
        return error(404, "not_found", "User Not Found")
    return error(404, "not_found", "Resource Not Found")


# ---- connection loop --------------------------------------------------------------------------------------

def handle(sock, state, demo_mode, tls=None):
    if tls is not None:
        try:
            sock.settimeout(10)
            sock = tls.wrap_socket(sock, server_side=True)
        except (OSError, ssl.SSLError):
            sock.close()  # the client refused our certificate, or spoke no TLS: nothing to serve
            return
    conn = Conn(sock, state.new_connection())
    try:
        sock.settimeout(IDLE_TIMEOUT)
        while True:
            try:
                req = read_request(conn)
            except BadRequest as e:
                try:
                    conn.send(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                              b"Content-Length: %d\r\n\r\n%s" % (len(str(e)), str(e).encode()))
                except OSError:
                    pass
                return
            if req is None:
                return
            if req["path"].startswith("/__control/"):
                close = control(conn, req, state)
            else:
                script = state.take(req, conn)
                try:
                    if script is not None:
                        close = serve_script(conn, req, script)
                    elif demo_mode:
                        close = demo(conn, req, state)
                    else:
                        close = unscripted(conn, req)
                finally:
                    state.done(req)
            if close:
                return
    except (OSError, ValueError):
        pass  # client went away, idle timeout: nothing to report
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--demo", action="store_true", help="act as a tiny fake Intercom API when nothing is scripted")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS with this PEM chain and key")
    args = ap.parse_args()
    tls = None
    if args.tls:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.tls[0], args.tls[1])

    state = State()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.host, args.port))
    listener.listen(1024)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    host, port = listener.getsockname()[:2]
    sys.stdout.write("%s://%s:%d\n" % ("https" if tls else "http", host, port))
    sys.stdout.flush()
    try:
        while True:
            sock, _ = listener.accept()
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=handle, args=(sock, state, args.demo, tls), daemon=True).start()
    except SystemExit:
        pass
    finally:
        listener.close()
    # Daemon threads may be mid-send; leave without waiting for them.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
