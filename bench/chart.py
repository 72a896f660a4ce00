#!/usr/bin/env python3
"""Draws the chart of the last benchmark run: CPU time per operation, by workload and client, as an SVG
made with gnuplot (docs/img/bench-cpu-per-op.svg), and puts it at the top of docs/performance.md with the
machine and the date of the run (between the chart:begin/end markers). `make bench` runs it after
bench/run.py; `make bench-chart` redraws it from bench/results/latest.json alone.

CPU per operation, not the rate: it is what the client itself costs (the process's user + system time
over the workload's operations), which other work on a shared machine moves least. The y axis is
logarithmic: the Node SDK spends 15-25 times what the C floor does, and a linear axis would flatten every
other bar."""

import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
SVG = os.path.join(ROOT, "docs", "img", "bench-cpu-per-op.svg")
DOC = os.path.join(ROOT, "docs", "performance.md")
BEGIN, END = "<!-- chart:begin -->", "<!-- chart:end -->"

WORKLOADS = [  # (key, label under its bars; bench/README.md says what each does)
    ("W1", "W1 find"),
    ("W2", "W2 pages"),
    ("W3", "W3 search"),
    ("W4", "W4 map"),
    ("W4seq", "W4seq"),
    ("W5", "W5 each"),
]
CLIENTS = [  # (key, legend, colour)
    ("floor", "C floor (libcurl, no parsing)", "#9e9e9e"),
    ("lua54", "intercom-lua, Lua 5.4", "#1f77b4"),
    ("luajit", "intercom-lua, LuaJIT", "#17becf"),
    ("luasocket", "LuaSocket + lua-cjson", "#ff7f0e"),
    ("node", "Node SDK intercom-client", "#d62728"),
]


def run_info(data):
    """(machine, date) of the run: recorded by bench/run.py in latest.json; for results recorded before
    it did, the Machine line of latest.md and the date git committed latest.json."""
    machine, date = data.get("machine"), data.get("date")
    if not machine:
        try:
            with open(os.path.join(RESULTS, "latest.md")) as f:
                first = f.readline().strip()
            machine = first[len("Machine: "):] if first.startswith("Machine: ") else first
        except OSError:
            machine = "unknown machine"
    if not date:
        try:
            date = subprocess.run(["git", "log", "-1", "--format=%cd", "--date=format-local:%Y-%m-%d %H:%M UTC",
                                   "--", "bench/results/latest.json"], cwd=ROOT, env=dict(os.environ, TZ="UTC"),
                                  capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            date = ""
        date = date or time.strftime("%Y-%m-%d", time.gmtime(os.path.getmtime(os.path.join(RESULTS, "latest.json"))))
    return machine, date


def table(results):
    rows = []
    for w, label in WORKLOADS:
        if w not in results:
            continue
        cells = []
        for c, _, _ in CLIENTS:
            v = results[w].get(c, {}).get("cpu_per_op_us")
            cells.append("%.1f" % v if v else "?")
        rows.append((label, cells))
    return rows


def gnuplot_script(datafile, svg, date):
    n = len(CLIENTS)
    lines = [
        'set terminal svg size 960,520 dynamic enhanced font "sans,12" background "white"',
        'set output "%s"' % svg,
        'set title "CPU time per operation (lower is better), %s" font "sans,14"' % date,
        'set datafile missing "?"',
        'set datafile separator "\\t"',
        'set style data histograms',
        'set style histogram clustered gap 1',
        'set style fill solid 0.9 border -1',
        'set logscale y',
        'set yrange [10:*]',
        'set ylabel "microseconds of CPU per operation (log scale)"',
        'set grid ytics',
        'set key outside below horizontal maxrows 2',
        'set xtics nomirror font "sans,11"',
        'set ytics nomirror',
        'set border 3',
    ]
    plots = []
    for i, (_, legend, colour) in enumerate(CLIENTS):
        plots.append("'%s' using %d:xtic(1) title '%s' lc rgb '%s'" % (datafile, i + 2, legend, colour))
    # the value above each bar: bar i of a cluster of n (gap 1) is centred at x + (i - (n-1)/2) / (n+1)
    for i in range(n):
        plots.append("'%s' using ($0 + (%d - %g) / %d.0):%d:(sprintf('%%.0f', column(%d))) with labels "
                     "offset 0,0.6 font 'sans,8' notitle" % (datafile, i, (n - 1) / 2.0, n + 1, i + 2, i + 2))
    lines.append("plot " + ", \\\n     ".join(plots))
    return "\n".join(lines) + "\n"


def update_doc(machine, date):
    with open(DOC) as f:
        text = f.read()
    block = "\n".join([
        BEGIN,
        "<!-- drawn by bench/chart.py from bench/results/latest.json (`make bench`, `make bench-chart`) -->",
        "",
        "![CPU time per operation by workload and client](img/bench-cpu-per-op.svg)",
        "",
        "CPU time per operation, by workload and client (log scale; the numbers are microseconds): W1 2,000 "
        "sequential `contacts:find`; W2 cursor pages of 50 contacts; W3 `contacts:search`; W4 `find` 16 at a "
        "time (`client:map`), W4seq one at a time, with 5 ms added by the server; W5 100,000 contacts with "
        "`each` (per page). Run of %s on: %s" % (date, machine),
        END,
    ])
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:  # first time: right under the page's title line
        head, _, rest = text.partition("\n")
        text = head + "\n\n" + block + "\n" + rest
    with open(DOC, "w") as f:
        f.write(text)


def main():
    with open(os.path.join(RESULTS, "latest.json")) as f:
        data = json.load(f)
    machine, date = run_info(data)
    rows = table(data["results"])
    os.makedirs(os.path.dirname(SVG), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        datafile = os.path.join(tmp, "cpu.tsv")
        with open(datafile, "w") as f:
            for label, cells in rows:
                f.write(label + "\t" + "\t".join(cells) + "\n")
        script = os.path.join(tmp, "chart.gp")
        with open(script, "w") as f:
            f.write(gnuplot_script(datafile, SVG, date))
        try:
            subprocess.run(["gnuplot", script], check=True)
        except FileNotFoundError:
            sys.exit("bench/chart.py: gnuplot is not installed (bash bench/setup.sh installs gnuplot-nox)")
    update_doc(machine, date)
    print("chart: %s (%d workloads, run of %s)" % (os.path.relpath(SVG, ROOT), len(rows), date))


if __name__ == "__main__":
    main()
