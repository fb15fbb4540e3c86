#!/usr/bin/env python3
"""Writes the committed seed corpora of tests/fuzz/corpus/<harness>/seed-* from the test fixtures
(tests/model/family_cases.py, tests/tokenizer/tiny_tokenizers.h, test_bad_config.py's cases) and
small hand-written inputs. Regression inputs (regress-*) are kept by hand, never rewritten here.

    python3 tests/fuzz/make_seeds.py [LONGCTX_BINARY]   # the binary (build/longctx) makes a store manifest

`--tokenizers OUT` instead writes tokenizer_json seeds shrunk from data/tokenizers/*/tokenizer.json
(the first 300 vocabulary entries, the merges among them) into OUT: those files may not be
committed, so `make fuzz` makes them at fuzz time.
"""
import gzip
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def put(harness, name, data):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


ARCH = {"llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM", "qwen3": "Qwen3ForCausalLM",
        "gemma2": "Gemma2ForCausalLM", "gemma3": "Gemma3ForCausalLM", "phi3": "Phi3ForCausalLM"}


def seeds_model_config():
    sys.path.insert(0, os.path.join(ROOT, "tests", "model"))
    import family_cases
    for case in family_cases.MODEL_CASES:
        put("model_config", case["name"], json.dumps({"architectures": [ARCH[case["family"]]], **case["config"]}, indent=1))
    base = {"architectures": ["LlamaForCausalLM"], "vocab_size": 32000, "hidden_size": 32, "intermediate_size": 48,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 128,
            "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": False}
    put("model_config", "llama-base", json.dumps(base))
    for name, rs in [("linear", {"type": "linear", "factor": 2.0}), ("dynamic", {"type": "dynamic", "factor": 4.0}),
                     ("yarn", {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 64}),
                     ("llama3", {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                 "original_max_position_embeddings": 64})]:
        put("model_config", "rope-" + name, json.dumps({**base, "rope_scaling": rs}))
    put("model_config", "bad-zero-heads", json.dumps({**base, "num_attention_heads": 0}))
    put("model_config", "bad-negative-vocab", json.dumps({**base, "vocab_size": -5}))
    put("model_config", "bad-huge", json.dumps({**base, "hidden_size": 2 ** 62}))
    put("model_config", "bad-not-json", "{\"architectures\": [")


def safetensors(tensors, data=b"", pad=True, meta=None):
    h = {"__metadata__": meta or {"format": "pt"}}
    h.update(tensors)
    hb = json.dumps(h, separators=(",", ":")).encode()
    if pad:
        hb += b" " * (-len(hb) % 8)
    return struct.pack("<Q", len(hb)) + hb + data


def seeds_safetensors():
    f32 = struct.pack("<4f", 1.0, -2.0, 0.5, 3.25)
    put("safetensors", "f32", safetensors({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}, f32))
    put("safetensors", "bf16-f16", safetensors({"a": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]},
                                                "b": {"dtype": "F16", "shape": [1, 2], "data_offsets": [4, 8]}},
                                               struct.pack("<4H", 0x3F80, 0xC000, 0x3C00, 0x0001)))
    put("safetensors", "scalar-empty", safetensors({"s": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]},
                                                    "e": {"dtype": "F32", "shape": [0, 3], "data_offsets": [4, 4]}}, f32[:4]))
    put("safetensors", "bad-overlap", safetensors({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                                   "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, f32))
    put("safetensors", "bad-dtype", safetensors({"a": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}}, f32[:8]))
    put("safetensors", "bad-length", struct.pack("<Q", 1 << 40) + b"{}")


def seeds_tokenizer_json():
    src = open(os.path.join(ROOT, "tests", "tokenizer", "tiny_tokenizers.h"), encoding="utf-8").read()
    # The default tiny tokenizer: the raw string pieces of sentencepiece_json() with its defaults.
    norm = ('{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},'
            '{"type":"Replace","pattern":{"String":" "},"content":"▁"}]}')
    body = re.search(r'return R"\((.*?)\)" \+ norm \+ R"\((.*?)\)" \+ model_extra \+ R"\((.*?)\)";', src, re.S)
    tiny = body.group(1) + norm + body.group(2) + body.group(3)
    json.loads(tiny)
    put("tokenizer_json", "tiny-sentencepiece", tiny)
    t = json.loads(tiny)
    t["normalizer"] = None
    t["pre_tokenizer"] = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    t["decoder"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}
    t["model"]["byte_fallback"] = False
    put("tokenizer_json", "tiny-bytelevel", json.dumps(t, ensure_ascii=False))
    t2 = json.loads(tiny)
    t2["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": "\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+"}, "behavior": "Isolated", "invert": False},
        {"type": "Digits", "individual_digits": True}, {"type": "Punctuation", "behavior": "Contiguous"}]}
    t2["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"}, {"type": "Strip", "left": True, "right": True}]}
    put("tokenizer_json", "tiny-split-nfkc", json.dumps(t2, ensure_ascii=False))


