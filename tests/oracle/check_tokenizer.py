#!/usr/bin/python3
"""Byte-exactness check of `longctx tokenize` / `longctx decode` against Hugging Face tokenizers.

usage: check_tokenizer.py ROOT BUILD NAME
  NAME: a folder of data/tokenizers (llama2, mistral, llama3, llama3_1, qwen3, gemma3, deepseek_v3,
  gpt4o, gptoss, cl100k), or a variant (see VARIANTS) built from one of them to cover a
  pipeline form the three files do not use (Metaspace, GPT-2 and Qwen2 regexes, prefix space,
  lstrip/rstrip/single_word added tokens).
For each mode (special tokens as plain text, the default; --parse-special; --no-bos) the test
corpus is encoded by both and compared line by line; our ids are then decoded by both (with and
without --skip-special), and so are random id sequences. Any difference fails the test.
"""
import json
import os
import random
import subprocess
import sys

from compare_ids import read_jsonl

META = "\u2581"
METASPACE_FIRST = {"type": "Metaspace", "replacement": META, "prepend_scheme": "first", "split": False}
METASPACE_SPLIT = {"type": "Metaspace", "replacement": META, "prepend_scheme": "always", "split": True}
QWEN2_REGEX = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
               "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")


def extra_added(t):
    """Turns three reserved added tokens into ones with lstrip / single_word / rstrip. (HF assigns
    added-token ids itself on load, so a consistent file reuses existing slots.)"""
    base = {"single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": False}
    slots = [a for a in t["added_tokens"] if "reserved" in a["content"]]
    if not slots:  # LLaMA-2 has none to reuse: append after the vocabulary, as HF numbers them
        n = max(t["model"]["vocab"].values()) + 1
        slots = [dict(base, id=n + i, content="") for i in range(3)]
        t["added_tokens"] += slots
    slots[0].update(dict(base, content="<mask>", lstrip=True))
    slots[1].update(dict(base, content="wordzz", single_word=True))
    slots[2].update(dict(base, content="[SEP]", rstrip=True, special=True))


def split(pattern, behavior, invert=False, literal=False):
    return {"type": "Split", "pattern": {"String" if literal else "Regex": pattern}, "behavior": behavior, "invert": invert}


def byte_level(prefix=False, regex=False):
    return {"type": "ByteLevel", "add_prefix_space": prefix, "trim_offsets": True, "use_regex": regex}


def seq(kind, *items):
    key = {"normalizers": "normalizers", "pretokenizers": "pretokenizers"}[kind]
    return {"type": "Sequence", key: list(items)}


def set_pipeline(normalizer=None, pre=None):
    def edit(t):
        if normalizer is not None:
            t["normalizer"] = normalizer
        if pre is not None:
            t["pre_tokenizer"] = pre
    return edit


def normalized_added(t):
    """Lowercase normalizer, and Qwen's non-special added tokens matched as normalized tokens."""
    t["normalizer"] = seq("normalizers", {"type": "NFC"}, {"type": "Lowercase"})
    for a in t["added_tokens"]:
        if not a["special"]:
            a["normalized"] = True


def roberta(t):
    t["post_processor"] = {"type": "RobertaProcessing", "sep": ["<|end_of_text|>", 128001],
                           "cls": ["<|begin_of_text|>", 128000], "trim_offsets": True, "add_prefix_space": False}


