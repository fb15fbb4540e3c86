#!/usr/bin/python3
"""The needle-in-a-haystack report (report::load_needle_run + report::needle_report_html), through its
test driver and, once built, `longctx report`: two fake run folders (a 6-length x 5-depth grid with
known scores; the second unfinished, with a trailing line cut short by a kill; a needle that breaks
HTML unless escaped). Every heatmap cell's score and colour, the missing cells, the training-length
line, the overall and per-length scores, the comparison table, escaping and self-containment; loader
errors; then the page in headless Chromium, whose screenshot must show the three anchor colours.

usage: test_needle_report.py SOURCE_DIR BINARY_DIR RENDER_NEEDLE_REPORT
The page and its screenshot are kept in BINARY_DIR/report/needle_report.{html,png} for a look by eye.
Standard library only. Chromium is required (scripts/setup.sh installs it): without it the test
fails rather than skips.
"""
import collections
import html.parser
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Renamed: this file's own render() draws the page with the driver.
from render import check, fail, near, render as render_in_chromium, run  # noqa: E402

LENGTHS = [1000, 8000, 16000, 32000, 64000, 128000]
DEPTHS = [0, 25, 50, 75, 100]
RED, YELLOW, GREEN = (0xF0, 0x49, 0x6E), (0xEB, 0xB8, 0x39), (0x0C, 0xD7, 0x9F)
ODD_RUN = 'ours<&>"7B'  # a folder name (the run's name) that breaks HTML unless escaped
ODD_RUN_ESCAPED = "ours&lt;&amp;&gt;&quot;7B"
NEEDLE = 'The best thing to do in <San Francisco> is "eat a sandwich" & sit in Dolores Park on a sunny day.'
NEEDLE_ESCAPED = "The best thing to do in &lt;San Francisco&gt; is &quot;eat a sandwich&quot; &amp; sit in Dolores Park"
QUESTION = "What is the best thing to do in San Francisco?"
WINDOW = (1280, 1800)


def colour(score):
    """The report's colour map: linear in RGB, red at 0, yellow at 0.5, green at 1, rounded half up."""
    s = min(1.0, max(0.0, score))
    a, b = (RED, YELLOW) if s < 0.5 else (YELLOW, GREEN)
    t = s / 0.5 if s < 0.5 else (s - 0.5) / 0.5
    return "#" + "".join(f"{math.floor(x + (y - x) * t + 0.5):02X}" for x, y in zip(a, b))


# ---- the fake runs -------------------------------------------------------------------------------------

def recall_a(length, depth):
    """Run A (trained at 32K): perfect up to its training length but for a dip at 50% depth in 16K,
    half right at 64K, lost at 128K: the paper's picture of a model failing past its length."""
    if length <= 32000:
        return 0.5 if (length, depth) == (16000, 50) else 1.0
    if length == 64000:
        return [1.0, 0.5, 0.5, 8 / 11, 0.0][DEPTHS.index(depth)]
    return [0.0, 0.0, 3 / 11, 0.0, 0.0][DEPTHS.index(depth)]


def recall_b(length, depth):
    """Run B (trained at 16K): a gradient, so that colours between the anchors appear too."""
    return max(0.0, 1.0 - LENGTHS.index(length) * 0.2 - DEPTHS.index(depth) * 0.03)


def trial(length, depth, recall, response):
    return {"length": length, "depth": depth, "prompt_tokens": length + 12, "context_tokens": length - 220,
            "needle_token_index": int(length * depth / 100), "response": response, "response_ids": [1, 2, 3],
            "scores": {"paper_recall": recall * 11 / 12, "recall": recall, "rouge1_f": recall * 0.8,
                       "substring": 1 if recall == 1.0 else 0}, "seconds": 0.5}


def write_run(folder, run_json, lines):
    os.makedirs(folder)
    with open(os.path.join(folder, "run.json"), "w") as f:
        json.dump(run_json, f, indent=2)
    with open(os.path.join(folder, "trials.jsonl"), "w") as f:
        f.write("".join(lines))