def shrink_tokenizers(out):
    """Small tokenizer.json files with the structure of each installed one: the first 300 vocabulary
    entries (plus the added tokens) and only the merges among them."""
    os.makedirs(out, exist_ok=True)
    base = os.path.join(ROOT, "data", "tokenizers")
    for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        path = os.path.join(base, name, "tokenizer.json")
        if not os.path.exists(path):
            continue
        t = json.load(open(path, encoding="utf-8"))
        m = t.get("model", {})
        vocab = m.get("vocab")
        if not isinstance(vocab, dict):
            continue
        keep = dict(sorted(vocab.items(), key=lambda kv: kv[1])[:300])
        for a in t.get("added_tokens", [])[:20]:
            keep[a["content"]] = a["id"]
        t["added_tokens"] = t.get("added_tokens", [])[:20]
        merges = []
        for mg in m.get("merges", []):
            a, b = mg.split(" ", 1) if isinstance(mg, str) else mg
            if a in keep and b in keep and a + b in keep:
                merges.append(mg)
        m["vocab"], m["merges"] = keep, merges
        with open(os.path.join(out, "shrunk-" + name + ".json"), "w", encoding="utf-8") as f:
            json.dump(t, f, ensure_ascii=False)


TEXTS = ["Hello world", "The quick brown fox jumps over the lazy dog. It's 1234567 o'clock!", "  leading\n\n\ttabs  and   spaces   ",
         "naïve café résumé — “quotes”", "日本語のテキストと漢字123", "مرحبا بالعالم", "हिन्दी पाठ", "ภาษาไทย",
         "👩‍👩‍👧‍👦 👍🏽 🇫🇷", "e\u0301 a\u0308 combining", "<s> </s> <|begin_of_text|> <|endoftext|>",
         "x" * 300, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "def f(x):\n    return x**2  # comment\n",
         "I'M DON'T we'll THEY'RE", "\u00a0\u2009\u3000 odd spaces", "ａｂｃ１２３ fullwidth", "\x00\x01\x7f control"]


def seeds_encode():
    for i, t in enumerate(TEXTS):
        # first byte: tokenizer index (mod the loaded count), parse_special (bit 4), add_special_tokens (bit 5)
        put("encode", "%02d" % i, bytes([(i * 7) % 256 | 0x20]) + t.encode())
        put("encode", "%02d-special" % i, bytes([(i * 3 + 1) % 16 | 0x30]) + t.encode())
    put("encode", "invalid-utf8", bytes([0x01]) + b"ab\xff\xfe\xc3(\xe2\x82 cd")


def seeds_decode():
    for sel in range(6):
        ids = [1, 15043, 3186, 29871, 13, 2, 0, 100, 255, 65535, 128000]
        put("decode", "ids-%d" % sel, bytes([sel]) + b"".join(struct.pack("<I", i) for i in ids))
        put("decode", "skip-%d" % sel, bytes([sel | 0x80]) + b"".join(struct.pack("<I", i) for i in ids[:6]))
    put("decode", "out-of-range", bytes([0]) + struct.pack("<I", 0xFFFFFFFF))


LINES = ['{"text": "hello", "meta": {"redpajama_set_name": "RedPajamaBook"}}', '{"text": ""}', '{"text": 5}', '{"meta": {}}',
         '{"text": "a\\u00e9\\ud83d\\ude00 b", "meta": {"redpajama_set_name": 7}}', '{"text": "x", "meta": {"body": "nested"}}',
         '{"meta": {"body": ""}}', '{"text": "\\ud800"}', 'not json', '[1,2,3]', '{"text": "dup", "text": "dup2"}', '{"text": "a\xff"}']


def seeds_json_document():
    for i, line in enumerate(LINES):
        for sel in range(3):
            put("json_document", "%02d-%d" % (i, sel), bytes([sel]) + (line.encode("utf-8", "surrogateescape") if isinstance(line, str) else line))


