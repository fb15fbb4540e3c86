#!/usr/bin/python3
"""`longctx tokenize` / `decode` as a user meets them: output independent of the thread count,
one clear line and a non-zero exit for every kind of bad input, nothing half-written left behind.

usage: test_tokenize_cli.py ROOT BUILD   (BUILD/oracle/corpus.jsonl comes from the corpus fixture)
"""
import json
import os
import re
import stat
import subprocess
import sys
import tempfile

ROOT, BUILD = sys.argv[1:3]
LONGCTX = os.path.join(BUILD, "longctx")
TOK = {n: os.path.join(ROOT, "data/tokenizers", n, "tokenizer.json") for n in ("llama2", "mistral", "llama3")}
CORPUS = os.path.join(BUILD, "oracle", "corpus.jsonl")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklist import check, failures  # noqa: E402


def run(*args, stdin=None):
    return subprocess.run([LONGCTX, *args], input=stdin, capture_output=True)




def expect_error(name, args, message, stdin=None, rc=1):
    r = run(*args, stdin=stdin)
    err = r.stderr.decode()
    one_line = err.count("\n") == 1 and err.endswith("\n")
    check(name, r.returncode == rc and one_line and message in err and not r.stdout,
          f"rc={r.returncode} stderr={err!r} stdout={r.stdout[:80]!r}")


