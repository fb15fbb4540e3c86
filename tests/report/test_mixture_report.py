#!/usr/bin/python3
"""The `longctx prepare` HTML report (report::mixture_report_html), through its test driver: Figure 2
before/after agrees with plan.json, the plan table and pack summary with plan.json and manifest.json,
the page is self-contained and escapes what comes from the data, and it renders in headless
Chromium to something that is not blank.

usage: test_mixture_report.py SOURCE_DIR BINARY_DIR RENDER_MIXTURE_REPORT
The page and its screenshot are kept in BINARY_DIR/report/ for a look by eye.
Standard library only. Chromium is required (scripts/setup.sh installs it): without it the test
fails rather than skips.
"""
import collections
import html.parser
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from render import check, fail, near, render, run  # noqa: E402

ODD = 'A<&>"B'  # a domain name that breaks HTML unless escaped
ODD_ESCAPED = "A&lt;&amp;&gt;&quot;B"
DOMAINS = ["arxiv", "book", ODD]
BINS = ["0-1K", "1K-2K", "2K-4K", "4K-8K", "8K-16K", "16K-32K", "32K-64K", "64K-128K", "128K+"]
WINDOW = (1280, 2400)


def make_corpus(path):
    """~65K tokens in three domains: arxiv and book hold long documents (>4K tokens, always kept by
    per-source), the odd one only short ones (kept with p = 0.1), so 200K tokens with at most 20
    passes leave the odd domain short of its budget: the table has a shortfall to highlight."""
    rng = random.Random(20240502)
    vocab = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(3000)]
    shapes = {"arxiv": (150, 2000, 10), "book": (600, 4000, 5), ODD: (2, 220, 40)}  # words: smallest, largest, count
    lines = []
    for domain, (lo, hi, n) in shapes.items():
        for k in [lo, hi] + [int(lo * (hi / lo) ** rng.random()) for _ in range(n - 2)]:
            text = " ".join(rng.choice(vocab) for _ in range(k))
            lines.append(json.dumps({"text": text, "meta": {"redpajama_set_name": domain}}))
    rng.shuffle(lines)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def classes(a):
    return (a.get("class") or "").split()


