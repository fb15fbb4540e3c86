#!/usr/bin/python3
"""Byte-exactness of text/normalize.h (NFC, NFD, NFKC, NFKD, Lowercase) against Hugging Face tokenizers.

usage: check_normalize.py ROOT BUILD   (ROOT: the repository, for node_modules/; BUILD: has tests/normalize_cli)

Cases: every code point but the surrogates and '\\n', alone and in four contexts (after 'a', before
U+0301, between U+0316 (class 220) and U+0301 (230), before a Hangul vowel); each combining mark
around one mark of every other combining class; random base letters + combining marks of mixed
classes (some runs up to 120 marks); random Hangul jamo / syllable sequences; real multilingual
text, also decomposed and upper-cased. Small cases go many to a line, joined by '\\n' (a starter
that composes with nothing and blocks reordering, so each case is normalized as if alone), and both
sides see the same lines: ours (build/tests/normalize_cli) and HF's (tests/oracle/hf_normalize.mjs),
run side by side. Any difference fails, and so does an is_normalized() that disagrees with
normalize(), or pieces normalized alone that differ from the line normalized whole.
"""
import json
import os
import random
import subprocess
import sys
import time
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_corpus  # noqa: E402

FORMS = ["nfc", "nfd", "nfkc", "nfkd", "lower"]

MULTILINGUAL = [
    "Ça m'a coûté très cher à Noël : façade, crème brûlée, naïveté, cœur, Œdipe.",
    "Straße, Größe, Übermäßig, ÄÖÜ äöü ẞ — Fußgängerübergänge.",
    "Tiếng Việt có dấu: Người ấy đã đến Hà Nội vào mùa thu năm ngoái; chữ Quốc ngữ.",
    "Ελληνικά: Καλημέρα κόσμε, ΣΟΦΊΑ σοφία, ὁ λόγος ἐστίν, ᾅδης, ΐ ΰ.",
    "Русский язык: Съешь же ещё этих мягких французских булок, да выпей чаю. Ёё Йй.",
    "Українська: Ґанок, їжак, єнот. Српски: Ђорђе, Љубав, Њива, Ћуприја, Џеп.",
    "Polski: Zażółć gęślą jaźń. Čeština: Příliš žluťoučký kůň úpěl ďábelské ódy.",
    "Română: Șapte țânțari; Türkçe: İstanbul'da ılık bir gün, IĞDIR ığdır.",
    "한국어: 다람쥐 헌 쳇바퀴에 타고파. 키스의 고유조건은 입술끼리 만나야 하고 특별한 기술은 필요치 않다.",
    "日本語: いろはにほへと ちりぬるを。カタカナ ガギグゲゴ パピプペポ ｶﾞｷﾞｸﾞ ﾊﾟﾋﾟ ㌀ ㍻ ①②③ ㈱.",
    "中文：我能吞下玻璃而不伤身体。繁體中文：我能吞下玻璃而不傷身體。兀 﨑 豈 更 車.",
    "हिन्दी: ऋषियों को सताने वाले दुष्ट राक्षसों के राजा रावण का सर्वनाश करने वाले विष्णुवतार भगवान श्रीराम। क़ ख़ ग़ ज़ ड़ ढ़ फ़ य़",
    "বাংলা: আমি কাঁচ খেতে পারি, তাতে আমার কোনো ক্ষতি হয় না। কো কৌ য়",
    "தமிழ்: நான் கண்ணாடி சாப்பிடுவேன், அதனால் எனக்கு ஒரு கேடும் வராது. கொ கோ கௌ",
    "ಕನ್ನಡ: ನಾನು ಗಾಜನ್ನು ತಿನ್ನಬಲ್ಲೆ ಮತ್ತು ಅದರಿಂದ ನನಗೆ ನೋವಾಗುವುದಿಲ್ಲ. ಕೊ ಕೋ ಕೈ",
    "മലയാളം: എനിക്ക് ഗ്ലാസ് തിന്നാം. അതെന്നെ വേദനിപ്പിക്കില്ല. കൊ കോ കൌ",
    "සිංහල: මට වීදුරු කෑමට හැකියි. එයින් මට කිසි හානියක් සිදු නොවේ. කො කෝ කෞ",
    "ไทย: ฉันกินกระจกได้ แต่มันไม่ทำให้ฉันเจ็บ ำ ๆ",
    "ພາສາລາວ: ຂອ້ຍກິນແກ້ວໄດ້ໂດຍທີ່ມັນບໍ່ໄດ້ເຮັດໃຫ້ຂອ້ຍເຈັບ ຳ",
    "བོད་སྐད། ཤེལ་སྒོ་ཟ་ནས་ང་ན་གི་མ་རེད། ཱི ཱུ ཱྀ གྷ",
    "العربية: أنا قادر على أكل الزجاج و هذا لا يؤلمني. مَرْحَبًا بِكُمْ ﷺ ﻻ ﻷ",
    "עברית: אני יכול לאכול זכוכית וזה לא מזיק לי. שָׁלוֹם עֲלֵיכֶם בְּ וּ שׁ",
    "ქართული: მინას ვჭამ და არა მტკივა. Հայերեն: Կրնամ ապակի ուտել և ինծի անհանգիստ չըներ։ և",
    "Ge'ez: ብርጭቆ መብላት እችላለሁ፣ አይጎዳኝም። ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ. ᐊᓕᒍᖅ ᓂᕆᔭᕌᖓᒃᑯ",
    "Math & symbols: ℌ ℍ ℕ ℤ ℵ ∫∬∭ ≠ ≤ ≥ ½ ¼ ¾ ² ³ ¹ ℃ ℉ Ω Å K ™ ℠ № ℡ ㎏ ㎞ ㏄ ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ ſt 𝐀𝐁𝐂 𝔄𝔅 𝟘𝟙𝟚",
    "Full width: ＡＢＣ ａｂｃ ０１２ ！＂＃ ｢ﾃｽﾄ｣ 　 ideographic space, ﾊﾝｶｸ ｶﾀｶﾅ.",
    "Emoji: 👍🏽 👨‍👩‍👧 🇫🇷 ❤️ ✈︎ 1️⃣ 🏳️‍⚧️ © ® ‼ ⁉",
    "Zalgo: Z̴̡̢̛̖͈͓̯̤̯͉̗̦̈́̀̈́̾͑̓̔ͅa̵̛̱͎͕̲̼̎̓͂̋̈́̽l̸̢̝̱̹̩̑̒̑ğ̷̛̲̟̠̳̭͒̽̐̈́͐ͅo̶̧̞̹͎̳̺̊͊͆̎̐̔",
    "Combining sequences: ệ ệ ệ ǘ ǖ̀ ḉ Å Å ḯ ṏ ṍ q̣̇ q̣̇ å̄ ḁ̄ a̐ 가 각 각 ᄀᆡ ᄀ ᅡ ᆨ",
]