with tempfile.TemporaryDirectory() as tmp:
    # Same bytes whatever the thread count, from a file or from standard input.
    for name in ("llama2", "llama3"):
        outs = {}
        for threads in (1, 2, 3, 7):
            r = run("tokenize", "-q", "--threads", str(threads), "--tokenizer", TOK[name], CORPUS)
            outs[threads] = r.stdout
            check(f"{name} --threads {threads} exits 0", r.returncode == 0, r.stderr.decode())
        check(f"{name} output identical for 1, 2, 3, 7 threads", len(set(outs.values())) == 1)
        with open(CORPUS, "rb") as f:
            r = run("tokenize", "-q", "--threads", "2", "--tokenizer", TOK[name], "-", stdin=f.read())
        check(f"{name} stdin gives the file's output", r.stdout == outs[1])
        lines = outs[1].decode().splitlines()
        with open(CORPUS, encoding="utf-8") as f:
            n_in = sum(1 for _ in f)
        check(f"{name} one array per input line", len(lines) == n_in and all(l.startswith("[") for l in lines))

    # decode(tokenize(text)) == text for a byte-level tokenizer (special strings kept as text).
    sample = os.path.join(tmp, "sample.jsonl")
    texts = ["Hello, world!", "  spaces\tand\nnewlines\r\n", "中文 \U0001F999 é", "<|begin_of_text|> stays text"]
    with open(sample, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t}) + "\n")
    ids = run("tokenize", "-q", "--tokenizer", TOK["llama3"], sample).stdout
    back = run("decode", "--tokenizer", TOK["llama3"], "-", stdin=ids).stdout.decode().splitlines()
    check("llama3 decode(tokenize(x)) == x", [json.loads(l)["text"] for l in back] == texts, repr(back))
    ids = run("tokenize", "-q", "--parse-special", "--tokenizer", TOK["llama3"], sample).stdout.decode().splitlines()
    check("--parse-special maps <|begin_of_text|> to 128000", json.loads(ids[3])[0] == 128000, ids[3])
    ids = run("tokenize", "-q", "--tokenizer", TOK["llama3"], sample).stdout.decode().splitlines()
    check("special strings are plain text by default", 128000 not in json.loads(ids[3]), ids[3])
    ids = run("tokenize", "-q", "--no-bos", "--tokenizer", TOK["llama2"], sample).stdout.decode().splitlines()
    check("--no-bos drops <s>", json.loads(ids[0])[0] != 1, ids[0])
    r = run("tokenize", "-q", "--no-bos", "--tokenizer", TOK["llama2"], "-", stdin=b'{"text": ""}\n{"text": ""}\n')
    check("an empty result is written as []", r.stdout == b"[]\n[]\n", repr(r.stdout))

    # Compressed corpora: zstd (one frame, and several frames back to back as SlimPajama's
    # shards have) and gzip (one member, and several), detected by magic bytes, same output.
    plain = run("tokenize", "-q", "--tokenizer", TOK["llama2"], CORPUS).stdout
    half = os.path.join(tmp, "half")
    with open(CORPUS, "rb") as f:
        lines = f.read().splitlines(keepends=True)
    parts = [b"".join(lines[: len(lines) // 2]), b"".join(lines[len(lines) // 2:])]
    for tool, ext in (("zstd", "zst"), ("gzip", "gz")):
        whole = subprocess.run([tool, "-c", CORPUS], capture_output=True, check=True).stdout
        multi = b"".join(subprocess.run([tool, "-c"], input=p, capture_output=True, check=True).stdout for p in parts)
        for label, data in (("one " + ("frame" if tool == "zstd" else "member"), whole), ("several", multi)):
            path = os.path.join(tmp, f"corpus.{ext}")
            with open(path, "wb") as f:
                f.write(data)
            r = run("tokenize", "-q", "--threads", "2", "--tokenizer", TOK["llama2"], path)
            check(f"{tool}, {label}: same ids as the plain file", r.returncode == 0 and r.stdout == plain, r.stderr.decode())
        cut = os.path.join(tmp, f"cut.{ext}")
        with open(cut, "wb") as f:
            f.write(whole[: len(whole) // 2])
        expect_error(f"{tool}: truncated file", ["tokenize", "-q", "--tokenizer", TOK["llama2"], cut],
                     f"longctx: {cut}: truncated {tool} data")
        bad_bytes = bytearray(whole)
        for k in range(len(bad_bytes) // 3, len(bad_bytes) // 3 + 64):
            bad_bytes[k] ^= 0x5A
        with open(cut, "wb") as f:
            f.write(bad_bytes)
        # Damage is found by the decompressor, or (zstd checks its checksum only at the end of a
        # frame) as a line that is no longer JSON; either way one line, exit 1, no output file.
        out_file = os.path.join(tmp, "corrupt.ids")
        r = run("tokenize", "-q", "--tokenizer", TOK["llama2"], "--out", out_file, cut)
        err = r.stderr.decode()
        check(f"{tool}: corrupt file", r.returncode == 1 and err.count("\n") == 1 and not os.path.exists(out_file)
              and (f"longctx: {cut}: corrupt {tool} data" in err or
                   re.match(rf"longctx: {re.escape(cut)}:\d+: expected a JSON object", err) is not None), err)
        os.remove(cut)
        os.remove(os.path.join(tmp, f"corpus.{ext}"))

    # Lines longer than the pipeline's blocks (256 KB) among short ones.
    longlines = os.path.join(tmp, "long.jsonl")
    with open(longlines, "w", encoding="utf-8") as f:
        for i in range(5):
            f.write(json.dumps({"text": "short line %d" % i}) + "\n")
            f.write(json.dumps({"text": ("word%d" % i) * 150000}) + "\n")
    outs = [run("tokenize", "-q", "--threads", str(n), "--tokenizer", TOK["llama3"], longlines).stdout for n in (1, 2)]
    check("lines longer than a block", outs[0] == outs[1] and outs[0].count(b"\n") == 10, str(outs[0][:40]))
    os.remove(longlines)

    # Bad input: one line naming what is wrong and where, exit 1, no output.
    bad = os.path.join(tmp, "bad.jsonl")
    with open(bad, "w") as f:
        f.write('{"text": "fine"}\n{"text": "fine"}\n{"text": "broken\n')
    expect_error("malformed JSONL line", ["tokenize", "--tokenizer", TOK["llama2"], bad],
                 f"longctx: {bad}:3: expected a JSON object, found invalid JSON")
    with open(bad, "w") as f:
        f.write('{"text": "fine"}\n{"text": 42}\n')
    expect_error("text not a string", ["tokenize", "--tokenizer", TOK["llama2"], bad],
                 f'longctx: {bad}:2: expected "text" to be a string, found a number')
    with open(bad, "w") as f:
        f.write('{"body": "x"}\n')
    expect_error("no text field", ["tokenize", "--tokenizer", TOK["llama2"], bad],
                 f'longctx: {bad}:1: expected a "text" field, found none')
    with open(bad, "w") as f:
        f.write('["x"]\n')
    expect_error("not an object", ["tokenize", "--tokenizer", TOK["llama2"], bad],
                 f"longctx: {bad}:1: expected a JSON object, found an array")
    with open(bad, "w") as f:
        f.write('{"text": "a"}\n\n{"text": "b"}\n')
    expect_error("empty line", ["tokenize", "--tokenizer", TOK["llama2"], bad],
                 f"longctx: {bad}:2: expected a JSON object, found an empty line")
    expect_error("missing input", ["tokenize", "--tokenizer", TOK["llama2"], "/nonexistent.jsonl"],
                 "longctx: /nonexistent.jsonl: cannot open: No such file or directory")
    expect_error("missing tokenizer", ["tokenize", "--tokenizer", "/nonexistent.json", bad],
                 "longctx: /nonexistent.json: cannot read: No such file or directory")
    broken_tok = os.path.join(tmp, "tokenizer.json")
    with open(broken_tok, "w") as f:
        f.write('{"model": {"type": "BPE", "vocab": {}, ')
    expect_error("malformed tokenizer.json", ["tokenize", "--tokenizer", broken_tok, bad],
                 f"longctx: {broken_tok}: not valid JSON")
    with open(broken_tok, "w") as f:
        json.dump({"model": {"type": "WordPiece", "vocab": {}}}, f)
    expect_error("unsupported model", ["tokenize", "--tokenizer", broken_tok, bad],
                 f'longctx: {broken_tok}: model: type "WordPiece" is not supported')
    # The newer pipeline parts: a regex Oniguruma refuses, an unsupported normalizer, both named
    # with the file and the part (the llama3 file with one part replaced).
    with open(TOK["llama3"], encoding="utf-8") as f:
        llama3 = json.load(f)
    llama3["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(ab|c"
    with open(broken_tok, "w", encoding="utf-8") as f:
        json.dump(llama3, f)
    expect_error("regex Oniguruma cannot compile", ["tokenize", "--tokenizer", broken_tok, bad],
                 f"longctx: {broken_tok}: pre_tokenizer.pretokenizers[0].pattern: cannot compile regex: end pattern with unmatched parenthesis")
    llama3["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\p{L}+"
    llama3["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "BertNormalizer"}]}
    with open(broken_tok, "w", encoding="utf-8") as f:
        json.dump(llama3, f)
    expect_error("unsupported normalizer", ["tokenize", "--tokenizer", broken_tok, bad],
                 f'longctx: {broken_tok}: normalizer.normalizers[1]: type "BertNormalizer" is not supported')
    llama3["normalizer"] = None
    llama3["pre_tokenizer"]["pretokenizers"].insert(0, {"type": "UnicodeScripts"})
    with open(broken_tok, "w", encoding="utf-8") as f:
        json.dump(llama3, f)
    expect_error("unsupported pre-tokenizer", ["tokenize", "--tokenizer", broken_tok, bad],
                 f'longctx: {broken_tok}: pre_tokenizer.pretokenizers[0]: type "UnicodeScripts" is not supported')
    with open(bad, "w") as f:
        f.write("[1, 2, -3]\n")
    expect_error("decode: negative id", ["decode", "--tokenizer", TOK["llama2"], bad],
                 f"longctx: {bad}:1: element 2: expected a non-negative integer token id")
    with open(bad, "w") as f:
        f.write("[1, 2]\n[99999999]\n")
    expect_error("decode: id outside the vocabulary", ["decode", "--tokenizer", TOK["llama2"], bad],
                 f"longctx: {bad}:2: token id 99999999 is not in the vocabulary")
    # --skip-unknown: Hugging Face's decode leaves ids it lacks out (tests/oracle/hf.mjs); so do we.
    with open(bad, "w") as f:
        f.write("[1, 450, 40000, 1900, 3114]\n[99999999, 29871, 13]\n[32000]\n")
    hf_out = os.path.join(tmp, "hf.out")
    hf = subprocess.run(["node", os.path.join(ROOT, "tests/oracle/hf.mjs"), "decode", TOK["llama2"], bad, hf_out], capture_output=True, text=True)
    r = subprocess.run([LONGCTX, "decode", "--tokenizer", TOK["llama2"], "--skip-unknown", bad], capture_output=True, text=True)
    check("decode --skip-unknown: Hugging Face's text for ids outside the vocabulary (left out)",
          hf.returncode == 0 and r.returncode == 0 and r.stdout == open(hf_out).read() and '"<s> The best style"' in r.stdout,
          (hf.stderr, r.stdout, r.stderr))
    os.remove(hf_out)
    expect_error("unknown flag", ["tokenize", "--tokenizer", TOK["llama2"], "--frobnicate", bad], "--frobnicate", rc=2)

    # An error deep in a large input, with several threads: the right line, and --out untouched.
    big = os.path.join(tmp, "big.jsonl")
    with open(big, "w") as f:
        for i in range(1, 120001):
            f.write('{"text": 7}\n' if i == 100000 else json.dumps({"text": f"line {i} of a large file"}) + "\n")
    out = os.path.join(tmp, "out.ids")
    with open(out, "w") as f:
        f.write("previous contents\n")
    expect_error("error at line 100000 with 2 threads", ["tokenize", "--threads", "2", "--tokenizer", TOK["llama3"],
                                                          "--out", out, big],
                 f'longctx: {big}:100000: expected "text" to be a string, found a number')
    with open(out) as f:
        check("--out left as it was after an error", f.read() == "previous contents\n")
    # (The compiled-tokenizer cache beside a tokenizer.json is meant to stay.)
    left = sorted(n for n in os.listdir(tmp) if not n.endswith(".longctx-cache"))
    check("no temporary file left behind", left == ["bad.jsonl", "big.jsonl", "out.ids", "sample.jsonl", "tokenizer.json"],
          str(os.listdir(tmp)))
    r = run("tokenize", "-q", "--threads", "2", "--tokenizer", TOK["llama3"], "--out", out, sample)
    check("--out written on success", r.returncode == 0 and open(out).read().count("\n") == len(texts))
    # A device or FIFO as --out is written in place, never renamed over (regression: the
    # temporary-then-rename write once replaced /dev/null with a regular file).
    fifo = os.path.join(tmp, "fifo")
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", fifo], stdout=subprocess.PIPE)
    r = run("tokenize", "-q", "--tokenizer", TOK["llama3"], "--out", fifo, sample)
    got = reader.communicate(timeout=60)[0]
    check("--out FIFO is written in place", r.returncode == 0 and got.count(b"\n") == len(texts)
          and stat.S_ISFIFO(os.stat(fifo).st_mode), f"rc={r.returncode} got={got[:60]!r}")
    os.remove(fifo)
    r = run("tokenize", "--help")
    check("--help lists the options", r.returncode == 0 and b"--parse-special" in r.stdout and b"--threads" in r.stdout)

print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
