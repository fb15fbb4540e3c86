#!/usr/bin/python3
"""The pre-tokenizer scanners (src/tokenizer/split_patterns.*) against Hugging Face tokenizers'
own pre-tokenizers (tests/oracle/hf_pretokenize.mjs) on generated Unicode-heavy strings.

usage: check_split_patterns.py ROOT BUILD [--n N] [--seed S]
For each pattern (llama3, qwen2, gpt2, o200k, deepseek-v3) N strings (default 20000) are cut by HF,
by our scanner (BUILD/tests/split_cli) and by our general Oniguruma path (split_cli --general);
every difference from HF fails the test. Then, for each tokenizer.json in ROOT/data/tokenizers that
has one of these pre-tokenizers (gpt4o, gptoss, deepseek_v3, cl100k, llama3, llama3_1, qwen3 as
setup installs them), its Split regexes must be recognised as that scanner, and HF running the
file's own pre_tokenizer (some spell a full-coverage regex as behaviour Removed with invert: the
same pieces) must cut the strings as our scanner does. The strings mix runs of characters from sets chosen to
reach every branch of the patterns: letter cases (Lu Ll Lt Lm Lo), marks (Mn Mc Me), numbers
(Nd Nl No), contractions in both cases and with U+017F, white space of every kind, CJK / kana (in
and just outside DeepSeek-V3's ranges), Hangul, emoji with ZWJ and variation selectors, format,
control, private-use and unassigned characters.
"""
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklist import check, failures  # noqa: E402

PATTERNS = ["llama3", "qwen2", "gpt2", "o200k", "deepseek-v3"]
FILES = {"gpt4o": "o200k", "gptoss": "o200k", "deepseek_v3": "deepseek-v3", "cl100k": "llama3", "llama3": "llama3",
         "llama3_1": "llama3", "qwen3": "qwen2"}


def chars(spec):
    return [chr(c) for c in spec] if not isinstance(spec, str) else list(spec)


SETS = {
    "lower": chars("abcdefghijklmnopqrstuvwxyz"),
    "upper": chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    "digit": chars("0123456789"),
    "punct": chars("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "apos": ["'"],
    "suffix": ["s", "t", "re", "ve", "m", "ll", "d", "S", "T", "RE", "Re", "rE", "VE", "M", "LL", "lL", "D",
               "\u017f", "K", "\u212a", "x", "\ufb05", "\ufb06", "\u00df", "\u0130", "\u0131"],
    "space": [" ", " ", " ", "\t", "\n", "\r", "\r\n", "\x0b", "\x0c", "\x85", "\xa0", "\u1680", "\u2000",
              "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"],
    "Lu": chars("\u00c9\u03a3\u0416\uff21\u0130\u1e9e\U0001d400"),
    "Ll": chars("\u00e9\u03c3\u0436\u00df\uff41\u0131\u1d00\U0001d41a"),
    "Lt": chars("\u01c5\u01c8\u1f88\u1ffc"),
    "Lm": chars("\u02b0\u02c6\u30fc\u3005\u309d\uff9e\u1d2c\u0640"),
    "Lo": chars("\u00aa\u05d0\u0e01\u0627\u4e00\u3042\uac00\u30ff\u01bb\U00020000"),
    "Mn": chars("\u0301\u0308\u3099\u309a\ufe0f\u064b\u05b4\u0300"),
    "Mc": chars("\u093f\u0903\u0bbe"),
    "Me": chars("\u20dd\u0488"),
    "Nd": chars("\u0663\uff10\u0967\U0001d7ce"),
    "Nl": chars("\u216b\u3007\u2160"),
    "No": chars("\u00b2\u00bd\u2460\u0f2a"),
    "cjk": [chr(c) for c in (0x4E00, 0x4E2D, 0x6587, 0x8A9E, 0x9FA5, 0x9FA6, 0x9FFF, 0x3400, 0xF900, 0x3006)],
    "kana": [chr(c) for c in (0x3040, 0x3041, 0x3042, 0x3093, 0x3096, 0x3097, 0x3099, 0x309B, 0x309C, 0x309D,
                              0x309F, 0x30A0, 0x30A1, 0x30AB, 0x30FB, 0x30FC, 0x30FF, 0x3001, 0x3002, 0x31F0,
                              0xFF71)],
    "hangul": [chr(c) for c in (0xAC00, 0xD55C, 0xAE00, 0x1100, 0x1161, 0x11A8, 0x3131)],
    "emoji": ["\U0001f600", "\U0001f468\u200d\U0001f469\u200d\U0001f467", "\U0001f1fa\U0001f1f8", "\u2764\ufe0f",
              "\U0001f44d\U0001f3fb", "\u00a9", "\u20ac", "\u2211", "\u00b4"],
    "otherp": chars("\u00ab\u00bb\u201c\u201d\u00bf\u2014\u3010\u00b7\u055a\uff01"),
    "format": chars("\u200b\u200d\ufeff\u00ad\u2060\u0600"),
    "control": chars("\x01\x1c\x1f\x7f\x80\x9f"),
    "private": chars("\ue000\U000f0000"),
    "unassigned": chars("\u0378\u0e5c\U000e01f0\U0010ffff"),
    "slash": ["/", "/", "\\"],
}
WEIGHTS = {"lower": 8, "upper": 5, "digit": 4, "punct": 4, "apos": 3, "suffix": 3, "space": 8, "Lu": 2, "Ll": 2,
           "Lt": 1, "Lm": 2, "Lo": 2, "Mn": 3, "Mc": 1, "Me": 1, "Nd": 1, "Nl": 1, "No": 1, "cjk": 3, "kana": 3,
           "hangul": 1, "emoji": 2, "otherp": 1, "format": 1, "control": 1, "private": 1, "unassigned": 1, "slash": 2}
WORDS = ["Hello", "world", "HelloWorld", "McDONALD's", "ABCdef", "iPhone", "I'M", "you'RE", "we'LL", "they've",
         "o'clock", "DON'T", "don\u2019t", "caf\u00e9", "cafe\u0301", "NA\u00cfVE", "\u01c5ungla", "\u00c9cole",
         "x86_64", "a/b\n/", "http://x.org/a/b", "1234567", "3.14159", "\u4e2d\u6587", "\u3072\u3089\u304c\u306a",
         "\u30ab\u30bf\u30ab\u30ca", "\ud55c\uad6d\uc5b4", "\u0928\u092e\u0938\u094d\u0924\u0947",
         "\u0645\u0631\u062d\u0628\u0627", "\u041f\u0440\u0438\u0432\u0435\u0442"]


def gen(rng, n):
    names = list(WEIGHTS)
    weights = [WEIGHTS[k] for k in names]
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 24)):
            r = rng.random()
            if r < 0.15:
                parts.append(rng.choice(WORDS))
            else:
                pool = SETS[rng.choices(names, weights)[0]]
                # Runs of one set (digit runs longer than 3, space runs, upper runs) as well as
                # single characters.
                k = rng.choice([1, 1, 1, 2, 3, 4, 7])
                parts.append("".join(rng.choice(pool) for _ in range(k)))
        out.append("".join(parts))
    return out


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f]


