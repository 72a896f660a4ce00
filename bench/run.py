#!/usr/bin/env python3
"""The benchmark (`make bench`): a report, not a test. It never fails because a machine is slow.

    python3 bench/run.py [--runs N] [--w5-runs N] [--workloads W1,W3] [--clients lua54,floor] [--no-pin]

Generates realistic Intercom 2.12 JSON (bench/gen_data.py), serves it with nginx on loopback
(bench/nginx.conf.in: keep-alive, static files, a 5 ms echo_sleep variant), and runs every workload for
every client, each run a separate process under `/usr/bin/time -v` (CPU time, peak RSS). Runs of the
clients are interleaved (run 1 of each, then run 2 of each, ...) so that a noisy moment of the machine
hits them alike; medians are reported, and every ratio is computed from this one run. The nginx worker's
CPU time is read from /proc around each run, to show that the server is not the limit. With two or more
cores, nginx is pinned to the last core and the clients to the first one, so that they never fight for
the same core.

Writes bench/results/latest.md (the table) and bench/results/latest.json (every number).
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TMP = os.path.join(HERE, "results", "tmp")
DATA = os.path.join(TMP, "data")
RESULTS = os.path.join(HERE, "results")

WORKLOADS = {
    "W1": "2,000 sequential contacts:find (2.2 KB each)",
    "W2": "1,000 contacts in 20 cursor pages of 50 (110 KB each), 10 times",
    "W3": "500 contacts:search POSTs (22 KB answers)",
    "W4": "1,000 contacts:find, server adds 5 ms, 16 at a time",
    "W4seq": "200 contacts:find, server adds 5 ms, one at a time",
    "W5": "100,000 contacts in 2,000 pages with each",
}
# Which clients run which workload: LuaSocket has no concurrency (W4 n/a); W4seq is the baseline of
# intercom-lua's own W4 target (the floor runs it too, for reference).
SUPPORTS = {
    "floor": {"W1", "W2", "W3", "W4", "W4seq", "W5"},
    "lua54": {"W1", "W2", "W3", "W4", "W4seq", "W5"},
    "luajit": {"W1", "W2", "W3", "W4", "W4seq", "W5"},
    "luasocket": {"W1", "W2", "W3", "W5"},
    "node": {"W1", "W2", "W3", "W4", "W5"},
    "lua54-before": {"W1", "W2", "W3", "W4", "W4seq", "W5"},
    "luajit-before": {"W1", "W2", "W3", "W4", "W4seq", "W5"},
}
NAMES = {
    "floor": "floor (C, libcurl, no parsing)",
    "lua54": "intercom-lua, Lua 5.4",
    "luajit": "intercom-lua, LuaJIT",
    "lua54-before": "intercom-lua before, Lua 5.4",
    "luajit-before": "intercom-lua before, LuaJIT",
    "luasocket": "LuaSocket + lua-cjson, Lua 5.4",
    "node": "Node SDK intercom-client",
}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# --before DIR: a checkout of the code to compare with (A/B), built (`make` in DIR); its clients run
# interleaved with ours, run for run.
BEFORE = None


def lua_env(build, root=None):
    root = root or ROOT
    env = dict(os.environ)
    env["LUA_PATH"] = "%s/lua/?.lua;%s/lua/?/init.lua;;" % (root, root)
    env["LUA_CPATH"] = "%s/build/%s/?.so;;" % (root, build)
    return env


def build_variant(name, flags):
    """The current core built with extra flags into build/<vm>-<name> (for the decoder's A/B)."""
    srcs = sorted(os.path.join(ROOT, "src", f) for f in os.listdir(os.path.join(ROOT, "src")) if f.endswith(".c"))
    cflags = subprocess.run(["pkg-config", "--cflags", "libcurl"], capture_output=True, text=True).stdout.split()
    for build, inc in (("5.4", "/usr/include/lua5.4"), ("luajit", "/usr/include/luajit-2.1")):
        out = os.path.join(ROOT, "build", "%s-%s" % (build, name), "intercom")
        os.makedirs(out, exist_ok=True)
        subprocess.run(["cc", "-O2", "-g", "-std=c99", "-fPIC", "-shared", "-I" + inc] + cflags + flags
                       + ["-o", os.path.join(out, "core.so")] + srcs + ["-ldl", "-lpthread"], check=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def prepare_data():
    stamp = os.path.join(DATA, ".stamp")
    src = os.path.join(HERE, "gen_data.py")
    if os.path.exists(stamp) and os.path.getmtime(stamp) >= os.path.getmtime(src):
        return
    log("bench: generating data (about 220 MB, once) ...")
    shutil.rmtree(DATA, ignore_errors=True)
    subprocess.run([sys.executable, src, DATA], check=True)
    open(stamp, "w").close()


def build_floor():
    out = os.path.join(TMP, "floor")
    src = os.path.join(HERE, "floor.c")
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(src):
        subprocess.run(["cc", "-O2", "-std=c99", "-Wall", "-o", out, src, "-lcurl"], check=True)
    return out


def prefix(cpu, nice):
    """taskset (pin to a core) and nice (priority over other work on the machine), where available."""
    out = []
    if nice:
        out += ["nice", "-n", str(nice)]
    if cpu is not None:
        out += ["taskset", "-c", str(cpu)]
    return out


class Nginx:
    def __init__(self, cpu, nice):
        self.port = free_port()
        self.dir = os.path.join(TMP, "nginx")
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        with open(os.path.join(HERE, "nginx.conf.in")) as f:
            conf = f.read()
        conf = conf.replace("@RUN@", self.dir).replace("@DATA@", DATA).replace("@PORT@", str(self.port))
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write(conf)
        cmd = prefix(cpu, nice) + ["nginx", "-p", self.dir, "-c", os.path.join(self.dir, "nginx.conf")]
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE)
        self.base = "http://127.0.0.1:%d" % self.port
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("nginx did not start: " + self.proc.stderr.read().decode())
                time.sleep(0.05)
        self.worker = self.find_worker()

    def find_worker(self):
        """The worker is the master's child (/proc, so that no ps is needed)."""
        master = self.proc.pid  # nice and taskset exec nginx in place: the same pid
        for _ in range(100):
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    with open("/proc/%s/stat" % entry) as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == master:
                    return int(entry)
            time.sleep(0.05)
        raise RuntimeError("no nginx worker process")

    def cpu_seconds(self):
        with open("/proc/%d/stat" % self.worker) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def url_files(base):
    """The floor's request lists, one URL per line (it does not parse, so it is told the cursors)."""
    files = {}

    def write(name, lines):
        path = os.path.join(TMP, name + ".urls")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        files[name] = path

    ids = ["65ddcd01697be43641%06d" % i for i in range(1, 2001)]
    write("W1", ["%s/w1/contacts/%s" % (base, i) for i in ids])
    for w, prefix in (("W2", "/w2"), ("W5", "/w5")):
        with open(os.path.join(DATA, prefix[1:] + ".urls")) as f:
            write(w, [base + prefix + line.strip() for line in f if line.strip()])
    write("W3", ["%s/w3/contacts/search" % base])
    write("W4", ["%s/w4/contacts/%s" % (base, i) for i in ids[:1000]])
    write("W4seq", ["%s/w4/contacts/%s" % (base, i) for i in ids[:200]])
    return files


def command(client, workload, base, floor, urls):
    if client == "floor":
        extra = {"W2": ["-r", "10"], "W3": ["-r", "500", "-b", os.path.join(DATA, "search_body.json")],
                 "W4": ["-c", "16"]}.get(workload, [])
        return [floor, urls[workload]] + extra, None
    if client == "lua54":
        return ["lua5.4", os.path.join(HERE, "clients", "intercom.lua"), workload, base], lua_env("5.4")
    if client == "luajit":
        return ["luajit", os.path.join(HERE, "clients", "intercom.lua"), workload, base], lua_env("luajit")
    if client in ("lua54-before", "luajit-before"):
        interp, build = ("lua5.4", "5.4") if client == "lua54-before" else ("luajit", "luajit")
        return [interp, os.path.join(BEFORE, "bench", "clients", "intercom.lua"), workload, base], \
            lua_env(build, BEFORE)
    if client == "luasocket":
        return ["lua5.4", os.path.join(HERE, "clients", "luasocket.lua"), workload, base], None
    if client == "node":
        return ["node", os.path.join(HERE, "clients", "node.js"), workload, base], None
    raise ValueError(client)


TIME_FIELDS = {
    "User time (seconds)": "user",
    "System time (seconds)": "sys",
    "Maximum resident set size (kbytes)": "rss_kb",
}


def timed(cmd, env, cpu, nice, nginx):
    tfile = os.path.join(TMP, "time.txt")
    full = prefix(cpu, nice) + ["/usr/bin/time", "-v", "-o", tfile] + cmd
    n0 = nginx.cpu_seconds()
    p = subprocess.run(full, env=env, capture_output=True, text=True, cwd=HERE)
    n1 = nginx.cpu_seconds()
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s%s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
    res = json.loads(p.stdout.strip().splitlines()[-1])
    with open(tfile) as f:
        for line in f:
            name, _, value = line.strip().rpartition(": ")
            if name in TIME_FIELDS:
                res[TIME_FIELDS[name]] = float(value)
    res["cpu"] = res["user"] + res["sys"]
    res["nginx_cpu"] = n1 - n0
    return res


H2_CONF = """daemon off; worker_processes 1; pid @RUN@/nginx.pid; error_log @RUN@/error.log warn;
load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;
events { worker_connections 256; }
http {
    client_body_temp_path @RUN@/body; proxy_temp_path @RUN@/proxy; fastcgi_temp_path @RUN@/fastcgi;
    uwsgi_temp_path @RUN@/uwsgi; scgi_temp_path @RUN@/scgi;
    log_format conn '$connection $server_protocol';
    access_log @RUN@/access.log conn;
    default_type application/json;
    server {
        listen 127.0.0.1:@PORT@ ssl http2;
        ssl_certificate @RUN@/cert.pem;
        ssl_certificate_key @RUN@/key.pem;
        location ~ ^/contacts/ { echo_sleep 0.05; echo '{"type":"contact","id":"x"}'; }
    }
}
"""


def h2_check():
    """client:map over TLS to an HTTP/2 nginx: how many connections carried the 40 requests."""
    run = os.path.join(TMP, "h2")
    shutil.rmtree(run, ignore_errors=True)
    os.makedirs(run)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", os.path.join(run, "key.pem"), "-out", os.path.join(run, "cert.pem"),
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    port = free_port()
    with open(os.path.join(run, "nginx.conf"), "w") as f:
        f.write(H2_CONF.replace("@RUN@", run).replace("@PORT@", str(port)))
    proc = subprocess.Popen(["nginx", "-p", run, "-c", os.path.join(run, "nginx.conf")], stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        out = run_lua_script("h2check.lua", "5.4", ["https://127.0.0.1:%d" % port,
                                                    os.path.join(run, "cert.pem")], 1)[0]
    finally:
        proc.terminate()
        proc.wait()
    with open(os.path.join(run, "access.log")) as f:
        lines = [l.split() for l in f if l.strip()]
    out["connections"] = len({l[0] for l in lines})
    out["protocols"] = sorted({l[1] for l in lines})
    return out


def run_lua_script(script, build, args, runs, root=None):
    interp = "lua5.4" if build.startswith("5.4") else "luajit"
    out = []
    for _ in range(runs):
        p = subprocess.run([interp, os.path.join(HERE, script)] + args, env=lua_env(build, root),
                           capture_output=True, text=True, check=True, cwd=HERE)
        out.append(json.loads(p.stdout.strip().splitlines()[-1]))
    return out


def med(values):
    return statistics.median(values) if values else None


def summarize(samples):
    """samples: list of per-run dicts -> medians."""
    s = {"runs": len(samples)}
    for key in ("seconds", "cpu_seconds", "cpu", "rss_kb", "nginx_cpu", "rss_kb_page100", "rss_kb_page2000"):
        vals = [r[key] for r in samples if key in r]
        if vals:
            s[key] = med(vals)
    s["ops"] = samples[0]["ops"]
    s["rate"] = s["ops"] / s["seconds"]
    s["cpu_per_op_us"] = s["cpu_seconds"] / s["ops"] * 1e6
    s["nginx_busy"] = s["nginx_cpu"] / s["seconds"] if s["seconds"] > 0 else 0
    return s


def fmt_rate(s, unit):
    return "%s %s/s" % (("%.0f" % s["rate"]) if s["rate"] >= 100 else ("%.1f" % s["rate"]), unit)


def paired(samples, w1, c1, w2, c2, key):
    """Median over runs of (run i of c1 on w1) / (run i of c2 on w2): the two ran seconds apart, so a
    change of load on the machine during the benchmark cancels out."""
    a, b = samples.get(w1, {}).get(c1), samples.get(w2, {}).get(c2)
    if not a or not b:
        return None
    if key == "rate":
        vals = [(x["ops"] / x["seconds"]) / (y["ops"] / y["seconds"]) for x, y in zip(a, b)]
    else:  # CPU per operation, theirs over ours
        vals = [(y["cpu_seconds"] / y["ops"]) / (x["cpu_seconds"] / x["ops"]) for x, y in zip(a, b)]
    return med(vals)


def report(results, samples, decode, startup, h2, args, started, headers=None):
    lines = []
    add = lines.append
    unit = {"W1": "req", "W2": "pages", "W3": "req", "W4": "req", "W4seq": "req", "W5": "pages"}
    add("Machine: %s, %d cores; %s; libcurl %s; nginx %s; node %s; intercom-client %s. %d runs "
        "(W5: %d), medians; clients %s; nice %d; load average %.2f before, %.2f after." % (
            platform_name(), os.cpu_count(), lua_versions(), curl_version(), nginx_version(), node_version(),
            sdk_version(), args.runs, args.w5_runs,
            "on core 0, nginx on core %d" % (os.cpu_count() - 1) if not args.no_pin and os.cpu_count() > 1
            else "not pinned", args.nice, args.load[0], args.load[1]))
    add("")
    add("| workload | client | rate | wall s | CPU/op | process CPU s | peak RSS | nginx busy |")
    add("|---|---|---:|---:|---:|---:|---:|---:|")
    for w in WORKLOADS:
        for c in NAMES:
            s = results.get(w, {}).get(c)
            if not s:
                continue
            add("| %s | %s | %s | %.3f | %.0f us | %.2f | %.1f MB | %.0f%% |" % (
                w, NAMES[c], fmt_rate(s, unit[w]), s["seconds"], s["cpu_per_op_us"], s["cpu"],
                s["rss_kb"] / 1024, s["nginx_busy"] * 100))
    add("")
    add("Rate: operations per second of wall time inside the process (startup excluded). CPU/op: the "
        "process's own CPU time (user + system) for the workload alone, per operation. Process CPU and peak "
        "RSS: the whole process, startup included, from `/usr/bin/time -v`. nginx busy: the worker's CPU "
        "time over the client's wall time (well under 100%: the server is not the limit).")
    add("")
    if decode:
        add("JSON decode of one 50-contact page (%d bytes), same process, median of %d rounds:" % (
            decode["5.4"]["bytes"], 9))
        add("")
        add("| VM | intercom C codec | lua-cjson | ratio |")
        add("|---|---:|---:|---:|")
        for vm, label in (("5.4", "Lua 5.4"), ("luajit", "LuaJIT")):
            d = decode[vm]
            add("| %s | %.3f ms | %.3f ms | %.2fx |" % (label, d["intercom_ms"], d["cjson_ms"], d["ratio"]))
        add("")
    if headers:
        parts = []
        for vm, build, label in (("lua54", "5.4", "Lua 5.4"), ("luajit", "luajit", "LuaJIT")):
            h, w1 = headers[build], results.get("W1", {}).get(vm)
            share = (" (%.1f%% of W1's CPU per request)" % (h["request_id_rate_limit_us"] / w1["cpu_per_op_us"] * 100)
                     if w1 else "")
            parts.append("%s %.2f us for the headers table, %.2f us to read the request id and rate limit from "
                         "it in Lua%s" % (label, h["headers_table_us"], h["request_id_rate_limit_us"], share))
        add("Headers of one response (`bench/headers.lua`, nginx's 9 headers): " + "; ".join(parts) + ".")
        add("")
    if startup:
        add("`require \"intercom\"` + `intercom.new{}`: %.1f ms CPU (Lua 5.4), %.1f ms (LuaJIT); median of %d "
            "fresh processes." % (startup["5.4"], startup["luajit"], args.startup_runs))
        add("")

    if h2:
        add("HTTP/2: `client:map` of 40 finds at concurrency 8 over TLS to nginx with `http2` (each answer "
            "50 ms late): %d requests over %d connection(s), %s, in %.2f s." % (
                h2["requests"], h2["connections"], ", ".join(h2["protocols"]), h2["seconds"]))
        add("")

    # Targets
    def r(w, c):
        return results.get(w, {}).get(c)

    def ratio(w1, c1, w2=None, c2=None):
        w2 = w2 or w1
        rate = paired(samples, w1, c1, w2, c2, "rate")
        return (rate, paired(samples, w1, c1, w2, c2, "cpu")) if rate is not None else None

    # The targets are CPU ratios (issue 11): CPU time per operation, which other work on the machine
    # moves far less than wall time. "vs floor" is ours over the floor's (at most); the others are theirs
    # over ours (at least). The wall-clock ratio of rates is shown beside, for reference.
    rows = []
    for vm in ("lua54", "luajit"):
        label = "Lua 5.4" if vm == "lua54" else "LuaJIT"
        floor = ratio("W1", vm, None, "floor")
        if floor:
            rows.append(("W1", label, "CPU/request vs floor", (floor[0], 1 / floor[1]), 1.7, "<="))
        rows.append(("W1", label, "vs Node SDK", ratio("W1", vm, None, "node"), 12, ">="))
        rows.append(("W2", label, "vs LuaSocket+cjson", ratio("W2", vm, None, "luasocket"), 1.5, ">="))
        rows.append(("W2", label, "vs Node SDK", ratio("W2", vm, None, "node"), 3, ">="))
        if decode:
            d = decode["5.4" if vm == "lua54" else "luajit"]["ratio"]
            rows.append(("W2", label, "C decoder vs lua-cjson", (d, d), 1.8, ">="))
        rows.append(("W3", label, "vs LuaSocket+cjson", ratio("W3", vm, None, "luasocket"), 1.3, ">="))
        rows.append(("W3", label, "vs Node SDK", ratio("W3", vm, None, "node"), 6, ">="))
        seq = ratio("W4", vm, "W4seq", vm)
        rows.append(("W4", label, "vs own sequential (W4seq)", seq and (seq[0], None), 10, ">="))
        rows.append(("W4", label, "vs Node SDK (16 at a time)", ratio("W4", vm, None, "node"), 1, ">"))
        w5 = r("W5", vm)
        if w5:
            rows.append(("W5", label, "peak RSS (MB)", (w5["rss_kb"] / 1024, None), 15, "<="))
            growth = (w5.get("rss_kb_page2000", 0) - w5.get("rss_kb_page100", 0)) / 1024
            rows.append(("W5", label, "RSS growth page 100 -> 2,000 (MB)", (growth, None), 1, "<="))
        if startup:
            rows.append(("start", label, "require + new (ms CPU)",
                         (startup["5.4" if vm == "lua54" else "luajit"], None), 10, "<="))
    add("Targets, by CPU. *By CPU* is the ratio of CPU time per operation: for \"vs floor\" ours over the "
        "floor's, otherwise the other client's over ours; it decides *met*. *Wall* is the ratio of rates "
        "(ours over theirs), for reference. Each is the median over runs of the ratio within a run (run *i* "
        "of both clients, seconds apart).")
    add("")
    add("| workload | VM | measure | by CPU | wall (or value) | target | met |")
    add("|---|---|---|---:|---:|---:|:---:|")
    for w, label, what, value, target, op in rows:
        if value is None:
            continue
        wall, by_cpu = value
        decisive = by_cpu if by_cpu is not None else wall
        met = {">=": decisive >= target, ">": decisive > target, "<=": decisive <= target}[op]
        fmt = (lambda v: "%.2fx" % v) if "vs" in what else (lambda v: "%.2f" % v)
        add("| %s | %s | %s | %s | %s | %s %s | %s |" % (
            w, label, what, fmt(by_cpu) if by_cpu is not None else "", fmt(wall) if by_cpu is not None else fmt(wall),
            op, target, "yes" if met else "**no**"))
    add("")
    if any(c.endswith("-before") for per in samples.values() for c in per):
        add("Before and after (A/B, `--before DIR`): the same workloads with the code in DIR, run interleaved "
            "with ours, run for run. *CPU after/before* is the median over runs of the ratio within a run.")
        add("")
        add("| workload | VM | CPU/op before | CPU/op after | CPU after/before | rate before | rate after |")
        add("|---|---|---:|---:|---:|---:|---:|")
        for w in WORKLOADS:
            for vm, label in (("lua54", "Lua 5.4"), ("luajit", "LuaJIT")):
                a, b = r(w, vm), r(w, vm + "-before")
                if not a or not b:
                    continue
                change = paired(samples, w, vm + "-before", w, vm, "cpu")   # ours (after) over before's
                add("| %s | %s | %.0f us | %.0f us | %s | %s | %s |" % (
                    w, label, b["cpu_per_op_us"], a["cpu_per_op_us"],
                    "%.3f" % change if change else "", fmt_rate(b, unit[w]), fmt_rate(a, unit[w])))
        add("")
    if decode and "before" in decode.get("5.4", {}):
        add("The decoder alone (one 50-contact page, ms of CPU per decode, medians of interleaved rounds): this "
            "code, the code before (`--before`), and this code built without the shape cache "
            "(`-DIC_JSON_NO_SHAPE_CACHE`), which is what the cache earns.")
        add("")
        add("| VM | this code | before | without the shape cache | the cache saves |")
        add("|---|---:|---:|---:|---:|")
        for vm, label in (("5.4", "Lua 5.4"), ("luajit", "LuaJIT")):
            d = decode[vm]
            add("| %s | %.3f ms | %.3f ms | %.3f ms | %.0f%% |" % (
                label, d["intercom_ms"], d["before"], d["noshapes"], (1 - d["intercom_ms"] / d["noshapes"]) * 100))
        add("")
    add("")
    add("Total time of this benchmark: %.0f s." % (time.time() - started))
    return "\n".join(lines) + "\n"


def platform_name():
    try:
        with open("/etc/os-release") as f:
            m = re.search(r'PRETTY_NAME="([^"]+)"', f.read())
            return m.group(1) if m else "Linux"
    except OSError:
        return "Linux"


def out_of(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip() + \
            subprocess.run(cmd, capture_output=True, text=True).stderr.strip()
    except OSError:
        return "?"


def lua_versions():
    return "Lua %s, %s" % (out_of(["lua5.4", "-v"]).split()[1], out_of(["luajit", "-v"]).split()[1])


def curl_version():
    return out_of(["curl-config", "--version"]).split()[-1] if shutil.which("curl-config") else "?"


def nginx_version():
    return out_of(["nginx", "-v"]).rsplit("/", 1)[-1]


def node_version():
    return out_of(["node", "--version"]).lstrip("v")


def sdk_version():
    try:
        with open(os.path.join(HERE, "node_modules", "intercom-client", "package.json")) as f:
            return json.load(f)["version"]
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--before", metavar="DIR",
                    help="A/B: also run the code checked out (and built) in DIR, interleaved with this code")
    ap.add_argument("--w5-runs", type=int, default=3)
    ap.add_argument("--startup-runs", type=int, default=11)
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--clients", default=",".join(NAMES))
    ap.add_argument("--no-pin", action="store_true", help="do not pin nginx and the clients to cores")
    ap.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                    help="first wait up to SECONDS for the 1-minute load average to fall below 0.5")
    ap.add_argument("--nice", type=int, default=-10 if os.geteuid() == 0 else 0,
                    help="nice value of nginx and the clients (default -10 as root, else 0): other work on "
                         "the machine delays a latency-bound client far more than a CPU-bound one")
    args = ap.parse_args()
    started = time.time()
    workloads = [w for w in args.workloads.split(",") if w]
    clients = [c for c in args.clients.split(",") if c and not c.endswith("-before")]
    global BEFORE
    if args.before:
        BEFORE = os.path.abspath(args.before)
        clients += ["lua54-before", "luajit-before"]

    os.makedirs(TMP, exist_ok=True)
    deadline = time.time() + args.wait_quiet
    while os.getloadavg()[0] >= 0.5 and time.time() < deadline:
        log("bench: waiting for a quiet machine (load average %.2f)" % os.getloadavg()[0])
        time.sleep(15)
    prepare_data()
    floor = build_floor()
    ncpu = os.cpu_count() or 1
    pin = not args.no_pin and ncpu > 1 and shutil.which("taskset")
    client_cpu, server_cpu = (0, ncpu - 1) if pin else (None, None)
    nice = args.nice
    load_before = os.getloadavg()
    nginx = Nginx(server_cpu, nice)
    log("bench: nginx on %s (worker %d)" % (nginx.base, nginx.worker))
    try:
        urls = url_files(nginx.base)
        samples = {}
        for w in workloads:
            runs = args.w5_runs if w == "W5" else args.runs
            todo = [c for c in clients if w in SUPPORTS[c]]
            for c in todo:  # one warm-up run each: page cache, JIT-less first touches of the data
                cmd, env = command(c, w, nginx.base, floor, urls)
                if w not in ("W5",):
                    timed(cmd, env, client_cpu, nice, nginx)
            for i in range(runs):
                # rotate the order, so that no client always runs right after the same other one
                for c in todo[i % len(todo):] + todo[:i % len(todo)]:
                    cmd, env = command(c, w, nginx.base, floor, urls)
                    res = timed(cmd, env, client_cpu, nice, nginx)
                    samples.setdefault(w, {}).setdefault(c, []).append(res)
                    log("bench: %-5s %-9s run %d: %.3f s wall, %.3f s CPU, %d KB" % (
                        w, c, i + 1, res["seconds"], res["cpu"], res["rss_kb"]))
        results = {w: {c: summarize(s) for c, s in per.items()} for w, per in samples.items()}
    finally:
        nginx.stop()
    args.load = (load_before[0], os.getloadavg()[0])

    decode = {}
    page = os.path.join(DATA, "w2", "first.json")
    for build in ("5.4", "luajit"):
        decode[build] = run_lua_script("decode.lua", build, [page, "9"], 1)[0]
    if BEFORE:
        # The decoder A/B: this code, the code before and this code without the shape cache, in
        # alternation (three times each), CPU per decode; the medians.
        build_variant("noshapes", ["-DIC_JSON_NO_SHAPE_CACHE"])
        for build in ("5.4", "luajit"):
            times = {"this": [], "before": [], "noshapes": []}
            for _ in range(3):
                times["this"].append(run_lua_script("decode.lua", build, [page, "5"], 1)[0]["intercom_ms"])
                times["before"].append(run_lua_script("decode.lua", build, [page, "5"], 1, BEFORE)[0]["intercom_ms"])
                times["noshapes"].append(run_lua_script("decode.lua", build + "-noshapes", [page, "5"], 1)[0]
                                         ["intercom_ms"])
            decode[build]["intercom_ms"] = med(times["this"])
            decode[build]["before"] = med(times["before"])
            decode[build]["noshapes"] = med(times["noshapes"])
    headers = {}
    for build in ("5.4", "luajit"):
        headers[build] = run_lua_script("headers.lua", build, [], 1)[0]
    startup = {}
    for build in ("5.4", "luajit"):
        startup[build] = med([r["cpu_ms"] for r in run_lua_script("startup.lua", build, [], args.startup_runs)])

    h2 = h2_check()
    text = report(results, samples, decode, startup, h2, args, started, headers)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "latest.md"), "w") as f:
        f.write(text)
    with open(os.path.join(RESULTS, "latest.json"), "w") as f:
        # machine and date: bench/chart.py prints them beside the chart in docs/performance.md
        machine = text.splitlines()[0]
        machine = machine[len("Machine: "):] if machine.startswith("Machine: ") else machine
        json.dump({"results": results, "samples": samples, "decode": decode, "startup": startup, "h2": h2,
                   "machine": machine, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))},
                  f, indent=1)
    print(text)


if __name__ == "__main__":
    main()