def hex_of(s):
    return " ".join(f"{ord(c):04X}" for c in s)


def mark_classes():
    """Combining marks (by Python's Unicode 14 data, only to choose inputs) and one per class."""
    marks, rep = [], {}
    for c in range(0x110000):
        k = unicodedata.combining(chr(c))
        if k:
            marks.append(chr(c))
            rep.setdefault(k, chr(c))
    return marks, list(rep.values())


def small_cases(rng):
    cps = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF and c != 0x0A]
    cases = []
    for x in cps:
        cases += [x, "a" + x, x + "\u0301", "a\u0316" + x + "\u0301", x + "\u1161"]
    n_all = len(cases)
    marks, reps = mark_classes()
    for m in marks:
        for r in reps:
            cases += ["a" + r + m, "a" + m + r]
    n_marks = len(cases) - n_all
    # Bases that compose (first characters of canonical decompositions), a few plain ones, Hangul.
    firsts = sorted({unicodedata.normalize("NFD", chr(c))[0] for c in range(0x110000)
                     if len(unicodedata.normalize("NFD", chr(c))) > 1})
    bases = firsts + list("aeiouAEIOUxyz") + ["\u00e9", "\u1ec7", "\u0915", "\u09c7", "\u0b47", "\uac00", "\u1100"]
    nonspacing = [m for m in marks if unicodedata.combining(m) in (1, 7, 9, 202, 214, 216, 218, 220, 222, 228,
                                                                     230, 232, 233, 234, 240)]
    seconds = sorted({unicodedata.normalize("NFD", chr(c))[-1] for c in range(0x110000)
                      if len(unicodedata.normalize("NFD", chr(c))) > 1})
    for _ in range(60000):
        s = rng.choice(bases)
        for _ in range(rng.randint(1, 7)):
            r = rng.random()
            s += rng.choice(nonspacing) if r < 0.6 else rng.choice(seconds) if r < 0.85 else rng.choice(bases)
        cases.append(s)
    for _ in range(2000):  # long runs of marks (sorted other than by insertion)
        cases.append(rng.choice(bases) + "".join(rng.choice(nonspacing + seconds) for _ in range(rng.randint(17, 120))))
    L = [chr(c) for c in range(0x1100, 0x1160)] + [chr(c) for c in range(0xA960, 0xA97D)]
    V = [chr(c) for c in range(0x1160, 0x11A8)] + [chr(c) for c in range(0xD7B0, 0xD7C7)]
    T = [chr(c) for c in range(0x11A7, 0x1200)] + [chr(c) for c in range(0xD7CB, 0xD7FC)]
    S = [chr(rng.randrange(0xAC00, 0xD7A4)) for _ in range(500)] + [chr(0xAC00 + 28 * i) for i in range(399)]
    in_range = [chr(c) for c in range(0x1100, 0x1113)], [chr(c) for c in range(0x1161, 0x1176)], \
        [chr(c) for c in range(0x11A7, 0x11C3)]
    for _ in range(30000):
        s = ""
        for _ in range(rng.randint(2, 8)):
            r = rng.random()
            if r < 0.45:
                s += rng.choice(in_range[rng.randrange(3)])
            elif r < 0.9:
                s += rng.choice(rng.choice([L, V, T, S]))
            else:
                s += rng.choice(nonspacing)
        cases.append(s)
    return cases, n_all, n_marks