def run_json(model, train_length, backend="engine"):
    return {"format": "longctx-needle-run", "model": model, "backend": backend, "tokenizer": "tokenizer.json",
            "tokenizer_xxh128": "0123456789abcdef0123456789abcdef", "needle": NEEDLE, "question": QUESTION,
            "answer": "eat a sandwich and sit in Dolores Park on a sunny day.", "lengths": LENGTHS, "depths": DEPTHS,
            "max_new_tokens": 50, "train_length": train_length}


def make_runs(tmp):
    """-> {name: (folder, [trials as the report must see them, in trials.jsonl order])}."""
    runs = {}
    # A: the whole grid, depth-major as `longctx needle` writes it, and one cell run twice (the last counts).
    a_dir = os.path.join(tmp, ODD_RUN)
    trials, lines = [], []
    for length in LENGTHS:
        for depth in DEPTHS:
            r = recall_a(length, depth)
            t = trial(length, depth, r, f"The best thing <b>to do</b> & more at {length}/{depth}: " + "sandwich " * 40)
            trials.append(t)
            lines.append(json.dumps(t) + "\n")
    first = trial(8000, 50, 0.0, "a first try that was rerun")
    lines.insert(3, json.dumps(first) + "\n")  # before the rerun that replaces it
    write_run(a_dir, run_json("ours <7B> 80K", 32000), lines)
    runs[ODD_RUN] = (a_dir, trials)

    # B: killed after 22 of 30 trials, mid-way through writing the 23rd; lengths written with blank lines
    # between some (tolerated), and the endpoint's address (no http:// may reach the page).
    b_dir = os.path.join(tmp, "baseline")
    trials, lines = [], []
    for length in LENGTHS:
        for depth in DEPTHS:
            if len(trials) == 22:
                break
            t = trial(length, depth, recall_b(length, depth), "I don't know.")
            trials.append(t)
            lines.append(json.dumps(t) + "\n")
    lines.insert(5, "\n")
    partial = json.dumps(trial(64000, 50, 1.0, "cut short"))
    lines.append(partial[: len(partial) // 2])
    write_run(b_dir, run_json("base 7B", 16000, "endpoint http://127.0.0.1:8000"), lines)
    runs["baseline"] = (b_dir, trials)
    return runs


# ---- reading the page ------------------------------------------------------------------------------------

def classes(a):
    return (a.get("class") or "").split()


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = collections.Counter()
        self.attrs = []
        self.heatmaps = {}  # data-run -> {"cells": [attrs], "train": [attrs], "xticks": [], "yticks": []}
        self.overall = {}  # data-run -> text
        self.sections = {}  # data-run -> text of the run's section
        self.per_length = collections.defaultdict(dict)  # run -> {length: [cell texts]}
        self.compare = {}  # run -> [cell texts]
        self.compare_header = []
        self._svg = None
        self._section = None
        self._text = None
        self._table = None
        self._row = None
        self._cell = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        c = classes(a)
        self.tags[tag] += 1
        self.attrs.extend(attrs)
        if tag == "section" and "run" in c:
            self._section = a.get("data-run")
            self.sections[self._section] = ""
        elif tag == "svg" and "needle-heatmap" in c:
            self._svg = self.heatmaps.setdefault(a.get("data-run"), {"cells": [], "train": [], "xticks": [], "yticks": []})
        elif self._svg is not None and tag == "rect" and "cell" in c:
            self._svg["cells"].append(a)
        elif self._svg is not None and tag == "line" and "train-length" in c:
            self._svg["train"].append(a)
        elif self._svg is not None and tag == "text" and ("xtick" in c or "ytick" in c):
            self._text = [c[0], ""]
        elif tag == "b" and "overall-score" in c:
            self._text = ["overall", "", a.get("data-run")]
        elif tag == "table" and ("per-length" in c or "compare" in c):
            self._table = ("per-length", a.get("data-run")) if "per-length" in c else ("compare", None)
        elif self._table and tag == "tr":
            self._row = [a.get("data-length") or a.get("data-run"), []]
        elif self._table and tag in ("td", "th"):
            self._cell = [tag, ""]

    def handle_endtag(self, tag):
        if tag == "svg" and self._svg is not None:
            self._svg = None
        elif tag == "section":
            self._section = None
        elif tag in ("text", "b") and self._text is not None:
            if self._text[0] == "overall":
                self.overall[self._text[2]] = self._text[1].strip()
            else:
                self._svg[self._text[0] + "s"].append(self._text[1].strip())
            self._text = None
        elif tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._cell is not None:
            if self._cell[0] == "th" and self._table[0] == "compare":
                self.compare_header.append(self._cell[1].strip())
            elif self._cell[0] == "td":
                self._row[1].append(self._cell[1].strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row[0] is not None and self._row[1]:
                if self._table[0] == "compare":
                    self.compare[self._row[0]] = self._row[1]
                else:
                    self.per_length[self._table[1]][int(self._row[0])] = self._row[1]
            self._row = None

    def handle_data(self, data):
        if self._text is not None:
            self._text[1] += data
        if self._cell is not None:
            self._cell[1] += data
        if self._section is not None:
            self.sections[self._section] += data


def parse(text):
    p = Page()
    p.feed(text)
    p.close()
    return p


def norm(s):
    return " ".join(s.split())


def render(driver, out, metric, train, folders):
    if os.path.exists(out):
        os.remove(out)
    run([driver, out, metric, str(train)] + folders)
    text = open(out, encoding="utf-8").read()
    return text, parse(text)


# ---- the checks ----------------------------------------------------------------------------------------

def check_self_contained(text, page):
    check(text.startswith("<!DOCTYPE html>"), "the report does not start with <!DOCTYPE html>")
    for tag in ("script", "link", "img", "iframe", "object", "embed", "audio", "video", "image", "use"):
        check(page.tags[tag] == 0, f"the report has <{tag}> elements")
    low = text.lower()
    for bad in ("http://", "https://", "url(", "@import", "javascript:"):
        check(bad not in low, f"the report references an external resource ({bad!r})")
    for name, _ in page.attrs:
        check(not name.lower().startswith("on"), f"the report has an event-handler attribute {name}")
    # Escaping: the needle, the run name (a folder name) and the model name appear only escaped.
    check(NEEDLE not in text and NEEDLE_ESCAPED in text, "the needle is not (only) HTML-escaped in the page")
    check(ODD_RUN not in text and ODD_RUN_ESCAPED in text, "the run name is not (only) HTML-escaped in the page")
    check("ours <7B> 80K" not in text and "ours &lt;7B&gt; 80K" in text, "the model name is not escaped")
    check("<b>to do</b>" not in text, "a response excerpt reached the page unescaped")


def cell_geometry(cells):
    return {(int(c["data-length"]), float(c["data-depth"])): (float(c["x"]), float(c["width"]), float(c["y"])) for c in cells}


def check_heatmap(page, name, trials, metric, train_length, grid_total):
    check(name in page.heatmaps, f"no svg.needle-heatmap with data-run={name!r} (found {sorted(page.heatmaps)})")
    hm = page.heatmaps[name]
    cells = hm["cells"]
    check(len(cells) == len(LENGTHS) * len(DEPTHS), f"{name}: {len(cells)} cells, expected {len(LENGTHS) * len(DEPTHS)}")
    by_key = {(int(c["data-length"]), float(c["data-depth"])): c for c in cells}
    check(sorted(by_key) == sorted((l, float(d)) for l in LENGTHS for d in DEPTHS), f"{name}: the cells are not the grid")
    done = {(t["length"], float(t["depth"])): t for t in trials}
    for key, c in by_key.items():
        if key in done:
            want = done[key]["scores"][metric]
            check("missing" not in classes(c), f"{name} {key}: a finished cell is marked missing")
            check(float(c.get("data-score", "nan")) == want, f"{name} {key}: data-score {c.get('data-score')} != {metric} {want}")
            check(c["fill"].upper() == colour(want), f"{name} {key}: fill {c['fill']} != colour({want}) = {colour(want)}")
        else:
            check("missing" in classes(c), f"{name} {key}: an unfinished cell is not marked missing ({c})")
            check("data-score" not in c, f"{name} {key}: an unfinished cell has a score")
            check(c["fill"].upper() not in {colour(0), colour(0.5), colour(1)}, f"{name} {key}: a missing cell coloured as a score")
    missing = sum("missing" in classes(c) for c in cells)
    check(missing == grid_total - len(trials), f"{name}: {missing} cells marked missing, expected {grid_total - len(trials)}")
    # Geometry: columns by length left to right, rows by depth top to bottom (0% at the top).
    geo = cell_geometry(cells)
    xs = [geo[(l, 0.0)][0] for l in LENGTHS]
    ys = [geo[(LENGTHS[0], float(d))][2] for d in DEPTHS]
    check(xs == sorted(xs) and len(set(xs)) == len(xs), f"{name}: columns not in length order: {xs}")
    check(ys == sorted(ys) and len(set(ys)) == len(ys), f"{name}: rows not in depth order (0 at the top): {ys}")
    check(hm["xticks"] == ["1K", "8K", "16K", "32K", "64K", "128K"], f"{name}: x ticks {hm['xticks']}")
    check(hm["yticks"] == ["0%", "25%", "50%", "75%", "100%"], f"{name}: y ticks {hm['yticks']}")
    # The dashed training-length line, on the border between the last column <= it and the first beyond.
    check(len(hm["train"]) == 1, f"{name}: {len(hm['train'])} training-length lines")
    line = hm["train"][0]
    check(int(line["data-length"]) == train_length, f"{name}: training-length line at {line['data-length']}, expected {train_length}")
    check(line["x1"] == line["x2"], f"{name}: the training-length line is not vertical")
    x = float(line["x1"])
    before = max(l for l in LENGTHS if l <= train_length)
    after = min(l for l in LENGTHS if l > train_length)
    bx, bw, _ = geo[(before, 0.0)]
    ax, _, _ = geo[(after, 0.0)]
    check(abs(x - (bx + bw)) <= 0.15 and abs(x - ax) <= 0.15,
          f"{name}: training-length line at x={x}, expected between the {before} column (ends {bx + bw}) and the {after} one (starts {ax})")


def mean(xs):
    return sum(xs) / len(xs)


def check_scores(page, name, trials, metric, grid_total):
    want = f"{100 * mean([t['scores'][metric] for t in trials]):.1f}"
    check(page.overall.get(name) == want, f"{name}: overall score {page.overall.get(name)!r}, expected {want}")
    section = norm(page.sections.get(name, ""))
    trials_text = f"{len(trials)} of {grid_total} trials"
    check(trials_text in section, f"{name}: the header does not say {trials_text!r}: {section[:400]!r}")
    check("tokenizer 0123456789ab" in section, f"{name}: the header has no short tokenizer hash")
    check(f"question {QUESTION}" in section or QUESTION in section, f"{name}: the header has no question")
    label = {"recall": "corrected recall, max 1", "paper_recall": "paper's word-set recall, max 11/12"}.get(metric)
    if label:
        check(label in section, f"{name}: the header does not define {metric} as {label!r}")
    rows = page.per_length[name]
    check(sorted(rows) == LENGTHS, f"{name}: per-length rows {sorted(rows)}")
    for length in LENGTHS:
        got = [t["scores"][metric] for t in trials if t["length"] == length]
        want_mean = f"{100 * mean(got):.1f}" if got else "\u2014"
        want_trials = str(len(got)) if len(got) == len(DEPTHS) else f"{len(got)} of {len(DEPTHS)}"
        check(rows[length][1] == want_mean and rows[length][2] == want_trials,
              f"{name} {length}: per-length row {rows[length]}, expected mean {want_mean}, trials {want_trials}")


def check_render(report, pages_runs, tmp, keep):
    png = os.path.join(keep, "needle_report.png")
    dom, colours = render_in_chromium(report, tmp, png, WINDOW)
    rendered = parse(dom)
    check(sorted(rendered.heatmaps) == sorted(pages_runs), f"Chromium's DOM has heatmaps {sorted(rendered.heatmaps)}")
    for name in pages_runs:
        check(len(rendered.heatmaps[name]["cells"]) == len(LENGTHS) * len(DEPTHS), f"Chromium's DOM: {name} lost cells")

    for label, rgb in (("red #F0496E", RED), ("yellow #EBB839", YELLOW), ("green #0CD79F", GREEN)):
        n = near(colours, rgb)
        check(n >= 1000, f"the anchor colour {label} covers only {n} pixels of the screenshot {png}")
    n = near(colours, (0xEE, 0xF0, 0xF3), 1)
    check(n >= 200, f"the missing cells' grey covers only {n} pixels of {png}")
    print(f"screenshot {png}: {len(colours)} colours; red {near(colours, RED)}, yellow {near(colours, YELLOW)}, green {near(colours, GREEN)} pixels")


def check_errors(driver, tmp):
    def bad_run(name, run_text, trials_text):
        d = os.path.join(tmp, name)
        os.makedirs(d)
        open(os.path.join(d, "run.json"), "w").write(run_text)
        open(os.path.join(d, "trials.jsonl"), "w").write(trials_text)
        return d

    good = json.dumps(trial(1000, 0, 1.0, "ok")) + "\n"
    cases = [
        ("malformed-middle", json.dumps(run_json("m", 0)), good + "{not json\n" + good, "trials.jsonl:2"),
        ("malformed-last-terminated", json.dumps(run_json("m", 0)), good + '{"length": 1000\n', "trials.jsonl:2"),
        ("no-length", json.dumps(run_json("m", 0)), good + good + json.dumps({"depth": 0, "scores": {}}) + "\n", "trials.jsonl:3"),
        ("bad-depth", json.dumps(run_json("m", 0)), json.dumps(dict(trial(1000, 0, 1.0, ""), depth=140)) + "\n", "trials.jsonl:1"),
        ("bad-run-json", "{nope", good, "run.json"),
    ]
    for name, run_text, trials_text, where in cases:
        d = bad_run(name, run_text, trials_text)
        out = os.path.join(tmp, name + ".html")
        p = subprocess.run([driver, out, "recall", "0", d], capture_output=True, text=True)
        err = p.stderr.strip()
        check(p.returncode == 1 and where in err and len(err.splitlines()) == 1,
              f"{name}: expected exit 1 and one error line naming {where}, got {p.returncode}: {err!r}")
        check(not os.path.exists(out), f"{name}: a page was written despite the error")
    # A run with only a cut-short line: no trials, an empty grid (run.json lists it): the page still renders.
    d = bad_run("only-partial", json.dumps(run_json("m", 0)), '{"length": 1000, "de')
    out = os.path.join(tmp, "only-partial.html")
    run([driver, out, "recall", "0", d])
    page = parse(open(out, encoding="utf-8").read())
    check(all("missing" in classes(c) for c in page.heatmaps["only-partial"]["cells"]), "a run without trials: cells not missing")
    check(norm(page.sections["only-partial"]).find(f"0 of {len(LENGTHS) * len(DEPTHS)} trials") >= 0, "a run without trials: header")


def check_cli(longctx, folders, driver_page, tmp):
    """`longctx report` gives the driver's page, and one error line for an unknown metric."""
    out = os.path.join(tmp, "cli.html")
    run([longctx, "report"] + folders + ["--out", out, "--metric", "recall"])
    check(open(out, encoding="utf-8").read() == driver_page, "longctx report and the driver give different pages")
    out2 = os.path.join(tmp, "cli-bad.html")
    p = subprocess.run([longctx, "report"] + folders + ["--out", out2, "--metric", "bogus"], capture_output=True, text=True)
    err = p.stderr.strip()
    check(p.returncode != 0 and "unknown metric" in err and len(err.splitlines()) == 1,
          f"longctx report --metric bogus: exit {p.returncode}, {err!r}")
    check(not os.path.exists(out2), "longctx report --metric bogus wrote a page")
    out3 = os.path.join(tmp, "cli-train.html")
    run([longctx, "report"] + folders + ["--out", out3, "--train-length", "100000"])
    page = parse(open(out3, encoding="utf-8").read())
    check(all(int(hm["train"][0]["data-length"]) == 100000 for hm in page.heatmaps.values()), "--train-length is not drawn")
    print("longctx report: same page as the driver; --metric bogus is one error line")


def main():
    if len(sys.argv) != 4:
        fail("usage: test_needle_report.py SOURCE_DIR BINARY_DIR RENDER_NEEDLE_REPORT")
    src, bin_dir, driver = map(os.path.abspath, sys.argv[1:])
    check(os.access(driver, os.X_OK), f"{driver} is not built")
    keep = os.path.join(bin_dir, "report")
    os.makedirs(keep, exist_ok=True)

    tmp = tempfile.mkdtemp(prefix="longctx-needle-report-")
    try:
        runs = make_runs(tmp)
        names = list(runs)
        folders = [runs[n][0] for n in names]
        total = len(LENGTHS) * len(DEPTHS)
        trains = {ODD_RUN: 32000, "baseline": 16000}

        report = os.path.join(keep, "needle_report.html")
        text, page = render(driver, report, "recall", 0, folders)
        check_self_contained(text, page)
        for name in names:
            check_heatmap(page, name, runs[name][1], "recall", trains[name], total)
            check_scores(page, name, runs[name][1], "recall", total)
        check(sorted(page.compare) == sorted(names), f"comparison table rows {sorted(page.compare)}")
        for name in names:
            want = f"{100 * mean([t['scores']['recall'] for t in runs[name][1]]):.1f}"
            check(page.compare[name][2] == want, f"comparison table: {name} overall {page.compare[name][2]}, expected {want}")
        check("endpoint 127.0.0.1:8000" in norm(page.sections["baseline"]), "run B's backend is not shown")

        # The paper's metric, and a training length given on the command line (drawn in every run).
        text2, page2 = render(driver, os.path.join(tmp, "paper.html"), "paper_recall", 100000, folders)
        check_self_contained(text2, page2)
        for name in names:
            check_heatmap(page2, name, runs[name][1], "paper_recall", 100000, total)
            check_scores(page2, name, runs[name][1], "paper_recall", total)
        # One run alone: no comparison table.
        _, page3 = render(driver, os.path.join(tmp, "one.html"), "substring", 0, folders[1:])
        check(not page3.compare and list(page3.heatmaps) == ["baseline"], "a one-run page has a comparison table")
        check_heatmap(page3, "baseline", runs["baseline"][1], "substring", 16000, total)

        p = subprocess.run([driver, os.path.join(tmp, "x.html"), "bogus", "0"] + folders, capture_output=True, text=True)
        check(p.returncode == 1 and "unknown metric" in p.stderr, f"an unknown metric: exit {p.returncode}, {p.stderr!r}")
        check_errors(driver, tmp)

        longctx = os.path.join(bin_dir, "longctx")
        has_cli = os.access(longctx, os.X_OK) and "--train-length" in subprocess.run(
            [longctx, "report", "--help"], capture_output=True, text=True).stdout
        if has_cli:
            check_cli(longctx, folders, text, tmp)
        else:
            print(f"note: {longctx} has no report command yet: the CLI checks are skipped")

        check_render(report, names, tmp, keep)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("needle_report: OK")


if __name__ == "__main__":
    main()
