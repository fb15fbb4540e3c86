#!/usr/bin/python3
"""`longctx report` as `make repro`'s page: several seeds per result (`--loss LABEL=F1,F2,F3`), the
Table 5 with means and spreads, marks only beyond both the paper's 0.01 and the seeds' spread, the
Figure 3 curve (`--curve TOKENS=FILE`) and the text table (`--table`). The test writes its own
eval-loss results, computes what the page and the table must show from them (mean, sample sd,
s = sqrt(sd^2 + sd_base^2)), reads the page back with html.parser, checks the errors, and renders the
page in headless Chromium.

usage: test_repro_report.py SOURCE_DIR BINARY_DIR   (standard library only; Chromium required)
The page and its screenshot are kept in BINARY_DIR/report/repro_report.{html,png}.
"""
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from render import check, fail, near, render, run  # noqa: E402
from test_training_report import norm, parse  # noqa: E402  (the small DOM of the training report's test)

BINS = ["0-512", "512-4K", "4K+"]
BUCKETS = ["512", "1K", "4K"]
WINDOW = (1280, 2600)
WORSE_BG, BETTER_BG = (0xFC, 0xD9, 0xD9), (0xCD, 0xF0, 0xDC)
ODD = 'C4 <&> "web"'  # a domain name that breaks HTML unless escaped


def result(cells, positions, overall):
    doms = {}
    for (d, b), loss in cells.items():
        doms.setdefault(d, {})[b] = {"loss": loss, "tokens": 1000 if b != "4K+" else 3000}
    return {"loss": overall, "tokens": 9000, "sequences": 3, "length_source": "store", "domains": doms,
            "positions": {p: {"loss": v, "tokens": 3000} for p, v in zip(BUCKETS, positions)}}


def seeds_of(base_cells, offsets, shift, positions, overall):
    """One result per seed: base_cells + shift per cell + that seed's offset."""
    return [result({k: v + shift.get(k, 0) + o for k, v in base_cells.items()}, [p + o for p in positions], overall + o)
            for o in offsets]


BASE = {(ODD, "0-512"): 5.70, (ODD, "512-4K"): 5.60, ("Github", "0-512"): 3.30, ("Github", "4K+"): 3.10,
        ("Book", "4K+"): 4.90}


def results():
    """{label: [seed results]}: original (3 seeds, sd 0.002), per-source (3 seeds): ODD 0-512 +0.05 beyond
    everything (worse), Github 0-512 +0.02 with seeds spread 0.03 (not marked: beyond 0.01, not beyond s),
    Book 4K+ -0.04 (better); global (3 seeds, one cell missing in one seed); the pretrained model (1 file)."""
    orig = seeds_of(BASE, [0.0, 0.002, -0.002], {}, [5.2, 5.3, 5.4], 5.22)
    per = seeds_of(BASE, [0.001, -0.001, 0.0], {(ODD, "0-512"): 0.05, ("Book", "4K+"): -0.04}, [5.21, 5.28, 5.3], 5.21)
    for r, o in zip(per, (0.03, -0.03, 0.0)):  # Github 0-512: +0.02 on average, seeds 0.06 apart
        r["domains"]["Github"]["0-512"]["loss"] = BASE[("Github", "0-512")] + 0.02 + o
    glob = seeds_of(BASE, [0.004, 0.0, -0.004], {("Github", "4K+"): -0.3}, [5.3, 5.35, 5.4], 5.3)
    del glob[2]["domains"]["Book"]  # one seed without the cell: the others' mean
    base = [result({k: v + 0.2 for k, v in BASE.items()}, [5.22, 5.37, 5.47], 5.4)]
    return {"original": orig, "per-source": per, "global": glob, "pretrained only": base}


def curve():
    """{tokens: result}: the loss at each bucket falling with tokens, the long bucket fastest."""
    return {t: result(BASE, [5.22 - 0.01 * i, 5.37 - 0.05 * i, 5.47 - 0.08 * i], 5.3 - 0.03 * i)
            for i, t in enumerate((0, 98304, 196608, 393216, 786432))}


def value(r, d, b):
    if d is None and b is None:
        return r["loss"]
    if d is not None and b is not None:
        c = r["domains"].get(d, {}).get(b)
        return c["loss"] if c else None
    s = t = 0
    for dd, bins in r["domains"].items():
        for bb, c in bins.items():
            if (d is None or dd == d) and (b is None or bb == b):
                s, t = s + c["loss"] * c["tokens"], t + c["tokens"]
    return s / t if t else None


def stat(rs, d, b):
    v = [x for x in (value(r, d, b) for r in rs) if x is not None]
    if not v:
        return None
    return statistics.mean(v), (statistics.stdev(v) if len(v) > 1 else 0.0)