def seeds_byte_source():
    text = b'{"text": "one"}\n{"text": "two", "meta": {"redpajama_set_name": "RedPajamaC4"}}\n'
    put("byte_source", "plain.jsonl", text)
    put("byte_source", "two-members.jsonl.gz", gzip.compress(text, mtime=0) + gzip.compress(text[:10], mtime=0))
    put("byte_source", "truncated.jsonl.gz", gzip.compress(text, mtime=0)[:-6])
    z = subprocess.run(["zstd", "-q", "-c", "-19"], input=text, capture_output=True, check=True).stdout
    z2 = subprocess.run(["zstd", "-q", "-c", "--no-check"], input=text * 3, capture_output=True, check=True).stdout
    put("byte_source", "two-frames.jsonl.zst", z + z2)
    put("byte_source", "truncated.jsonl.zst", z[:-5])
    put("byte_source", "empty", b"")


def seeds_store_manifest(longctx):
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "in.jsonl")
        with open(src, "w") as f:
            f.write('{"text": "hello world", "meta": {"redpajama_set_name": "A"}}\n{"text": 3}\n{"text": "more text", "meta": {"redpajama_set_name": "B"}}\n')
        store = os.path.join(d, "store")
        subprocess.run([longctx, "ingest", "-q", "--tokenizer", os.path.join(ROOT, "data", "tokenizers", "llama2", "tokenizer.json"),
                        "--out", store, src], check=True)
        m = open(os.path.join(store, "manifest.json"), "rb").read()
        put("store_manifest", "ingest", m.replace(d.encode(), b"/tmp/x"))
        # The two selections of "tokenize only what the plan keeps" (docs/tokenize-kept.md).
        sample = os.path.join(d, "sample")
        subprocess.run([longctx, "ingest", "-q", "--tokenizer", os.path.join(ROOT, "data", "tokenizers", "llama2", "tokenizer.json"),
                        "--out", sample, "--sample-rate", "0.5", src], check=True)
        m = open(os.path.join(sample, "manifest.json"), "rb").read()
        put("store_manifest", "sample", m.replace(d.encode(), b"/tmp/x"))
        subset = m.replace(b'"kind": "sample",\n    "rate": 0.5,\n    "seed": 0',
                           b'"kind": "subset",\n    "plan_entries_xxh128": "0123456789abcdef0123456789abcdef",\n    "scan_run": "x",\n    "documents": 2')
        assert subset != m
        put("store_manifest", "subset", subset.replace(d.encode(), b"/tmp/x"))


SEP = b"\n--8<--\n"


def seeds_store(longctx):
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "in.jsonl")
        with open(src, "w") as f:
            f.write('{"text": "hi", "meta": {"redpajama_set_name": "A"}}\n{"text": "a b", "meta": {"redpajama_set_name": "B"}}\n')
        store = os.path.join(d, "store")
        subprocess.run([longctx, "ingest", "-q", "--tokenizer", os.path.join(ROOT, "data", "tokenizers", "llama2", "tokenizer.json"),
                        "--out", store, src], check=True)
        parts = [open(os.path.join(store, n), "rb").read() for n in ("manifest.json", "data.idx", "data.bin", "docs.bin")]
        put("store", "ingest", SEP.join(parts))
        put("store", "no-data", parts[0])


REQUESTS = [{"prompt": "ab c", "max_tokens": 3}, {"prompt": [1, 6, 7], "max_tokens": 2, "temperature": 0.7, "seed": 4, "top_p": 0.9},
            {"prompt": ["a", "bc"], "n": 2, "max_tokens": 2, "logprobs": 2, "echo": True},
            {"prompt": [[6, 7], [8]], "max_tokens": 1, "stop": ["b", "ab"]}, {"prompt": "a", "max_tokens": -1},
            {"prompt": "a", "max_tokens": 100000}, {"prompt": "", "max_tokens": 1}, {"prompt": "a", "stream": True},
            {"prompt": "a", "model": "other"}, {"prompt": "a", "logit_bias": {"1": 5}}, {"prompt": [99999]}, {"max_tokens": 1},
            # stream: the tiny tokenizer's byte tokens <0xC3> <0xA9> make "é" over two tokens (held back until whole).
            {"prompt": "ab c", "max_tokens": 20, "stream": True, "temperature": 1.5, "seed": 3},
            {"prompt": [1, 3, 4], "max_tokens": 12, "stream": True, "stop": ["\u00e9", "ab"], "seed": 9, "temperature": 2,
             "stream_options": {"include_usage": True}},
            {"prompt": ["a", "bc"], "n": 2, "max_tokens": 6, "stream": True, "echo": True, "seed": 1, "temperature": 2},
            {"prompt": "a", "stream": True, "logprobs": 1}, {"prompt": "a", "stream_options": {"include_usage": True}}]


