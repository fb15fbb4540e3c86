#!/usr/bin/python3
"""`longctx stats --report`: the HTML page is self-contained, escapes what comes from the data,
agrees with `stats --json`, and renders in headless Chromium to something that is not blank.

usage: test_stats_report.py SOURCE_DIR BINARY_DIR
The page and its screenshot are kept in BINARY_DIR/report/ for a look by eye.
Standard library only. Chromium is required (scripts/setup.sh installs it): without it the test
fails rather than skips, so a missing renderer is never mistaken for a passing report.
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
DOMAINS = ["arxiv", "book", ODD]


def make_corpus(path):
    """Three domains whose documents run from a few words to ~20,000 (1 to >4K tokens)."""
    rng = random.Random(20240501)
    vocab = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9))) for _ in range(3000)]
    # (domain, smallest, largest words): each domain has its own shape, and together they span it all.
    shapes = {"arxiv": (200, 8000), "book": (2000, 20000), ODD: (2, 600)}
    lines = []
    for domain, (lo, hi) in shapes.items():
        lengths = [lo, hi] + [int(lo * (hi / lo) ** rng.random()) for _ in range(28)]
        for n in lengths:
            text = " ".join(rng.choice(vocab) for _ in range(n))
            lines.append(json.dumps({"text": text, "meta": {"redpajama_set_name": domain}}))
    rng.shuffle(lines)
    lines.insert(5, "{this is not json")  # a skipped line, so the header shows a reason
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


class Page(html.parser.HTMLParser):
    """What the checks need: histogram svgs, the table's cells, every tag and attribute."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = collections.Counter()
        self.attrs = []
        self.histograms = []  # (data-domain, [bar fills])
        self.rows = []  # table rows: [(tag, text)]
        self._cell = None
        self._in_hist = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] += 1
        self.attrs.extend(attrs)
        if tag == "svg" and "length-histogram" in (a.get("class") or "").split():
            self.histograms.append((a.get("data-domain"), []))
            self._in_hist = True
        elif tag == "rect" and self._in_hist and "bar" in (a.get("class") or "").split():
            self.histograms[-1][1].append(a.get("fill"))
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = [tag, ""]

    def handle_endtag(self, tag):
        if tag == "svg":
            self._in_hist = False
        elif tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append((self._cell[0], self._cell[1].strip()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[1] += data


def parse(text):
    p = Page()
    p.feed(text)
    p.close()
    return p


def check_page(text, stats):
    check(text.startswith("<!DOCTYPE html>"), "the report does not start with <!DOCTYPE html>")
    page = parse(text)
    # Self-contained: nothing runs, nothing is fetched.
    for tag in ("script", "link", "img", "iframe", "object", "embed", "audio", "video", "image", "use"):
        check(page.tags[tag] == 0, f"the report has <{tag}> elements")
    low = text.lower()
    for bad in ("http://", "https://", "url(", "@import", "javascript:"):
        check(bad not in low, f"the report references an external resource ({bad!r})")
    for name, _ in page.attrs:
        check(not name.lower().startswith("on"), f"the report has an event-handler attribute {name}")

    # One histogram per domain plus "all", named by data-domain (decoded by the parser).
    names = [d for d, _ in page.histograms]
    check(len(names) == len(DOMAINS) + 1, f"expected {len(DOMAINS) + 1} svg.length-histogram, found {len(names)}: {names}")
    check(sorted(names) == sorted(DOMAINS + ["all"]), f"histogram data-domain values {names}")
    for d, fills in page.histograms:
        check(fills, f"the histogram of {d!r} has no bars")

    # Escaping: the odd name only ever appears escaped.
    check(ODD not in text, f"the raw domain name {ODD!r} appears unescaped in the report")
    check("A&lt;&amp;&gt;&quot;B" in text, "the escaped domain name A&lt;&amp;&gt;&quot;B is missing")

    # The table agrees with stats --json.
    header = max((r for r in page.rows if r and all(t == "th" for t, _ in r)), key=len, default=[])
    cols = [c for _, c in header]
    for want in ["domain", "documents", "tokens", "p50", "p99", "max"] + stats["bins"]:
        check(want in cols, f"the table has no {want!r} column (header: {cols})")
    body = {r[0][1]: [c for _, c in r] for r in page.rows if r and r[0][0] == "td"}
    expect = dict(stats["domains"], all=stats["all"])
    check(sorted(body) == sorted(expect), f"table rows {sorted(body)} != domains {sorted(expect)}")
    num = lambda s: int(s.replace(",", ""))
    for name, d in expect.items():
        row = body[name]
        check(num(row[cols.index("documents")]) == d["documents"], f"{name}: documents {row[cols.index('documents')]} != {d['documents']}")
        check(num(row[cols.index("tokens")]) == d["tokens"], f"{name}: tokens {row[cols.index('tokens')]} != {d['tokens']}")
        for p in ("p50", "p99", "max"):
            check(num(row[cols.index(p)]) == d["percentiles"][p], f"{name}: {p} {row[cols.index(p)]} != {d['percentiles'][p]}")
        for b in stats["bins"]:
            shown = row[cols.index(b)]
            check(shown == f"{100 * d['bins'][b]:.1f}%", f"{name}: bin {b} shows {shown}, json {d['bins'][b]}")
    check(stats["all"]["percentiles"]["max"] > stats["long_threshold"], "the corpus has no document longer than the threshold")
    check(stats["all"]["percentiles"]["p25"] < 1024 or min(
        d["percentiles"]["p25"] for d in stats["domains"].values()) < 1024, "the corpus has no short documents")
    return page


def check_render(report, page, tmp, keep):
    png = os.path.join(keep, "stats_report.png")
    dom, colours = render(report, tmp, png, (1280, 2000))
    rendered = parse(dom)
    check(len(rendered.histograms) == len(DOMAINS) + 1,
          f"the DOM Chromium rendered has {len(rendered.histograms)} svg.length-histogram, expected {len(DOMAINS) + 1}")

    # Every bar colour of the page (one per domain) must be on screen, not just in the markup.
    fills = {f for _, bars in page.histograms for f in bars}
    check(len(fills) == len(DOMAINS), f"expected one bar colour per domain, found {sorted(fills)}")
    for f in sorted(fills):
        rgb = tuple(int(f[i:i + 2], 16) for i in (1, 3, 5))
        n = near(colours, rgb)
        check(n >= 200, f"bar colour {f} covers only {n} pixels of the screenshot {png}")
    print(f"screenshot {png}: {len(colours)} colours, bar colours {sorted(fills)} all visible")


def main():
    if len(sys.argv) != 3:
        fail("usage: test_stats_report.py SOURCE_DIR BINARY_DIR")
    src, bin_dir = map(os.path.abspath, sys.argv[1:])
    longctx = os.path.join(bin_dir, "longctx")
    tokenizer = os.path.join(src, "data/tokenizers/llama2/tokenizer.json")
    check(os.access(longctx, os.X_OK), f"{longctx} is not built")
    check(os.path.exists(tokenizer), f"{tokenizer} is missing (scripts/setup.sh downloads it)")
    keep = os.path.join(bin_dir, "report")
    os.makedirs(keep, exist_ok=True)

    tmp = tempfile.mkdtemp(prefix="longctx-report-")
    try:
        corpus = os.path.join(tmp, "corpus.jsonl")
        make_corpus(corpus)
        store = os.path.join(tmp, "store")
        run([longctx, "ingest", "-q", "--tokenizer", tokenizer, "--out", store, corpus])
        report = os.path.join(keep, "stats_report.html")
        run([longctx, "stats", store, "--report", report])
        stats = json.loads(run([longctx, "stats", store, "--json"]).stdout)
        check(sorted(stats["domains"]) == sorted(DOMAINS), f"stats --json domains {sorted(stats['domains'])}")
        text = open(report, encoding="utf-8").read()
        check("1</b> line skipped (" in text, "the header does not report the skipped line")
        page = check_page(text, stats)
        check_render(report, page, tmp, keep)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("stats_report: OK")


if __name__ == "__main__":
    main()