def expected(res, labels, k, d, b):
    """-> (delta or loss, spread, mark)."""
    v = stat(res[labels[k]], d, b)
    if k == 0:
        return (v[0], v[1], None) if v else None
    base = stat(res[labels[0]], d, b)
    if v is None or base is None:
        return None
    delta, s = v[0] - base[0], math.sqrt(v[1] ** 2 + base[1] ** 2)
    mark = ("worse" if delta > 0 else "better") if abs(delta) > 0.01 and abs(delta) > s else None
    return delta, s, mark


def check_table(page, res):
    labels = list(res)
    table = page.root.find("table", "loss")
    domains = [tr.attrs.get("data-domain") for tr in table.find("tbody").find_all("tr")]
    check(domains == [ODD, "Github", "Book", None], f"rows {domains}")
    heads = [th for th in table.find_all("th") if th.attrs.get("data-seeds")]
    want_seeds = [str(len(res[label])) for label in labels] * (len(BINS) + 1)
    check([th.attrs["data-seeds"] for th in heads] == want_seeds, "the header does not count each result's seeds")
    marks = {}
    for tr, d in zip(table.find("tbody").find_all("tr"), domains):
        tds = tr.find_all("td")[1:]
        i = 0
        for b in BINS + [None]:
            for k, label in enumerate(labels):
                td, i = tds[i], i + 1
                e = expected(res, labels, k, d, b)
                spread = td.find_all("small", "spread")
                if e is None:
                    check(norm(td.own_text()) == "\u2013" and not spread, f"({d}, {b}, {label}) should be empty")
                    continue
                main = norm(td.own_text()).split("\u00b1")[0].strip()
                want = f"{e[0]:.3f}" if k == 0 else f"{e[0]:+.3f}"
                check(main == want, f"({d}, {b}, {label}) shows {main!r}, expected {want!r}")
                check(len(spread) == 1 and norm(spread[0].text()) == f"\u00b1{e[1]:.3f}",
                      f"({d}, {b}, {label}) spread {[norm(s.text()) for s in spread]}, expected \u00b1{e[1]:.3f}")
                got = [m for m in ("worse", "better") if m in td.classes]
                check(got == ([e[2]] if e[2] else []), f"({d}, {b}, {label}) {want}: marked {got}, expected {e[2]}")
                if e[2]:
                    marks[(d, b, label)] = e[2]
                if len(res[label]) > 1:  # the tooltip lists every seed
                    check(td.attrs.get("title", "").count(",") >= len(res[label]) - 1, f"({d}, {b}, {label}) title")
    # The cases the inputs were built for.
    check(marks.get((ODD, "0-512", "per-source")) == "worse", "a delta beyond 0.01 and the spread is not marked")
    check(("Github", "0-512", "per-source") not in marks, "a delta within the seeds' spread is marked")
    check(marks.get(("Book", "4K+", "per-source")) == "better", "a better delta is not marked")
    check(page.root.find("p", "seeds-text"), "no explanation of the seeds' spread")
    for tr in page.root.find("table", "positions").find("tbody").find_all("tr"):
        rs = res[tr.attrs["data-label"]]
        for td, p in zip(tr.find_all("td")[1:], BUCKETS):
            v = [r["positions"][p]["loss"] for r in rs]
            sd = statistics.stdev(v) if len(v) > 1 else 0.0
            check(norm(td.own_text()) == f"{statistics.mean(v):.3f}\u00b1{sd:.3f}", f"position {p} of {tr.attrs['data-label']}")
    return marks


def check_curve(page, pts):
    svg = page.root.find("svg", "curve")
    lines = svg.find_all("polyline")
    series = [p.attrs.get("data-series") for p in lines]
    check(series == BUCKETS + ["all"], f"curve series {series}")
    for line, s in zip(lines, series):
        xy = [tuple(map(float, q.split(","))) for q in line.attrs["points"].split()]
        check(len(xy) == len(pts), f"series {s}: {len(xy)} points for {len(pts)} results")
        check(all(a[0] < b[0] for a, b in zip(xy, xy[1:])), f"series {s}: x does not grow with tokens")
        losses = [r["loss"] if s == "all" else r["positions"][s]["loss"] for r in pts.values()]
        for (_, y1), (_, y2), l1, l2 in zip(xy, xy[1:], losses, losses[1:]):
            check((y2 > y1) == (l2 < l1), f"series {s}: a falling loss is not drawn lower")
    rows = page.root.find("table", "curve").find("tbody").find_all("tr")
    check([int(r.attrs["data-tokens"]) for r in rows] == list(pts), "curve table rows are not the points in token order")
    for r, (t, res) in zip(rows, pts.items()):
        got = [norm(td.text()) for td in r.find_all("td")[2:]]
        want = [f"{res['positions'][p]['loss']:.3f}" for p in BUCKETS] + [f"{res['loss']:.3f}"]
        check(got == want, f"curve row {t}: {got}, expected {want}")