def seeds_serve():
    for i, r in enumerate(REQUESTS):
        put("serve", "%02d" % i, json.dumps(r))
    put("serve", "empty", b"")
    put("serve", "not-json", b"{prompt")


def seeds_report_inputs():
    log = "".join(json.dumps({"step": i, "loss": 10.0 / i, "lr": 2e-5, "grad_norm": 1.5, "tokens": 64 * i, "tokens_per_s": 900.0,
                               "elapsed_s": 0.1 * i}) + "\n" for i in range(1, 4))
    put("report_inputs", "train-log", b"\x00" + log.encode())
    put("report_inputs", "train-log-cut", b"\x00" + log.encode() + b'{"step": 4, "lo')
    loss = {"loss": 2.5, "tokens": 1000, "domains": {"RedPajamaBook": {"0-4K": {"loss": 2.4, "tokens": 600}}},
            "positions": {"0-1K": {"loss": 2.6, "tokens": 400}}}
    put("report_inputs", "loss", b"\x01" + json.dumps(loss).encode())
    run = {"format": "longctx-needle-run", "model": "m", "backend": "engine", "tokenizer": "tokenizer.json",
           "tokenizer_xxh128": "0123456789abcdef0123456789abcdef", "needle": "N", "question": "Q", "answer": "a b",
           "lengths": [1000, 2000], "depths": [0, 100], "max_new_tokens": 50, "train_length": 1500}
    trials = "".join(json.dumps({"length": l, "depth": d, "prompt_tokens": l + 12, "context_tokens": l - 220, "needle_token_index": 5,
                                 "response": "a", "response_ids": [1], "scores": {"paper_recall": 0.5, "recall": 0.5, "rouge1_f": 0.4,
                                                                                 "substring": 0}, "seconds": 0.5}) + "\n"
                     for l in (1000, 2000) for d in (0, 100))
    put("report_inputs", "needle-run", b"\x02" + json.dumps(run).encode() + SEP + trials.encode())


def folder_input(flags, d, names=None):
    """A folder as one input: byte FLAGS, then parts "NAME\\nCONTENT" joined by SEP (fuzz_util.h)."""
    names = names or sorted(os.listdir(d))
    return bytes([flags]) + SEP.join(n.encode() + b"\n" + open(os.path.join(d, n), "rb").read() for n in names)


def tiny_store(longctx, d):
    src = os.path.join(d, "in.jsonl")
    with open(src, "w") as f:
        f.write('{"text": "hi there, a few words", "meta": {"redpajama_set_name": "A"}}\n'
                '{"text": "a b c d e f", "meta": {"redpajama_set_name": "B"}}\n')
    store = os.path.join(d, "store")
    subprocess.run([longctx, "ingest", "-q", "--tokenizer", os.path.join(ROOT, "data", "tokenizers", "llama2", "tokenizer.json"),
                    "--out", store, src], check=True)
    return store


def seeds_plan_packed(longctx):
    with tempfile.TemporaryDirectory() as d:
        store = tiny_store(longctx, d)
        plan = os.path.join(d, "plan")
        subprocess.run([longctx, "mix", store, "--strategy", "original", "--tokens", "14", "--seed", "1", "--out", plan, "-q"], check=True)
        pj, entries = open(os.path.join(plan, "plan.json"), "rb").read(), open(os.path.join(plan, "entries.bin"), "rb").read()
        put("plan", "mix", b"\x00" + pj + SEP + entries)
        put("plan", "mix-fixup", b"\x01" + pj + SEP + entries)
        put("plan", "no-entries", b"\x00" + pj)
        for fmt in ("jsonl", "megatron", "llmc", "flat"):
            out = os.path.join(d, "packed-" + fmt)
            subprocess.run([longctx, "pack", plan, "--seq-len", "8", "--format", fmt, "--out", out, "-q"], check=True)
            put("packed", fmt, folder_input(0, out))
            if fmt == "jsonl":
                shard = [n for n in sorted(os.listdir(out)) if n.endswith(".jsonl")][0]
                put("packed", "bare-jsonl", b"\x01" + open(os.path.join(out, shard), "rb").read())