def texts(root, rng):
    out = list(MULTILINGUAL)
    out += [unicodedata.normalize(f, t) for f in ("NFD", "NFKD") for t in MULTILINGUAL]
    out += [t.upper() for t in MULTILINGUAL]
    ascii_all = "".join(chr(c) for c in range(1, 128) if c != 10)
    out += [ascii_all[i:] + ascii_all * 3 for i in range(9)]  # every byte at every 8-byte offset
    out += make_corpus.HAND_WRITTEN + make_corpus.prose_samples(root) + make_corpus.random_unicode(rng, 200)
    return out


def run(cmd, stdin_path, stdout_path):
    return subprocess.Popen(cmd, stdin=open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL,
                            stdout=open(stdout_path, "wb") if stdout_path else None)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    root, build = sys.argv[1], sys.argv[2]
    t0 = time.time()
    rng = random.Random(20250301)
    cases, n_all, n_marks = small_cases(rng)
    docs = texts(root, rng)
    work = os.path.join(build, "oracle", "normalize")
    os.makedirs(work, exist_ok=True)
    inp, ours, theirs = (os.path.join(work, n) for n in ("in.jsonl", "ours.jsonl", "hf.jsonl"))
    per_line = 2000
    lines = ["\n".join(cases[i:i + per_line]) for i in range(0, len(cases), per_line)]
    n_joined = len(lines)
    lines += docs
    with open(inp, "w", encoding="utf-8") as f:
        for t in lines:
            f.write(json.dumps({"text": t}) + "\n")
    t1 = time.time()
    procs = [run([os.path.join(build, "tests", "normalize_cli")], inp, ours),
             run(["node", os.path.join(root, "tests/oracle/hf_normalize.mjs"), inp, theirs], None, None)]
    if any(p.wait() != 0 for p in procs):
        sys.exit("normalize_cli or hf_normalize.mjs failed")
    t2 = time.time()
    mismatches = {f: 0 for f in FORMS}
    bad_qc, shown = 0, 0
    with open(ours, encoding="utf-8") as fo, open(theirs, encoding="utf-8") as ft:
        ours_lines, hf_lines = fo.readlines(), ft.readlines()
        if len(ours_lines) != len(lines) or len(hf_lines) != len(lines):
            sys.exit(f"line counts differ: {len(lines)} in, {len(ours_lines)} ours, {len(hf_lines)} HF")
        for i, (lo, lt) in enumerate(zip(ours_lines, hf_lines)):
            o, t = json.loads(lo), json.loads(lt)
            if o["bad_qc"]:
                bad_qc += 1
                print(f"is_normalized disagrees with normalize on line {i}: {o['bad_qc']}")
            src = lines[i]
            for f in FORMS:
                if o[f] == t[f]:
                    continue
                if i < n_joined:  # find the cases
                    pieces = zip(src.split("\n"), o[f].split("\n"), t[f].split("\n"))
                    bad = [(s, a, b) for s, a, b in pieces if a != b] or [(src, o[f], t[f])]
                else:
                    bad = [(src[:200], o[f][:200], t[f][:200])]
                mismatches[f] += len(bad)
                for s, a, b in bad:
                    if shown < 30:
                        shown += 1
                        print(f"{f}: {hex_of(s)}\n  ours {hex_of(a)}\n  hf   {hex_of(b)}")
    print(f"normalize: {len(cases)} small cases ({n_all} code points in 5 contexts, {n_marks} mark pairs, "
          f"{len(cases) - n_all - n_marks} random sequences) in {n_joined} lines + {len(docs)} texts "
          f"({sum(map(len, docs))} characters); x {len(FORMS)} normalizers")
    print(f"mismatches: {mismatches}; lines where is_normalized or piece-wise normalize disagree: {bad_qc}")
    print(f"time: generate {t1 - t0:.1f} s, normalize (ours || HF) {t2 - t1:.1f} s, compare {time.time() - t2:.1f} s")
    if any(mismatches.values()) or bad_qc:
        sys.exit(1)


if __name__ == "__main__":
    main()