class Page(html.parser.HTMLParser):
    """What the checks need: the Figure 2 charts, the plan table, the pack tiles, every tag."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = collections.Counter()
        self.attrs = []
        self.charts = {}  # data-chart -> {"values": {(series, key): text}, "fills": {(series, key): fill}, "grid": n, "yticks": []}
        self.histograms = []
        self.legends = 0
        self.plan_header = []
        self.plan_rows = {}  # data-domain (or "all") -> [(classes, text)]
        self.tiles = {}  # data-key -> text of <b>
        self.h2 = []
        self._chart = None
        self._text = None  # [kind, key, buffer] while inside a captured element
        self._row = None
        self._cell = None
        self._in_plan = False
        self._tile = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        c = classes(a)
        self.tags[tag] += 1
        self.attrs.extend(attrs)
        if tag == "svg" and "figure2" in c:
            self._chart = self.charts.setdefault(a.get("data-chart"), {"values": {}, "fills": {}, "grid": 0, "yticks": []})
        elif tag == "svg" and "length-histogram" in c:
            self.histograms.append(a.get("data-domain"))
        elif self._chart is not None and tag == "rect" and "bar" in c:
            self._chart["fills"][(c[1], a.get("data-key"))] = a.get("fill")
        elif self._chart is not None and tag == "line" and "grid" in c:
            self._chart["grid"] += 1
        elif self._chart is not None and tag == "text" and "value" in c:
            self._text = ["value", (c[1], a.get("data-key")), ""]
        elif self._chart is not None and tag == "text" and "ytick" in c:
            self._text = ["ytick", None, ""]
        elif tag == "div" and "legend" in c:
            self.legends += 1
        elif tag == "h2":
            self._text = ["h2", None, ""]
        elif tag == "table" and "plan" in c:
            self._in_plan = True
        elif self._in_plan and tag == "tr":
            self._row = [a.get("data-domain") or ("all" if "all" in c else None), []]
        elif self._in_plan and tag in ("td", "th"):
            self._cell = [tag, c, ""]
        elif tag == "div" and "tile" in c:
            self._tile = a.get("data-key")
        elif tag == "b" and self._tile:
            self._text = ["tile", self._tile, ""]

    def handle_endtag(self, tag):
        if tag == "svg":
            self._chart = None
        elif tag in ("text", "h2", "b") and self._text is not None:
            kind, key, buf = self._text
            if kind == "value":
                self._chart["values"][key] = buf.strip()
            elif kind == "ytick":
                self._chart["yticks"].append(buf.strip())
            elif kind == "h2":
                self.h2.append(buf.strip())
            elif kind == "tile":
                self.tiles[key] = buf.strip()
                self._tile = None
            self._text = None
        elif tag == "table":
            self._in_plan = False
        elif tag in ("td", "th") and self._cell is not None:
            kind, c, buf = self._cell
            if kind == "th":
                self.plan_header.append(buf.strip())
            else:
                self._row[1].append((c, buf.strip()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row[0] is not None:
                self.plan_rows[self._row[0]] = self._row[1]
            self._row = None

    def handle_data(self, data):
        if self._text is not None:
            self._text[2] += data
        if self._cell is not None:
            self._cell[2] += data


def parse(text):
    p = Page()
    p.feed(text)
    p.close()
    return p


def count(n):
    return f"{n:,}"


def pct(x):
    return f"{100 * x:.1f}%"


def check_self_contained(text, page):
    check(text.startswith("<!DOCTYPE html>"), "the report does not start with <!DOCTYPE html>")
    for tag in ("script", "link", "img", "iframe", "object", "embed", "audio", "video", "image", "use"):
        check(page.tags[tag] == 0, f"the report has <{tag}> elements")
    low = text.lower()
    for bad in ("http://", "https://", "url(", "@import", "javascript:"):
        check(bad not in low, f"the report references an external resource ({bad!r})")
    for name, _ in page.attrs:
        check(not name.lower().startswith("on"), f"the report has an event-handler attribute {name}")
    check(ODD not in text, f"the raw domain name {ODD!r} appears unescaped in the report")
    check(ODD_ESCAPED in text, f"the escaped domain name {ODD_ESCAPED} is missing")


def check_figure2(page, plan):
    check(sorted(page.charts) == ["bins", "domains"], f"expected svg.figure2 data-chart domains and bins, found {sorted(page.charts)}")
    f2 = plan["figure2"]
    for chart, keys in (("domains", list(plan["domains"])), ("bins", BINS)):
        c = page.charts[chart]
        check(sorted(f2["after"][chart]) == sorted(keys), f"plan.json figure2 {chart}: {list(f2['after'][chart])}")
        for series in ("before", "after"):
            shown = {k: v for (s, k), v in c["values"].items() if s == series}
            check(sorted(shown) == sorted(keys), f"{chart}: {series} values labelled for {sorted(shown)}, expected {sorted(keys)}")
            for k in keys:
                want = pct(f2[series][chart][k])
                check(shown[k] == want, f"{chart}/{series}/{k!r}: the page shows {shown[k]}, plan.json says {want}")
            check(all(c["fills"].get((series, k)) for k in keys), f"{chart}: {series} bars missing")
        # The store's bars are grey, the plan's coloured (a domain's own colour in the domain chart).
        greys = {c["fills"][("before", k)] for k in keys}
        check(len(greys) == 1, f"{chart}: before bars have several fills {greys}")
        after = [c["fills"][("after", k)] for k in keys]
        check(greys.isdisjoint(after), f"{chart}: before and after bars share a colour")
        if chart == "domains":
            check(len(set(after)) == len(keys), f"domains: after bars do not have one colour per domain: {after}")
        check(c["grid"] >= 3, f"{chart}: {c['grid']} gridlines")
        check(c["yticks"] and c["yticks"][0] == "0%" and all(t.endswith("%") for t in c["yticks"]), f"{chart}: y ticks {c['yticks']}")
        top = float(c["yticks"][-1].rstrip("%"))
        most = 100 * max(max(f2[s][chart].values()) for s in ("before", "after"))
        check(most <= top + 1e-9 and top < 2 * most + 1, f"{chart}: the axis runs to {top}% for a largest share of {most:.1f}%")
    check(page.legends >= 2, f"expected a legend per chart, found {page.legends}")


def check_plan_table(page, plan):
    for want in ("domain", "target share", "budget", "available", "planned tokens", "share", "shortfall", "passes"):
        check(want in page.plan_header, f"the plan table has no {want!r} column (header: {page.plan_header})")
    cols = page.plan_header
    check(sorted(k for k in page.plan_rows if k != "all") == sorted(plan["domains"]),
          f"plan table rows {sorted(page.plan_rows)} != plan domains {sorted(plan['domains'])}")
    check("all" in page.plan_rows, "the plan table has no total row")
    shortfalls = 0
    for name, d in plan["domains"].items():
        row = page.plan_rows[name]
        check(len(row) == len(cols) and row[0][1] == name, f"plan table row {row} (header {cols})")
        cell = lambda col: row[cols.index(col)]
        check(cell("planned tokens")[1] == count(d["tokens"]), f"{name}: planned tokens {cell('planned tokens')[1]} != {d['tokens']}")
        check(cell("budget")[1] == count(d["budget"]), f"{name}: budget {cell('budget')[1]} != {d['budget']}")
        check(cell("available")[1] == count(d["available"]), f"{name}: available {cell('available')[1]} != {d['available']}")
        check(cell("target share")[1] == pct(d["target_share"]), f"{name}: target share {cell('target share')[1]}")
        check(cell("share")[1] == pct(d["share"]), f"{name}: share {cell('share')[1]} != {pct(d['share'])}")
        check(cell("passes")[1] == str(d["passes"]), f"{name}: passes {cell('passes')[1]} != {d['passes']}")
        sf = cell("shortfall")
        check(sf[1] == count(d["shortfall"]), f"{name}: shortfall {sf[1]} != {d['shortfall']}")
        check(("shortfall" in sf[0]) == (d["shortfall"] > 0), f"{name}: shortfall {d['shortfall']} highlighted: {'shortfall' in sf[0]}")
        shortfalls += d["shortfall"] > 0
    check(shortfalls >= 1, "the test corpus was meant to leave a domain short of its budget (none is)")


def check_pack(page, manifest):
    want = {"layout": manifest["layout"], "sequences": count(manifest["sequences"]), "seq_len": count(manifest["seq_len"]),
            "tokens": count(manifest["tokens"]), "document_tokens": count(manifest["document_tokens"]),
            "dropped_tail_tokens": count(manifest["dropped_tail_tokens"]), "shards": count(len(manifest["shards"]))}
    for k, v in want.items():
        check(page.tiles.get(k) == v, f"pack summary {k}: the page shows {page.tiles.get(k)!r}, manifest.json says {v!r}")


def check_render(report, page, tmp, keep):
    png = os.path.join(keep, "mixture_report.png")
    dom, colours = render(report, tmp, png, WINDOW)
    rendered = parse(dom)
    check(sorted(rendered.charts) == ["bins", "domains"], f"the DOM Chromium rendered has svg.figure2 charts {sorted(rendered.charts)}")
    check(rendered.charts["domains"]["values"] == page.charts["domains"]["values"], "Chromium's DOM shows other Figure 2 values")

    # Every Figure 2 bar colour (grey for the store, one per domain, one for the length bins) is on screen.
    fills = {f for c in page.charts.values() for f in c["fills"].values()}
    check(len(fills) == len(DOMAINS) + 2, f"expected {len(DOMAINS) + 2} Figure 2 bar colours, found {sorted(fills)}")
    for f in sorted(fills):
        n = near(colours, tuple(int(f[i:i + 2], 16) for i in (1, 3, 5)))
        check(n >= 200, f"bar colour {f} covers only {n} pixels of the screenshot {png}")
    print(f"screenshot {png}: {len(colours)} colours, Figure 2 bar colours {sorted(fills)} all visible")


def main():
    if len(sys.argv) != 4:
        fail("usage: test_mixture_report.py SOURCE_DIR BINARY_DIR RENDER_MIXTURE_REPORT")
    src, bin_dir, driver = map(os.path.abspath, sys.argv[1:])
    longctx = os.path.join(bin_dir, "longctx")
    tokenizer = os.path.join(src, "data/tokenizers/llama2/tokenizer.json")
    check(os.access(longctx, os.X_OK), f"{longctx} is not built")
    check(os.access(driver, os.X_OK), f"{driver} is not built")
    check(os.path.exists(tokenizer), f"{tokenizer} is missing (scripts/setup.sh downloads it)")
    keep = os.path.join(bin_dir, "report")
    os.makedirs(keep, exist_ok=True)

    tmp = tempfile.mkdtemp(prefix="longctx-mixture-report-")
    try:
        corpus = os.path.join(tmp, "corpus.jsonl")
        make_corpus(corpus)
        store, plan_dir, packed = (os.path.join(tmp, d) for d in ("store", "plan", "packed"))
        run([longctx, "ingest", "-q", "--tokenizer", tokenizer, "--out", store, corpus])
        run([longctx, "mix", store, "-q", "--strategy", "per-source", "--tokens", "200K", "--seed", "1", "--max-repeat", "20",
             "--allow-shortfall", "--out", plan_dir])
        run([longctx, "pack", plan_dir, "-q", "--seq-len", "8K", "--format", "megatron", "--out", packed])
        plan = json.load(open(os.path.join(plan_dir, "plan.json")))
        manifest = json.load(open(os.path.join(packed, "manifest.json")))
        check(sorted(plan["domains"]) == sorted(DOMAINS), f"plan domains {sorted(plan['domains'])}")

        report = os.path.join(keep, "mixture_report.html")
        run([driver, store, plan_dir, packed, report])
        text = open(report, encoding="utf-8").read()
        page = parse(text)
        check_self_contained(text, page)
        check_figure2(page, plan)
        check_plan_table(page, plan)
        check_pack(page, manifest)
        check("strategy <b>per-source</b>" in text and "seed <b>1</b>" in text, "the header does not name the strategy and seed")
        check(f"<b>{count(plan['tokens'])}</b> tokens planned of <b>{count(plan['tokens_requested'])}</b> requested" in text,
              "the header does not show tokens planned against requested")
        check(f"<b>{count(manifest['sequences'])}</b> sequences × <b>{count(manifest['seq_len'])}</b>" in text,
              "the header does not show sequences × seq_len")
        # Then the store's length report sections, as `stats --report` shows them.
        check(sorted(page.histograms) == sorted(DOMAINS + ["all"]), f"length histograms {page.histograms}")
        order = page.h2
        check(order.index("Packed sequences") < order.index("Length statistics"), f"section order {order}")
        check(order[0].startswith("Figure 2"), f"Figure 2 is not the first section: {order}")

        # Without a packed output: the same page, no pack section.
        unpacked = os.path.join(tmp, "unpacked.html")
        run([driver, store, plan_dir, "-", unpacked])
        text2 = open(unpacked, encoding="utf-8").read()
        page2 = parse(text2)
        check("Packed sequences" not in page2.h2 and not page2.tiles, "a page without a packed output has a pack section")
        check(sorted(page2.charts) == ["bins", "domains"], "the page without a packed output lost Figure 2")
        check_self_contained(text2, page2)

        # Bad input is an error, not a broken page.
        bad = os.path.join(tmp, "bad")
        os.makedirs(bad)
        with open(os.path.join(bad, "plan.json"), "w") as f:
            f.write("{not json")
        p = subprocess.run([driver, store, bad, "-", os.path.join(tmp, "bad.html")], capture_output=True, text=True)
        check(p.returncode != 0 and "plan.json" in p.stderr, f"a malformed plan.json: exit {p.returncode}, {p.stderr!r}")
        check(not os.path.exists(os.path.join(tmp, "bad.html")), "a malformed plan.json still wrote a page")

        check_render(report, page, tmp, keep)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("mixture_report: OK")


if __name__ == "__main__":
    main()