def check_text(path, res, marks, pts):
    text = open(path, encoding="utf-8").read()
    labels = list(res)
    lines = text.splitlines()
    check(any("seeds: original 3; per-source 3; global 3; pretrained only 1;" in ln for ln in lines), "seed counts")
    row = next(ln for ln in lines if ln.startswith(ODD) and " 0-512 " in ln)
    e = expected(res, labels, 1, ODD, "0-512")
    check(f"{e[0]:+.3f}+-{e[1]:.3f} *" in row, f"the text table's {ODD} 0-512 row lacks the marked delta: {row!r}")
    row = next(ln for ln in lines if ln.startswith("Github") and " 0-512 " in ln)
    check("*" not in row.split()[3], f"an unmarked delta has a * in the text table: {row!r}")
    n_star = text.count(" *")
    check(n_star == len(marks), f"the text table marks {n_star} cells, the page {len(marks)}")
    i = lines.index(next(ln for ln in lines if ln.startswith("Loss by position against")))
    for ln, (t, r) in zip(lines[i + 2:], pts.items()):
        check(ln.split() == [str(t)] + [f"{r['positions'][p]['loss']:.3f}" for p in BUCKETS] + [f"{r['loss']:.3f}"],
              f"curve line {ln!r}")


def main():
    if len(sys.argv) != 3:
        fail("usage: test_repro_report.py SOURCE_DIR BINARY_DIR")
    bin_dir = os.path.abspath(sys.argv[2])
    longctx = os.path.join(bin_dir, "longctx")
    check(os.access(longctx, os.X_OK), f"{longctx} is not built")
    keep = os.path.join(bin_dir, "report")
    os.makedirs(keep, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="longctx-repro-report-")
    try:
        res, pts = results(), curve()
        args = [longctx, "report"]
        for label, rs in res.items():
            files = []
            for i, r in enumerate(rs):
                files.append(os.path.join(tmp, f"loss-{label.replace(' ', '_')}-s{i + 1}.json"))
                json.dump(r, open(files[-1], "w"))
            args += ["--loss", f"{label}={','.join(files)}"]
        for t, r in reversed(list(pts.items())):  # given out of order: the page sorts by tokens
            p = os.path.join(tmp, f"curve-{t}.json")
            json.dump(r, open(p, "w"))
            args += ["--curve", f"{t}={p}"]
        report, table = os.path.join(keep, "repro_report.html"), os.path.join(keep, "repro_table5.txt")
        run(args + ["--title", "repro", "--table", table, "--out", report])
        page = parse(open(report, encoding="utf-8").read())
        marks = check_table(page, res)
        check_curve(page, pts)
        check_text(table, res, marks, pts)
        print(f"page: {len(res)} results, {sum(map(len, res.values()))} files, {len(marks)} marked; {len(pts)} curve points")

        first = os.path.join(tmp, "loss-original-s1.json")
        cases = [("a missing seed file", ["--loss", f"a={first},{tmp}/nope.json"], f"{tmp}/nope.json"),
                 ("an empty seed file name", ["--loss", f"a={first},,{first}"], "empty"),
                 ("two curve points at one token count", ["--curve", f"1K={first}", "--curve", f"1024={first}"], "1024 tokens"),
                 ("a curve point that is not a size", ["--curve", f"many={first}"], "--curve")]
        for what, a, needle in cases:
            out = os.path.join(tmp, "bad.html")
            p = subprocess.run([longctx, "report", *a, "--out", out], capture_output=True, text=True, timeout=60)
            err = p.stderr.strip()
            check(p.returncode == 1 and needle in err and len(err.splitlines()) == 1,
                  f"{what}: expected exit 1 and one line naming {needle!r}, got {p.returncode}: {err!r}")
            check(not os.path.exists(out), f"{what}: a page was written despite the error")

        png = os.path.join(keep, "repro_report.png")
        dom, shot = render(report, tmp, png, WINDOW)
        check(len(parse(dom).root.find("svg", "curve").find_all("polyline")) == len(BUCKETS) + 1, "Chromium lost curves")
        for name, rgb in (("worse", WORSE_BG), ("better", BETTER_BG)):
            check(near(shot, rgb, 2) >= 200, f"the {name} cells' background {rgb} is not on {png}")
        for c in ("#4e79a7", "#f28e2b", "#e15759"):  # the bucket lines
            rgb = tuple(int(c[i:i + 2], 16) for i in (1, 3, 5))
            check(near(shot, rgb, 12) >= 60, f"the curve colour {c} is not on {png}")
        print(f"screenshot {png}: {len(shot)} colours")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("repro_report: OK")


if __name__ == "__main__":
    main()
