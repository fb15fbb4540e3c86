#!/usr/bin/python3
"""What the report tests share: failing with a message, running a command, headless Chromium's
command line and a PNG decoder (standard library only) to look at its screenshots."""
import collections
import os
import shutil
import struct
import subprocess
import sys
import zlib


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        fail(f"{' '.join(cmd)} exited {p.returncode}\nstdout:\n{p.stdout[-3000:]}\nstderr:\n{p.stderr[-3000:]}")
    return p


def decode_png(path):
    """RGB(A) 8-bit, non-interlaced PNG (what Chromium writes) -> (width, height, bytes per pixel, rows)."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
        elif kind == b"IEND":
            break
    w, h, depth, ctype, _, _, interlace = ihdr
    if not (depth == 8 and ctype in (2, 6) and interlace == 0):
        raise ValueError(f"{path}: unexpected PNG format: depth {depth}, colour type {ctype}")
    bpp = 4 if ctype == 6 else 3
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 255
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, bpp, rows


def chromium_cmd(chromium, profile, window):
    return [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars",
            "--force-device-scale-factor=1", f"--user-data-dir={profile}", f"--window-size={window[0]},{window[1]}"]


def render(report, tmp, png, window):
    """Renders the page in headless Chromium twice: its DOM (returned as text) and a screenshot at
    png, which must have the window's size and not be blank. Returns (dom, colours), colours being
    a Counter of the screenshot's RGB pixels."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    check(chromium, "chromium is not installed: this test renders the report in headless Chromium "
                    "(scripts/setup.sh installs the Debian package chromium)")
    env = dict(os.environ, HOME=tmp, XDG_CONFIG_HOME=os.path.join(tmp, "xdg-config"), XDG_CACHE_HOME=os.path.join(tmp, "xdg-cache"))
    url = "file://" + os.path.abspath(report)
    dom = run(chromium_cmd(chromium, os.path.join(tmp, "profile-dom"), window) + ["--dump-dom", url], env=env, timeout=120).stdout
    if os.path.exists(png):
        os.remove(png)
    run(chromium_cmd(chromium, os.path.join(tmp, "profile-shot"), window) + [f"--screenshot={png}", url], env=env, timeout=120)
    check(os.path.exists(png), f"chromium wrote no screenshot to {png}")
    w, h, bpp, rows = decode_png(png)
    check((w, h) == tuple(window), f"screenshot is {w}x{h}, expected {window[0]}x{window[1]}")
    colours = collections.Counter()
    for line in rows:
        colours.update(zip(line[0::bpp], line[1::bpp], line[2::bpp]))
    background, bg_pixels = colours.most_common(1)[0]
    check(len(colours) >= 100, f"the screenshot looks blank: {len(colours)} distinct colours")
    check(bg_pixels < 0.9 * w * h, f"the screenshot is {100 * bg_pixels / (w * h):.0f}% one colour {background}")
    return dom, colours


def near(colours, rgb, tol=3):
    """Pixels of the screenshot within tol of rgb in every channel."""
    return sum(n for c, n in colours.items() if all(abs(x - y) <= tol for x, y in zip(c, rgb)))
