#!/usr/bin/env python3
"""Refresh README.md's measured figures from Results/, so the README never quotes an older run.

Every figure block in README.md sits between two markers; the opening one says what fills it:

    <!-- figures pivot Results/X.json [model=NAME] -->      speed-ups, variant × (batch, length, threads)
    <!-- figures include Results/X.txt [from=TEXT] [lines=N] -->   an excerpt of a printed result
    <!-- /figures -->

`make bench` runs this after regenerating Results/; each block then names the file it came from
and the commit that file was measured at. Usage: scripts/readme-figures.py [README.md]
"""
import json, os, re, shlex, sys

def speed(s):
    if s is None:
        return "—"
    text = f"{s['ratio']:.2f}× [{s['low']:.2f}–{s['high']:.2f}]"
    return text + " ~noise" if s.get("withinNoise") else text

def quality(r):
    q = r.get("quality")
    if not q:
        return "—"
    parts = []
    if q.get("perplexity") is not None:
        parts.append(f"ppl {q['perplexity']:.1f}")
    if q.get("top1Agreement") is not None:
        parts.append(f"top-1 {100 * q['top1Agreement']:.1f}%")
    if q.get("meanCosine") is not None and q.get("perplexity") is None:
        parts.append(f"cos {q['meanCosine']:.4f}")
    return ", ".join(parts) + (f" (n={q['n']})" if q.get("n") else "")

def point(r):
    return (r["batch"], r.get("sequenceLength"), r["threads"])

def point_name(p):
    b, s, t = p
    return f"b{b}" + (f"×{s}" if s else "") + f", {t} thr"

def pivot(path, model=None):
    d = json.load(open(path))
    rows = [r for r in d["rows"] if (model is None or r["model"] == model) and r.get("workload", "forward") == "forward"]
    points, variants = [], []
    for r in rows:
        if point(r) not in points:
            points.append(point(r))
        if r["variant"] not in variants:
            variants.append(r["variant"])
    out = ["| variant | " + " | ".join(point_name(p) for p in points) + " | weights MB | quality on the evaluation set | test acc |",
           "|---|" + "---|" * (len(points) + 3)]
    for v in variants:
        cells, first = [], None
        for p in points:
            r = next((r for r in rows if r["variant"] == v and point(r) == p), None)
            if r is None:
                cells.append("—")
                continue
            first = first or r
            cells.append(f"{r['throughput']:.4g} {r['itemUnit']}/s" if r.get("speedup") is None else speed(r["speedup"]))
        acc = "—" if first.get("accuracy") is None else f"{100 * first['accuracy']:.2f}%"
        out.append(f"| {v} | " + " | ".join(cells) + f" | {first['weightBytes'] / 1e6:.1f} | {quality(first)} | {acc} |")
    env = d["environment"]
    out.append("")
    out.append(f"*From `{path}` (commit `{env.get('gitCommit', '?')[:12]}`, {env.get('timestamp', '?')}): "
               "speed-up over fp32 in the same interleaved run [95 % bootstrap interval]; `~noise`: the interval "
               "covers 1× or lies within the group's A/A deviation; the fp32 row gives its throughput.*")
    return "\n".join(out)

def include(path, start=None, lines=None):
    text = open(path).read().splitlines()
    if start:
        index = next((i for i, l in enumerate(text) if start in l), None)
        if index is None:
            sys.exit(f"readme-figures: {path} has no line containing {start!r}")
        text = text[index:]
    if lines:
        text = text[:int(lines)]
    return "```\n" + "\n".join(text).rstrip() + "\n```\n\n*From `" + path + "`.*"

def refresh(readme):
    source = open(readme).read()
    pattern = re.compile(r"(<!-- figures (.*?) -->\n)(.*?)(<!-- /figures -->)", re.S)
    def fill(m):
        words = shlex.split(m.group(2))
        kind, path, options = words[0], words[1], dict(w.split("=", 1) for w in words[2:])
        if not os.path.exists(path):  # a suite make bench skipped (no `make models`): keep what is there
            print(f"readme-figures: {path} is missing; its block in {readme} is left as it was", file=sys.stderr)
            return m.group(0)
        body = pivot(path, options.get("model")) if kind == "pivot" else include(path, options.get("from"), options.get("lines"))
        return m.group(1) + body + "\n" + m.group(4)
    updated, count = pattern.subn(fill, source)
    open(readme, "w").write(updated)
    print(f"readme-figures: refreshed {count} figure blocks in {readme}")

if __name__ == "__main__":
    refresh(sys.argv[1] if len(sys.argv) > 1 else "README.md")
