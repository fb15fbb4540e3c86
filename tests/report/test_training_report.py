#!/usr/bin/python3
"""`longctx report` as the page of a whole continual-pretraining experiment: training logs
(`--train-log LABEL=FILE`), eval-loss results against a baseline (`--loss LABEL=FILE`, the paper's
Table 5), a needle run, `--title` and `--note`. The test writes its own small inputs, computes what the
page must show from them, and reads the page back with Python's html.parser: the baseline's absolute
losses and everyone else's differences, the |delta| > 0.01 marks on exactly the right cells, "–" for
missing cells, the bins in length order, the position table, one polyline per log with one point per
step (on one affine map of tokens x loss), the summary numbers; then escaping, self-containment, the
error cases (one line, exit 1, no page) and a headless Chromium rendering that is not blank and shows
the marks' colours and every curve's colour.

usage: test_training_report.py SOURCE_DIR BINARY_DIR
The page and its screenshot are kept in BINARY_DIR/report/training_report.{html,png} for a look by eye.
Standard library only. Chromium is required (scripts/setup.sh installs it): without it the test fails.
"""
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from html.parser import HTMLParser

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from render import check, fail, near, render, run  # noqa: E402

DASH = "\u2013"
ODD = 'Git<&>"hub'  # a domain name that breaks HTML unless escaped
ODD_LABEL = 'ours <&> "long"'  # a log label, likewise
TITLE = "7B <80K> & friends"
NOTES = ["Continual pretraining of a tiny LLaMA on <packed> 64K sequences & per-source upsampling.",
         'Evaluated with "eval-loss --bins 0,512,4K".']
BINS = ["0-512", "512-4K", "4K+"]  # the length order the page must show
WINDOW = (1280, 2300)
PALETTE = ["#4e79a7", "#f28e2b", "#e15759"]  # Tableau 10: the first three curves
WORSE_BG, BETTER_BG = (0xFC, 0xD9, 0xD9), (0xCD, 0xF0, 0xDC)


# ---- the inputs -------------------------------------------------------------------------------------------

def cell(loss, tokens):
    return {"loss": loss, "tokens": tokens}


def loss_results():
    """{label: eval-loss --json object}, the baseline first. Bins are written in name order, as
    eval-loss's std::map writes them ("4K+" before "512-4K"); the page must order them by length."""
    base = {"loss": 2.0412, "tokens": 61000, "sequences": 4, "length_source": "store",
            "domains": {
                "RedPajamaBook": {"0-512": cell(2.301, 1000), "4K+": cell(2.0851, 20000), "512-4K": cell(2.2, 3000)},
                "RedPajamaC4": {"0-512": cell(2.5, 4000), "512-4K": cell(2.038, 9000)},  # no 4K+ cell in the baseline
                ODD: {"0-512": cell(1.2, 2000), "4K+": cell(0.907, 15000), "512-4K": cell(1.0, 5000)},
            },
            "positions": {"1K": cell(2.4, 20000), "16K": cell(1.9, 20000), "32K": cell(1.8, 10000), "32K+": cell(1.75, 11000)}}
    per_source = {"loss": 2.0301, "tokens": 61000, "sequences": 4, "length_source": "store",
                  "domains": {
                      "RedPajamaBook": {"0-512": cell(2.3151, 1000), "4K+": cell(2.0601, 20000), "512-4K": cell(2.205, 3000)},
                      "RedPajamaC4": {"0-512": cell(2.489, 4000), "4K+": cell(1.77, 500), "512-4K": cell(2.048, 9000)},
                      ODD: {"0-512": cell(1.191, 2000), "4K+": cell(0.917, 15000), "512-4K": cell(1.0, 5000)},
                  },
                  "positions": {"1K": cell(2.38, 20000), "16K": cell(1.88, 20000), "32K": cell(1.77, 10000), "32K+": cell(1.7, 11000)}}
    # Global upsampling: one bin of one domain missing, a domain the baseline does not have, a
    # position bucket missing; and 1.01 - 1.0 = 0.010000000000000009: marked, though it shows as
    # +0.010 (the raw delta counts, as eval-loss --baseline marks it).
    global_ = {"loss": 2.1, "tokens": 60000, "sequences": 4, "length_source": "span",
               "domains": {
                   "RedPajamaBook": {"0-512": cell(2.4, 1000), "4K+": cell(2.0, 20000), "512-4K": cell(2.19, 3000)},
                   "RedPajamaC4": {"0-512": cell(2.6, 4000), "512-4K": cell(2.03, 9000)},
                   ODD: {"0-512": cell(1.1, 2000), "512-4K": cell(1.01, 5000)},
                   "RedPajamaArXiv": {"4K+": cell(1.51, 3000)},
               },
               "positions": {"1K": cell(2.5, 20000), "16K": cell(2.0, 20000), "32K+": cell(1.9, 11000)}}
    return {"original": base, "per-source": per_source, "global": global_}