LLAMA_TENSORS = [("model.embed_tokens.weight", "VH"), ("model.layers.0.input_layernorm.weight", "H"),
                 ("model.layers.0.self_attn.q_proj.weight", "HH"), ("model.layers.0.self_attn.k_proj.weight", "KH"),
                 ("model.layers.0.self_attn.v_proj.weight", "KH"), ("model.layers.0.self_attn.o_proj.weight", "HH"),
                 ("model.layers.0.post_attention_layernorm.weight", "H"), ("model.layers.0.mlp.gate_proj.weight", "IH"),
                 ("model.layers.0.mlp.up_proj.weight", "IH"), ("model.layers.0.mlp.down_proj.weight", "HI"),
                 ("model.norm.weight", "H"), ("lm_head.weight", "VH")]


def tiny_weights(prefix=""):
    dims = {"V": 14, "H": 8, "K": 4, "I": 8}
    tensors, data = {}, b""
    for name, shape in LLAMA_TENSORS:
        shape = [dims[c] for c in shape]
        n = 1
        for x in shape:
            n *= x
        tensors[prefix + name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(data), len(data) + 4 * n]}
        data += struct.pack("<%df" % n, *[((i * 37) % 11) / 10.0 - 0.5 for i in range(n)])
    return safetensors(tensors, data)


def seeds_checkpoint():
    config = {"architectures": ["LlamaForCausalLM"], "vocab_size": 14, "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 1,
              "num_attention_heads": 2, "num_key_value_heads": 1, "max_position_embeddings": 64, "rms_norm_eps": 1e-5,
              "tie_word_embeddings": False}
    files = {"config.json": json.dumps(config).encode(), "model.safetensors": tiny_weights(),
             "trainer_state.json": b'{"step": 2, "tokens": 512, "loss": 9.5}',
             "checkpoint.json": b'{"format": "longctx-checkpoint", "format_version": 1, "hash": "xxh128", "files": {}}'}
    # optimizer.safetensors: exp_avg.* and exp_avg_sq.* of every weight, as train writes it.
    def split(st):
        n = struct.unpack("<Q", st[:8])[0]
        header = json.loads(st[8:8 + n])
        del header["__metadata__"]
        return header, st[8 + n:]
    hm, dm = split(tiny_weights("exp_avg."))
    hv, dv = split(tiny_weights("exp_avg_sq."))
    for t in hv.values():
        t["data_offsets"] = [t["data_offsets"][0] + len(dm), t["data_offsets"][1] + len(dm)]
    files["optimizer.safetensors"] = safetensors({**hm, **hv}, dm + dv)
    join = lambda fl, names: bytes([fl]) + SEP.join(n.encode() + b"\n" + files[n] for n in names)  # noqa: E731
    allf = sorted(files)
    put("checkpoint", "train-fixup", join(1, allf))
    put("checkpoint", "train-stale-hashes", join(0, allf))
    put("checkpoint", "no-manifest", join(0, [n for n in allf if n != "checkpoint.json"]))
    put("checkpoint", "no-optimizer", join(1, [n for n in allf if n != "optimizer.safetensors"]))


def seeds_bookqa():
    rows = [{"id": 0, "context": "The book.", "input": "Who?", "answer": ["Ann", "Bob"]},
            {"id": "x", "context": "", "input": "Q", "answer": "A"}]
    put("bookqa", "rows", b"\x00" + "\n\n".join(json.dumps(r) for r in rows).encode() + b"\n")
    put("bookqa", "rows-bad", b"\x00" + b'{"id": 1, "context": "c", "input": "q", "answer": []}\n{"id": 2')
    res = [{"id": 0, "prompt_tokens": 10, "full_prompt_tokens": 12, "prediction": "Ann", "answers": ["Ann"], "recall": 1.0, "f1": 1.0},
           {"id": "x", "prompt_tokens": 3, "full_prompt_tokens": 3, "prediction": "", "answers": ["A"], "recall": 0.0, "f1": 0.0}]
    put("bookqa", "results", b"\x01" + "\n".join(json.dumps(r) for r in res).encode() + b"\n")
    put("bookqa", "results-no-recall", b"\x01" + b'{"id": 0, "f1": 1.0}\n')


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--tokenizers":
        shrink_tokenizers(sys.argv[2])
        return
    seeds_model_config()
    seeds_safetensors()
    seeds_tokenizer_json()
    seeds_encode()
    seeds_decode()
    seeds_json_document()
    seeds_byte_source()
    longctx = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "longctx")
    seeds_store_manifest(longctx)
    seeds_store(longctx)
    seeds_serve()
    seeds_report_inputs()
    seeds_plan_packed(longctx)
    seeds_checkpoint()
    seeds_bookqa()


if __name__ == "__main__":
    main()
