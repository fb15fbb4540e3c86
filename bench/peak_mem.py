#!/usr/bin/python3
"""Runs a command and samples its whole process tree (mpirun's ranks too) every 20 ms from /proc:
peak anonymous memory (the sum of RssAnon over the tree: what the processes allocated) and peak
file-backed resident memory (RssFile: memory-mapped inputs and outputs, page cache the kernel can
drop). /usr/bin/time's "maximum resident set size" adds the two for one process, which for tools
that memory-map gigabytes says little about what they need.

usage: peak_mem.py JSON_OUT COMMAND...   writes {"seconds", "anon_bytes", "file_bytes", "rc"}; exits with COMMAND's status
   or, imported: peak(cmd, interval, whole_tree) (bench/mix_memory.py, tests/store/test_memory_per_doc.py)
"""
import json
import os
import subprocess
import sys
import time


def tree(root):
    """root and its descendants, from /proc/*/stat parent links."""
    children = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(p))
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def rss(pid):
    anon = file_ = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    anon = int(line.split()[1]) * 1024
                elif line.startswith("RssFile:"):
                    file_ = int(line.split()[1]) * 1024
    except OSError:
        pass
    return anon, file_


def peak(cmd, interval=0.02, whole_tree=True, **popen):
    """Runs cmd (popen: subprocess.Popen's keywords) sampling every `interval` seconds; returns
    {"seconds", "anon_bytes", "file_bytes", "rc", "proc"}. whole_tree=False samples the process alone
    (its threads share its figures), which is cheaper and so can sample more often."""
    t0 = time.time()
    proc = subprocess.Popen(cmd, **popen)
    peak_anon = peak_file = 0
    while proc.poll() is None:
        a = f = 0
        for p in tree(proc.pid) if whole_tree else [proc.pid]:
            x, y = rss(p)
            a, f = a + x, f + y
        peak_anon, peak_file = max(peak_anon, a), max(peak_file, f)
        time.sleep(interval)
    return {"seconds": time.time() - t0, "anon_bytes": peak_anon, "file_bytes": peak_file, "rc": proc.returncode, "proc": proc}


if __name__ == "__main__":
    out_path, cmd = sys.argv[1], sys.argv[2:]
    r = peak(cmd)
    r.pop("proc")
    with open(out_path, "w") as f:
        json.dump(r, f)
    sys.exit(r["rc"])