# Pipelines only the general path runs (tokenizer_json.cpp falls back to it for any shape that no
# fast path reproduces): every normalizer, split behaviour, invert, the char-class pre-tokenizers,
# ByteLevel's prefix space per piece, Metaspace after other steps, normalized added tokens.
GENERAL = {
    "qwen3-nfkc-lower-strip": set_pipeline(
        normalizer=seq("normalizers", {"type": "NFKC"}, {"type": "Lowercase"}, {"type": "Strip", "strip_left": True, "strip_right": True})),
    "qwen3-nfd-accents": set_pipeline(normalizer=seq("normalizers", {"type": "NFD"}, {"type": "StripAccents"})),
    "qwen3-nfkd-replace": set_pipeline(normalizer=seq("normalizers", {"type": "NFKD"},
                                                      {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "})),
    "qwen3-normalized-added": normalized_added,
    "llama3_1-behaviours": set_pipeline(pre=seq(
        "pretokenizers", split("\\s+", "MergedWithPrevious"), split("[0-9]", "Contiguous"),
        split("e", "MergedWithNext", literal=True), split("(?=[A-Z])", "Isolated"), split("\\p{P}+", "Removed"),
        byte_level(prefix=True, regex=True))),
    "llama3_1-invert": set_pipeline(pre=seq(
        "pretokenizers", split("\\p{L}+", "Removed", invert=True), split("\\p{Lu}", "Contiguous", invert=True),
        split("[aeiou]", "MergedWithPrevious", invert=True), byte_level())),
    "llama3_1-charclasses": set_pipeline(pre=seq(
        "pretokenizers", {"type": "Punctuation", "behavior": "Contiguous"}, {"type": "Digits", "individual_digits": True},
        {"type": "WhitespaceSplit"}, byte_level(prefix=True))),
    "llama3_1-whitespace": set_pipeline(pre=seq("pretokenizers", {"type": "Whitespace"}, {"type": "Digits", "individual_digits": False}, byte_level())),
    "llama3_1-roberta": roberta,
    "mistral-digits-metaspace": set_pipeline(
        normalizer=seq("normalizers", {"type": "NFC"}, {"type": "Replace", "pattern": {"Regex": "\\t+"}, "content": " "}),
        pre=seq("pretokenizers", {"type": "Digits", "individual_digits": True},
                {"type": "Metaspace", "replacement": META, "prepend_scheme": "first", "split": True})),
}


def variant(name, t):
    """Edits tokenizer.json dict t in place into variant `name`."""
    if name == "llama3-gpt2":
        t["pre_tokenizer"] = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    elif name == "llama3-qwen2":
        t["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = QWEN2_REGEX
    elif name == "llama3-prefix-space":
        t["pre_tokenizer"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}
    elif name == "llama3-added":
        extra_added(t)
    elif name == "mistral-metaspace-first":
        t["normalizer"] = None
        t["pre_tokenizer"] = METASPACE_FIRST
        t["decoder"] = METASPACE_FIRST
    elif name == "mistral-metaspace-split":
        t["normalizer"] = None
        t["pre_tokenizer"] = METASPACE_SPLIT
        t["decoder"] = METASPACE_SPLIT
    elif name == "llama2-legacy-metaspace":
        legacy = {"type": "Metaspace", "replacement": META, "add_prefix_space": True}
        t["normalizer"] = None
        t["pre_tokenizer"] = legacy
        t["decoder"] = legacy
    elif name == "llama2-added":
        extra_added(t)
    elif name in GENERAL:
        GENERAL[name](t)
    else:
        raise SystemExit(f"unknown variant {name}")


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"command failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
    return r


def compare_texts(ours, ref, label):
    a, b = read_jsonl(ours, "text"), read_jsonl(ref, "text")
    bad = [i for i in range(min(len(a), len(b))) if a[i] != b[i]]
    if len(a) != len(b):
        print(f"{label}: line counts differ: ours {len(a)}, reference {len(b)}")
        return False
    for i in bad[:5]:
        k = next((j for j in range(min(len(a[i]), len(b[i]))) if a[i][j] != b[i][j]), 0)
        print(f"{label}: line {i + 1} differs at char {k}: ours {a[i][k:k + 30]!r} ref {b[i][k:k + 30]!r}")
    print(f"{label}: {len(b)} lines, {len(bad)} mismatching lines")
    return not bad


def main():
    root, build, name = sys.argv[1:4]
    work = os.path.join(build, "oracle", name)
    os.makedirs(work, exist_ok=True)
    corpus = os.path.join(build, "oracle", "corpus.jsonl")
    if not os.path.exists(corpus):
        run(["/usr/bin/python3", os.path.join(root, "tests/oracle/make_corpus.py"), root, corpus])
    base = name.split("-")[0]
    tok = os.path.join(root, "data/tokenizers", base, "tokenizer.json")
    if name != base:
        with open(tok, encoding="utf-8") as f:
            t = json.load(f)
        variant(name, t)
        tok = os.path.join(work, "tokenizer.json")
        with open(tok, "w", encoding="utf-8") as f:
            json.dump(t, f, ensure_ascii=False)
    longctx = os.path.join(build, "longctx")
    hf = ["node", os.path.join(root, "tests/oracle/hf.mjs")]
    compare = ["/usr/bin/python3", os.path.join(root, "tests/oracle/compare_ids.py")]
    ok = True
    modes = [("plain", [], ["--plain-special"]), ("parse-special", ["--parse-special"], []),
             ("no-bos", ["--no-bos"], ["--plain-special", "--no-special"])]
    # Pipeline variants: the added-token modes and decoding (the base file's decoder) are covered
    # by the real files; what differs is how text becomes ids.
    pipeline_only = name in GENERAL and name != "qwen3-normalized-added"
    if pipeline_only:
        modes = modes[:1]
    for mode, ours_flags, hf_flags in modes:
        ours = os.path.join(work, f"ours.{mode}.ids")
        ref = os.path.join(work, f"hf.{mode}.ids")
        run([longctx, "tokenize", "-q", "--tokenizer", tok, "--out", ours, *ours_flags, corpus])
        run([*hf, "encode", tok, corpus, ref, *hf_flags], cwd=root)
        r = subprocess.run([*compare, corpus, ours, ref, f"{name} encode ({mode})", "--tokenizer", tok],
                           capture_output=True, text=True)
        print(r.stdout + r.stderr, end="")
        ok &= r.returncode == 0

    if pipeline_only:
        sys.exit(0 if ok else 1)

    # Decoding: our ids of the corpus (with special tokens parsed), then random id sequences that
    # exercise byte-fallback runs which are not valid UTF-8 and lone byte-level continuation bytes.
    with open(tok, encoding="utf-8") as f:
        t = json.load(f)
    # Only ids the file defines (o200k and cl100k leave holes, which HF drops and we refuse).
    valid = sorted(set(t["model"]["vocab"].values()) | {a["id"] for a in t.get("added_tokens") or []})
    size = len(valid)
    rng = random.Random(7)
    ids_file = os.path.join(work, "decode.in")
    with open(os.path.join(work, "ours.parse-special.ids")) as src, open(ids_file, "w") as dst:
        dst.write(src.read())
        for _ in range(300):
            n = rng.randint(0, 40)
            seq = [valid[rng.choice([rng.randrange(size), rng.randrange(0, 300), rng.randrange(size - 300, size)])]
                   for _ in range(n)]
            dst.write(json.dumps(seq) + "\n")
    for skip in (False, True):
        flag = ["--skip-special"] if skip else []
        ours = os.path.join(work, f"ours.decode{'.skip' if skip else ''}.jsonl")
        ref = os.path.join(work, f"hf.decode{'.skip' if skip else ''}.jsonl")
        run([longctx, "decode", "--tokenizer", tok, "--out", ours, *flag, ids_file])
        run([*hf, "decode", tok, ids_file, ref, *flag], cwd=root)
        ok &= compare_texts(ours, ref, f"{name} decode{' (skip special)' if skip else ''}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