def train_logs():
    """{label: (lines as written, [complete step objects])}."""
    logs = {}
    steps = [{"step": i, "loss": round(10.4 * math.exp(-i / 9) + 2.1 + 0.03 * math.sin(i), 4), "lr": 1e-3,
              "grad_norm": 1.0, "tokens": 4096 * i, "tokens_per_s": 3400.3 + 7 * (i % 5), "elapsed_s": round(1.26 * i, 3)}
             for i in range(1, 38)]
    logs[ODD_LABEL] = ([json.dumps(s) + "\n" for s in steps], steps)
    # A run killed while writing its 13th line: the cut-short line is ignored; 12:34 of wall time.
    steps = [{"step": i, "loss": 9.0 - 0.4 * i, "lr": 1e-3, "grad_norm": 0.5, "tokens": 65536 * i,
              "tokens_per_s": 1800.2 + 3 * i, "elapsed_s": 62.87 * i} for i in range(1, 13)]
    partial = json.dumps({"step": 13, "loss": 3.9, "tokens": 65536 * 13})
    logs["per-source"] = ([json.dumps(s) + "\n" for s in steps] + [partial[:20]], steps)
    # Three steps, no throughput fields, two hours of wall time.
    steps = [{"step": i, "loss": 6.5 - i, "tokens": 300000 * i, "elapsed_s": 2461.4 * i} for i in range(1, 4)]
    logs["global"] = ([json.dumps(s) + "\n" for s in steps], steps)
    return logs


def write_needle_run(folder):
    """A tiny needle run (2 lengths x 2 depths), so that the page shows the needle sections too."""
    os.makedirs(folder)
    json.dump({"model": "tiny", "lengths": [1000, 2000], "depths": [0, 100], "train_length": 1500},
              open(os.path.join(folder, "run.json"), "w"))
    with open(os.path.join(folder, "trials.jsonl"), "w") as f:
        for length in (1000, 2000):
            for depth in (0, 100):
                f.write(json.dumps({"length": length, "depth": depth, "response": "r",
                                    "scores": {"recall": 1.0 if length == 1000 else 0.0}}) + "\n")


# ---- reading the page: a small DOM --------------------------------------------------------------------------

VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source", "track", "embed", "param"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children, self.parts = tag, dict(attrs), parent, [], []

    @property
    def classes(self):
        return (self.attrs.get("class") or "").split()

    def text(self):
        return "".join(p if isinstance(p, str) else p.text() for p in self.parts)

    def own_text(self):  # without the <title> tooltips of SVG elements
        return "".join(p if isinstance(p, str) else ("" if p.tag == "title" else p.own_text()) for p in self.parts)

    def find_all(self, tag=None, cls=None, **attrs):
        out = []
        for c in self.children:
            if (tag is None or c.tag == tag) and (cls is None or cls in c.classes) and \
                    all(c.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items()):
                out.append(c)
            out.extend(c.find_all(tag, cls, **attrs))
        return out

    def find(self, tag=None, cls=None, **attrs):
        found = self.find_all(tag, cls, **attrs)
        check(len(found) == 1, f"expected one <{tag} class={cls} {attrs}>, found {len(found)}")
        return found[0]


