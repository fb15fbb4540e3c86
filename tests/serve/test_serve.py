#!/usr/bin/python3
"""`longctx serve` driven by a real HTTP client (http.client) on a loopback port: health, models,
completions from token ids and from text, greedy output equal to `longctx generate`, echo +
logprobs equal to the PyTorch reference's prompt log-probabilities, and 4xx JSON errors for
malformed JSON, unknown fields, oversized bodies, over-long prompts, unknown models and bad token
ids, after which the server still serves.

usage: test_serve.py ROOT BUILD   (run with /usr/bin/python3: Debian's torch for the reference)
"""
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import torch

ROOT, BUILD = sys.argv[1:3]
sys.path.insert(0, os.path.join(ROOT, "tests/model"))
import torch_llama  # noqa: E402

LONGCTX = os.path.join(BUILD, "longctx")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklist import check, failures  # noqa: E402




with tempfile.TemporaryDirectory() as tmp:
    model = os.path.join(tmp, "tiny-llama")
    torch_llama.write_checkpoint(model, {"vocab_size": 32000, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                                         "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 256,
                                         "rms_norm_eps": 1e-5, "rope_theta": 10000.0}, seed=3)
    shutil.copy(os.path.join(ROOT, "data/tokenizers/llama2/tokenizer.json"), model)
    srv = subprocess.Popen([LONGCTX, "serve", "--model", model, "--port", "0", "--max-request-bytes", "20000", "--max-context", "300"],
                           stderr=subprocess.PIPE, text=True)
    line = srv.stderr.readline()
    port = int(line.rsplit(":", 1)[1].split()[0]) if "http://" in line else None
    check("serve prints its address", port is not None, line)

    def call(method, path, body=None, raw=None):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        c.request(method, path, body=data, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        text = r.read().decode()
        c.close()
        try:
            return r.status, json.loads(text)
        except json.JSONDecodeError:
            return r.status, text

    try:
        st, j = call("GET", "/health")
        check("/health", st == 200 and j == {"status": "ok"}, (st, j))
        st, j = call("GET", "/v1/models")
        check("/v1/models names the model", st == 200 and j["data"][0]["id"] == "tiny-llama", j)
        prompt = [1, 450, 1900, 3114, 304, 437]
        st, j = call("POST", "/v1/completions", {"prompt": prompt, "max_tokens": 12, "temperature": 0})
        r = subprocess.run([LONGCTX, "generate", "--model", model, "--prompt-ids", ",".join(map(str, prompt)), "--max-new-tokens", "12",
                            "--json", "--ignore-eos"], capture_output=True, text=True)
        want = json.loads(r.stdout)["ids"]
        check("token-id prompt, greedy: the same tokens as generate", st == 200 and j["choices"][0]["token_ids"] == want, (j, want))
        check("usage counts", st == 200 and j["usage"] == {"prompt_tokens": 6, "completion_tokens": 12, "total_tokens": 18}, j)
        st, j = call("POST", "/v1/completions", {"prompt": "The best thing to do in San Francisco is", "max_tokens": 5, "temperature": 0,
                                                 "model": "tiny-llama"})
        check("text prompt", st == 200 and isinstance(j["choices"][0]["text"], str) and j["usage"]["prompt_tokens"] > 5, j)
        st, j = call("POST", "/v1/completions", {"prompt": prompt, "max_tokens": 0, "echo": True, "logprobs": 0})
        ref = torch_llama.Llama(model)
        logp = torch.log_softmax(ref.forward(prompt), -1)
        want_lp = [None] + [float(logp[i, prompt[i + 1]]) for i in range(len(prompt) - 1)]
        got_lp = j["choices"][0]["logprobs"]["token_logprobs"] if st == 200 else None
        check("echo + logprobs: prompt log-probabilities within 1e-4 of the reference",
              got_lp is not None and got_lp[0] is None and len(got_lp) == len(want_lp) and
              all(abs(a - b) < 1e-4 for a, b in zip(got_lp[1:], want_lp[1:])), (got_lp, want_lp))
        st, j = call("POST", "/v1/completions", {"prompt": prompt, "max_tokens": 4, "temperature": 0.8, "seed": 5})
        st2, j2 = call("POST", "/v1/completions", {"prompt": prompt, "max_tokens": 4, "temperature": 0.8, "seed": 5})
        check("sampling with a seed is reproducible", st == 200 and j["choices"][0]["token_ids"] == j2["choices"][0]["token_ids"])

        for name, kwargs, status in (
                ("malformed JSON", {"raw": b'{"prompt": [1, 2'}, 400),
                ("unknown field", {"body": {"prompt": [1], "frobnicate": True}}, 400),
                ("oversized body", {"body": {"prompt": [1] * 10000}}, 413),
                ("prompt + max_tokens over the context", {"body": {"prompt": [1] * 290, "max_tokens": 20}}, 413),
                ("unknown model", {"body": {"prompt": [1], "model": "gpt-5"}}, 404),
                ("token id outside the vocabulary", {"body": {"prompt": [1, 99999]}}, 400),
                ("prompt of the wrong type", {"body": {"prompt": {"a": 1}}}, 400),
                ("negative temperature", {"body": {"prompt": [1], "temperature": -1}}, 400)):
            st, j = call("POST", "/v1/completions", kwargs.get("body"), kwargs.get("raw"))
            check(f"{name}: {status} with a JSON error", st == status and isinstance(j, dict) and "message" in j.get("error", {}), (st, j))
        st, j = call("GET", "/nowhere")
        check("unknown path: 404", st == 404, (st, j))
        st, j = call("GET", "/health")
        check("still serving after the bad requests", st == 200 and srv.poll() is None)
    finally:
        srv.terminate()
        srv.wait(timeout=10)

print("FAILED: " + ", ".join(failures) if failures else "all serve checks passed")
sys.exit(1 if failures else 0)