def main():
    root, build = sys.argv[1:3]
    n = int(sys.argv[sys.argv.index("--n") + 1]) if "--n" in sys.argv else 20000
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 1
    work = os.path.join(build, "oracle", "split_patterns")
    os.makedirs(work, exist_ok=True)
    texts = gen(random.Random(seed), n)
    inp = os.path.join(work, "in.jsonl")
    with open(inp, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps(t) + "\n")
    cli = os.path.join(build, "tests", "split_cli")
    for name in PATTERNS:
        ref_path, ours_path, gen_path = (os.path.join(work, f"{w}.{name}.jsonl") for w in ("hf", "ours", "general"))
        subprocess.run(["node", os.path.join(root, "tests/oracle/hf_pretokenize.mjs"), name, inp, ref_path],
                       check=True, cwd=root)
        with open(inp, "rb") as src, open(ours_path, "wb") as dst:
            subprocess.run([cli, name], stdin=src, stdout=dst, check=True)
        with open(inp, "rb") as src, open(gen_path, "wb") as dst:
            subprocess.run([cli, name, "--general"], stdin=src, stdout=dst, check=True)
        ref = read_lines(ref_path)
        for label, path in (("scanner", ours_path), ("general regex path", gen_path)):
            got = read_lines(path)
            bad = [i for i in range(len(texts)) if i >= len(got) or got[i] != ref[i]]
            detail = ""
            if bad:
                i = bad[0]
                detail = (f"{len(bad)} of {len(texts)} differ; first: input {texts[i]!r}\n"
                          f"  ours {got[i] if i < len(got) else None!r}\n  HF   {ref[i]!r}")
            check(f"{name} {label}: {len(texts)} strings, same pieces as HF", len(got) == len(ref) and not bad, detail)

    for base, name in FILES.items():
        tok = os.path.join(root, "data/tokenizers", base, "tokenizer.json")
        if not os.path.exists(tok):
            print(f"skip: {tok} (not installed)")
            continue
        with open(tok, encoding="utf-8") as f:
            pt = json.load(f)["pre_tokenizer"]
        steps = pt["pretokenizers"] if pt["type"] == "Sequence" else [pt]
        regexes = [p["pattern"]["Regex"] for p in steps if p["type"] == "Split"]
        r = subprocess.run([cli, "--recognise"], input=json.dumps(regexes) + "\n", capture_output=True, text=True,
                           check=True)
        check(f"{base}: its Split regexes are recognised as {name}", r.stdout.strip() == name, r.stdout)
        ref_path = os.path.join(work, f"hf.file-{base}.jsonl")
        subprocess.run(["node", os.path.join(root, "tests/oracle/hf_pretokenize.mjs"), f"file:{tok}", inp, ref_path],
                       check=True, cwd=root)
        ref, got = read_lines(ref_path), read_lines(os.path.join(work, f"ours.{name}.jsonl"))
        bad = [i for i in range(len(texts)) if got[i] != ref[i]]
        detail = f"{len(bad)} differ; first: input {texts[bad[0]]!r}\n  ours {got[bad[0]]!r}\n  HF   {ref[bad[0]]!r}" if bad else ""
        check(f"{base}: HF with the file's own pre_tokenizer cuts {len(texts)} strings as the {name} scanner", not bad,
              detail)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