class Dom(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", [], None)
        self.cur = self.root
        self.all_attrs = []

    def handle_starttag(self, tag, attrs):
        self.all_attrs.extend(attrs)
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        self.cur.parts.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.all_attrs.extend(attrs)
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        self.cur.parts.append(n)

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.parts.append(data)


def parse(text):
    d = Dom()
    d.feed(text)
    d.close()
    return d


def norm(s):
    return " ".join(s.split())


# ---- what the page must show, computed from the inputs --------------------------------------------------------

def grid(result):
    """(domain, bin) -> loss, plus the token-weighted means per domain and per bin, in file order."""
    cells, by_domain, by_bin = {}, {}, {}
    for d, bins in result["domains"].items():
        for b, c in bins.items():
            cells[(d, b)] = c["loss"]
            for acc, key in ((by_domain, d), (by_bin, b)):
                s, t = acc.get(key, (0.0, 0))
                acc[key] = (s + c["loss"] * c["tokens"], t + c["tokens"])
    return cells, by_domain, by_bin


def value(result, domain, b):
    """None domain or bin: "all" (all x all: the result's own loss)."""
    cells, by_domain, by_bin = grid(result)
    if domain is None and b is None:
        return result["loss"]
    if domain is not None and b is not None:
        return cells.get((domain, b))
    s = (by_domain if b is None else by_bin).get(domain if b is None else b)
    return s[0] / s[1] if s and s[1] else None


def expected_cell(results, labels, k, domain, b):
    """-> (text, mark) with mark in {None, "worse", "better"}."""
    v = value(results[labels[k]], domain, b)
    if k == 0:
        return (f"{v:.3f}" if v is not None else DASH), None
    base = value(results[labels[0]], domain, b)
    if v is None or base is None:
        return DASH, None
    d = v - base
    return f"{d:+.3f}", ("worse" if d > 0.01 else "better" if d < -0.01 else None)


# ---- the checks -------------------------------------------------------------------------------------------------

def check_loss_table(page, results):
    labels = list(results)
    table = page.root.find("table", "loss")
    group = table.find("tr", "group")
    heads = [norm(th.text()) for th in group.find_all("th")]
    check(heads == ["", *BINS, "all"], f"the loss table's bin groups are {heads}, expected {['', *BINS, 'all']} (length order)")
    for th in group.find_all("th")[1:]:
        check(th.attrs.get("colspan") == str(len(labels)), f"bin group {norm(th.text())!r} spans {th.attrs.get('colspan')} columns")
    domains = []
    for r in results.values():
        domains += [d for d in r["domains"] if d not in domains]
    body = table.find("tbody")
    rows = body.find_all("tr")
    got_domains = [tr.attrs.get("data-domain") for tr in rows]
    check(got_domains == domains + [None], f"loss table rows {got_domains}, expected {domains} and the all row")
    check("all" in rows[-1].classes and norm(rows[-1].find_all("td")[0].text()) == "all", "the last row is not the all row")
    marked = {"worse": [], "better": []}
    for tr, domain in zip(rows, domains + [None]):
        tds = tr.find_all("td")[1:]
        check(len(tds) == (len(BINS) + 1) * len(labels), f"row {domain}: {len(tds)} value cells")
        i = 0
        for b in BINS + [None]:
            for k, label in enumerate(labels):
                td = tds[i]
                i += 1
                check(td.attrs.get("data-label") == label and td.attrs.get("data-bin") == b,
                      f"row {domain}: cell {i} is ({td.attrs.get('data-bin')}, {td.attrs.get('data-label')}), expected ({b}, {label})")
                text, mark = expected_cell(results, labels, k, domain, b)
                got = norm(td.own_text())
                check(got == text, f"({domain}, {b}, {label}): shows {got!r}, expected {text!r}")
                got_mark = [m for m in ("worse", "better") if m in td.classes]
                check(got_mark == ([mark] if mark else []), f"({domain}, {b}, {label}) {text}: marked {got_mark}, expected {mark}")
                if mark:
                    marked[mark].append((domain, b, label))
    # The inputs were made to have both kinds, and the 1.01 - 1.0 borderline among the worse.
    check(marked["worse"] and marked["better"], f"the inputs should produce both marks: {marked}")
    check((ODD, "512-4K", "global") in marked["worse"], "the +0.010000000000000009 delta is not marked")
    check(("RedPajamaArXiv", "4K+", "global") not in marked["worse"], "a cell without a baseline value is marked")
    legend = norm(page.root.find("p", "legend-text").text())
    check("0.01" in legend and "worse" in legend and "better" in legend and labels[0] in legend,
          f"the legend does not explain the marks: {legend!r}")
    return sum(map(len, marked.values()))


def check_positions(page, results):
    table = page.root.find("table", "positions")
    buckets = []
    for r in results.values():
        buckets += [p for p in r["positions"] if p not in buckets]
    heads = [th.attrs.get("data-position") for th in table.find_all("th") if "data-position" in th.attrs]
    check(heads == buckets, f"position columns {heads}, expected {buckets}")
    for label, r in results.items():
        tr = table.find("tr", data_label=label)
        got = [norm(td.text()) for td in tr.find_all("td")[1:]]
        want = [f"{r['positions'][p]['loss']:.3f}" if p in r["positions"] else DASH for p in buckets]
        check(got == want, f"positions of {label}: {got}, expected {want}")


def fmt_wall(s):
    if s < 60:
        return f"{s:.1f} s"
    t = math.floor(s + 0.5)
    return f"{t // 60}m {t % 60:02d}s" if t < 3600 else f"{t // 3600}h {t % 3600 // 60:02d}m"


def check_training(page, logs):
    svg = page.root.find("svg", "train-loss")
    polys = svg.find_all("polyline")
    check([p.attrs.get("data-label") for p in polys] == list(logs), f"polylines {[p.attrs.get('data-label') for p in polys]}")
    colours = [p.attrs.get("stroke") for p in polys]
    check(len(set(colours)) == len(colours), f"the curves share colours: {colours}")
    points = []  # (tokens, loss, x, y) over every curve: one affine map for all
    for p, (label, (lines, steps)) in zip(polys, logs.items()):
        pts = [tuple(map(float, xy.split(","))) for xy in p.attrs["points"].split()]
        complete = [ln for ln in lines if ln.endswith("\n")]
        check(len(pts) == len(complete) == len(steps), f"{label}: {len(pts)} points for {len(complete)} complete log lines")
        points += [(s["tokens"], s["loss"], x, y) for s, (x, y) in zip(steps, pts)]
    # x = a + b * tokens, y = c - d * loss: fitted on the extremes, every point within rounding (0.1).
    lo_t, hi_t = min(points), max(points)
    bx = (hi_t[2] - lo_t[2]) / (hi_t[0] - lo_t[0])
    lo_l, hi_l = min(points, key=lambda q: q[1]), max(points, key=lambda q: q[1])
    by = (hi_l[3] - lo_l[3]) / (hi_l[1] - lo_l[1])
    check(bx > 0 and by < 0, f"the chart's axes run the wrong way: dx/dtokens {bx}, dy/dloss {by}")
    for t, l, x, y in points:
        check(abs(lo_t[2] + bx * (t - lo_t[0]) - x) <= 0.15 and abs(lo_l[3] + by * (l - lo_l[1]) - y) <= 0.15,
              f"point ({t} tokens, loss {l}) drawn at ({x}, {y}): not on the chart's linear axes")
    xticks = [norm(t.text()) for t in svg.find_all("text", "xtick")]
    check(len(xticks) >= 3 and xticks[0] == "0" and all(t[-1] in "KMB" for t in xticks[1:]),
          f"x ticks are not token counts in K/M: {xticks}")
    check(len(svg.find_all("text", "ytick")) >= 3, "the chart has no y ticks")
    legend = norm(svg.parent.find("div", "legend").text())
    check(all(label in legend for label in logs), f"the chart's legend {legend!r} does not name every log")

    table = page.root.find("table", "train-summary")
    for label, (_, steps) in logs.items():
        tds = [norm(td.text()) for td in table.find("tr", data_label=label).find_all("td")]
        tps = [s["tokens_per_s"] for s in steps if "tokens_per_s" in s]
        want = [label, str(len(steps)), f"{steps[-1]['tokens']:,}", f"{steps[0]['loss']:.3f}",
                f"{statistics.mean(s['loss'] for s in steps[-5:]):.3f}",
                f"{math.floor(statistics.median(tps) + 0.5):,}" if tps else DASH, fmt_wall(steps[-1]["elapsed_s"])]
        check(tds == want, f"summary of {label}: {tds}, expected {want}")
    return colours


def check_page(text, page):
    check(text.startswith("<!DOCTYPE html>"), "the page does not start with <!DOCTYPE html>")
    for tag in ("script", "link", "img", "iframe", "object", "embed", "image", "use"):
        check(not page.root.find_all(tag), f"the page has <{tag}> elements")
    low = text.lower()
    for bad in ("http://", "https://", "url(", "@import", "javascript:"):
        check(bad not in low, f"the page references an external resource ({bad!r})")
    check(not any(n.lower().startswith("on") for n, _ in page.all_attrs), "the page has event-handler attributes")
    for raw, what in ((ODD, "domain"), (ODD_LABEL, "log label"), (TITLE, "title"), (NOTES[0], "note")):
        check(raw not in text, f"the {what} reaches the page unescaped")
    title = page.root.find("head").find("title").text()
    check(norm(title) == TITLE, f"<title> is {title!r}")
    check(norm(page.root.find("h1").own_text()).endswith(TITLE), f"<h1> is {page.root.find('h1').text()!r}")
    notes = [norm(p.text()) for p in page.root.find_all("p", "note")]
    check(notes == [norm(n) for n in NOTES], f"notes {notes}")
    check(page.root.find_all("svg", "needle-heatmap", data_run="needle-run"), "the needle run's heatmap is missing")
    sections = [norm(h.text()) for h in page.root.find_all("h2")]
    for s in ("Training loss", "Per-domain validation loss (Table 5 style)", "Needle in a haystack"):
        check(s in sections, f"no section {s!r} (sections: {sections})")


def check_errors(longctx, tmp, good_loss, good_log):
    def bad(name, content):
        p = os.path.join(tmp, name)
        with open(p, "w") as f:
            f.write(content)
        return p

    line = json.dumps({"step": 1, "loss": 3.0, "tokens": 10}) + "\n"
    broken_log = bad("broken.jsonl", line + line + '{"step": 3, "loss": \n' + line)
    no_tokens = bad("no-tokens.jsonl", line + json.dumps({"step": 2, "loss": 3.0}) + "\n")
    bad_cell = bad("bad-cell.json", json.dumps({"loss": 2.0, "domains": {"C4": {"0-4K": {"loss": "x", "tokens": 1}}}}))
    not_json = bad("not.json", "{\"loss\": 2.0,")
    missing = os.path.join(tmp, "does-not-exist.json")
    cases = [
        ("a missing file", ["--loss", f"base={missing}"], missing),
        ("a malformed log line 3", ["--train-log", f"a={broken_log}"], f"{broken_log}:3"),
        ("a log line without tokens", ["--train-log", f"a={no_tokens}"], f"{no_tokens}:2"),
        ("a malformed loss cell", ["--loss", f"a={good_loss}", "--loss", f"b={bad_cell}"], bad_cell),
        ("a cut-short loss file", ["--loss", f"a={not_json}"], not_json),
        ("LABEL without =", ["--loss", good_loss], "LABEL=FILE"),
        ("a log without =", ["--train-log", good_log, "--loss", f"a={good_loss}"], "LABEL=FILE"),
        ("a label given twice", ["--loss", f"a={good_loss}", "--loss", f"a={good_loss}"], "twice"),
        ("nothing to show", [], "--loss"),
    ]
    for what, args, needle in cases:
        out = os.path.join(tmp, "bad.html")
        p = subprocess.run([longctx, "report", *args, "--out", out], capture_output=True, text=True, timeout=60)
        err = p.stderr.strip()
        check(p.returncode == 1 and needle in err and len(err.splitlines()) == 1,
              f"{what}: expected exit 1 and one line naming {needle!r}, got {p.returncode}: {err!r}")
        check(not os.path.exists(out), f"{what}: a page was written despite the error")
    print(f"errors: {len(cases)} bad inputs, each one line and exit 1, no page")


def main():
    if len(sys.argv) != 3:
        fail("usage: test_training_report.py SOURCE_DIR BINARY_DIR")
    bin_dir = os.path.abspath(sys.argv[2])
    longctx = os.path.join(bin_dir, "longctx")
    check(os.access(longctx, os.X_OK), f"{longctx} is not built")
    keep = os.path.join(bin_dir, "report")
    os.makedirs(keep, exist_ok=True)

    tmp = tempfile.mkdtemp(prefix="longctx-training-report-")
    try:
        results, logs = loss_results(), train_logs()
        args = [longctx, "report"]
        for label, r in results.items():
            path = os.path.join(tmp, f"loss-{label}.json")
            json.dump(r, open(path, "w"), indent=2)
            args += ["--loss", f"{label}={path}"]
        for i, (label, (lines, _)) in enumerate(logs.items()):
            path = os.path.join(tmp, f"train-{i}.jsonl")
            open(path, "w").write("".join(lines))
            args += ["--train-log", f"{label}={path}"]
        needle_dir = os.path.join(tmp, "needle-run")
        write_needle_run(needle_dir)
        report = os.path.join(keep, "training_report.html")
        if os.path.exists(report):
            os.remove(report)
        # The run folder after the repeatable flags: each takes one value, the folder stays positional.
        run(args + [needle_dir, "--title", TITLE, "--note", NOTES[0], "--note", NOTES[1], "--out", report])
        text = open(report, encoding="utf-8").read()
        page = parse(text)
        check_page(text, page)
        n_marked = check_loss_table(page, results)
        check_positions(page, results)
        colours = check_training(page, logs)
        print(f"page: {len(results)} eval-loss results ({n_marked} cells marked), {len(logs)} training logs, 1 needle run")

        check_errors(longctx, tmp, os.path.join(tmp, "loss-original.json"), os.path.join(tmp, "train-0.jsonl"))

        # Chromium: the page renders, not blank, with both marks and every curve on screen.
        png = os.path.join(keep, "training_report.png")
        dom, shot = render(report, tmp, png, WINDOW)
        rendered = parse(dom)
        check(len(rendered.root.find("svg", "train-loss").find_all("polyline")) == len(logs), "Chromium's DOM lost curves")
        for name, rgb in (("worse", WORSE_BG), ("better", BETTER_BG)):
            n = near(shot, rgb, 2)
            check(n >= 300, f"the {name} cells' background {rgb} covers only {n} pixels of {png}")
        for c in colours:
            rgb = tuple(int(c[i:i + 2], 16) for i in (1, 3, 5))
            n = near(shot, rgb, 12)
            check(n >= 60, f"the curve colour {c} covers only {n} pixels of {png}")
        print(f"screenshot {png}: {len(shot)} colours; worse {near(shot, WORSE_BG, 2)}, better {near(shot, BETTER_BG, 2)} pixels")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("training_report: OK")


if __name__ == "__main__":
    main()
