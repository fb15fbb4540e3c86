#!/usr/bin/python3
"""`longctx serve` driven by a real HTTP client (http.client) on a loopback port: health, models,
completions from token ids and from text, greedy output equal to `longctx generate`, echo +
logprobs equal to the PyTorch reference's prompt log-probabilities, top_logprobs (shape, the
chosen token's entry, the reference's most likely tokens), stop strings (string and list: the
text ends before the stop string, compared with a run without stop), stream (server-sent events whose
deltas concatenate to the non-streamed answer, OpenAI's chunk shape, include_usage), top_p (1.0 = plain sampling
with the same seed, tiny = greedy), batches of prompts and n, and 4xx OpenAI-style JSON errors for
malformed JSON, empty bodies, every field's wrong type or range (400, the message and param name
the field), oversized bodies, over-long prompts, unknown models and bad token ids, after which the
server still serves.

usage: test_serve.py ROOT BUILD   (run with /usr/bin/python3: Debian's torch for the reference)
"""
import http.client
import json
import os
import shutil
import socket
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

    def stream_call(body):
        """POST with stream: (status, headers, the events' data: parsed JSON, or "[DONE]")."""
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("POST", "/v1/completions", body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        r = c.getresponse()
        raw = r.read().decode()
        c.close()
        headers = {k.lower(): v for k, v in r.getheaders()}
        if r.status != 200:
            return r.status, headers, []
        events = []
        for block in raw.split("\n\n"):
            if block:
                data = block[len("data: "):] if block.startswith("data: ") else None
                events.append(data if data == "[DONE]" else json.loads(data) if data else ("bad event", block))
        return r.status, headers, events

    def concat_stream(events):
        """choice index -> (text, token_ids, finish_reason) from the chunks."""
        out = {}
        for e in events:
            for c in (e["choices"] if isinstance(e, dict) else []):
                text, ids, fin = out.get(c["index"], ("", [], None))
                out[c["index"]] = (text + c["text"], ids + c["token_ids"], c["finish_reason"] or fin)
        return out

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

        def ids(body):
            st, j = call("POST", "/v1/completions", body)
            return j["choices"][0]["token_ids"] if st == 200 else (st, j)

        # top_p: nucleus sampling after temperature; 1.0 draws exactly as plain sampling, a tiny
        # top_p keeps only the most likely token (greedy), and a seed makes it reproducible.
        plain = ids({"prompt": prompt, "max_tokens": 8, "temperature": 1.0, "seed": 11})
        check("top_p = 1.0: the same tokens as plain sampling with the same seed",
              ids({"prompt": prompt, "max_tokens": 8, "temperature": 1.0, "seed": 11, "top_p": 1.0}) == plain, plain)
        greedy = ids({"prompt": prompt, "max_tokens": 8, "temperature": 0})
        check("top_p tiny: the greedy tokens", ids({"prompt": prompt, "max_tokens": 8, "temperature": 1.0, "seed": 11, "top_p": 1e-9}) == greedy,
              greedy)
        half = ids({"prompt": prompt, "max_tokens": 8, "temperature": 1.5, "seed": 3, "top_p": 0.5})
        check("top_p = 0.5 with a seed is reproducible", isinstance(half, list) and half == ids({"prompt": prompt, "max_tokens": 8,
                                                                                              "temperature": 1.5, "seed": 3, "top_p": 0.5}), half)

        # logprobs N: tokens, token_logprobs, top_logprobs (the N most likely, the chosen one
        # included, token -> logprob), text_offset, as OpenAI's completions API shapes them.
        text_prompt = "The capital of France is"
        st, j = call("POST", "/v1/completions", {"prompt": text_prompt, "max_tokens": 6, "temperature": 1.0, "seed": 2, "logprobs": 3})
        c = j["choices"][0] if st == 200 else {}
        lp = c.get("logprobs") or {}
        n_out = len(c.get("token_ids", []))
        check("logprobs: tokens, token_logprobs, top_logprobs and text_offset, one per completion token",
              n_out == 6 and all(len(lp.get(k, [])) == n_out for k in ("tokens", "token_logprobs", "top_logprobs", "text_offset")), (st, j))
        ok = n_out == 6
        for i in range(n_out if ok else 0):
            top, tokn, v = lp["top_logprobs"][i], lp["tokens"][i], lp["token_logprobs"][i]
            ok = ok and isinstance(top, dict) and 3 <= len(top) <= 4 and top.get(tokn) == v and max(top.values()) >= v
            ok = ok and all(isinstance(k, str) and isinstance(x, float) and x <= 0 for k, x in top.items())
        check("top_logprobs: 3 or 4 entries per position, the chosen token's entry equals its token_logprob", ok, lp)
        check("tokens concatenate to the text; text_offset counts characters from the prompt's start",
              ok and "".join(lp["tokens"]) == c["text"] and
              all(lp["text_offset"][i + 1] - lp["text_offset"][i] == len(lp["tokens"][i]) for i in range(n_out - 1)), lp)
        st, e = call("POST", "/v1/completions", {"prompt": text_prompt, "max_tokens": 0, "echo": True, "logprobs": 0})
        echoed = e["choices"][0] if st == 200 else None
        check("text_offset of the first completion token = the echoed prompt's length",
              ok and echoed is not None and lp["text_offset"][0] == len(echoed["text"]), (lp.get("text_offset"), echoed))
        check("echo + logprobs: the first prompt token has null token_logprob and top_logprobs",
              echoed is not None and echoed["logprobs"]["top_logprobs"][0] is None and echoed["logprobs"]["token_logprobs"][0] is None and
              all(len(t) == 1 for t in echoed["logprobs"]["top_logprobs"][1:]), echoed)
        # The first position's most likely tokens: the reference's top 3 after the prompt (a fresh
        # reference: its forward appends to a cache).
        pids = echoed["token_ids"] if echoed else [1]
        want_top = sorted(torch.log_softmax(torch_llama.Llama(model).forward(pids), -1)[-1].topk(3).values.tolist(), reverse=True)
        got_top = sorted(lp["top_logprobs"][0].values(), reverse=True)[:3] if ok else []
        check("top_logprobs: the reference's 3 most likely log-probabilities within 1e-4",
              len(got_top) == 3 and all(abs(a - b) < 1e-4 for a, b in zip(got_top, want_top)), (got_top, want_top))

        # stop: the text ends before the first stop string; finish_reason "stop"; the tokens are a
        # prefix of the run without stop.
        base_body = {"prompt": text_prompt, "max_tokens": 12, "temperature": 0}
        st, j = call("POST", "/v1/completions", base_body)
        full, full_ids = (j["choices"][0]["text"], j["choices"][0]["token_ids"]) if st == 200 else ("", [])
        mid = len(full) // 2
        stop1 = full[mid:mid + 3]
        stop2 = full[len(full) // 3:len(full) // 3 + 2]
        for name, stop, cut in (("a string", stop1, full.find(stop1)),
                                ("a list", ["@@never@@", stop1, stop2], min(full.find(stop1), full.find(stop2)))):
            st, j = call("POST", "/v1/completions", dict(base_body, stop=stop))
            c = j["choices"][0] if st == 200 else {}
            check(f"stop as {name}: the text ends before the stop string, finish_reason stop",
                  len(full) > 6 and c.get("text") == full[:cut] and c.get("finish_reason") == "stop" and
                  full_ids[:len(c.get("token_ids", []))] == c.get("token_ids") and len(c["token_ids"]) < len(full_ids), (full, stop, j))
        st, j = call("POST", "/v1/completions", dict(base_body, stop="@@never@@"))
        check("a stop string never produced: the whole text, finish_reason length",
              st == 200 and j["choices"][0]["text"] == full and j["choices"][0]["finish_reason"] == "length", j)

        # stream: server-sent events, OpenAI's streamed completion chunks: per choice the deltas
        # concatenate to the non-streamed text (same seed), finish_reason null until its last
        # chunk, then data: [DONE]; stop strings and UTF-8 characters are never split.
        for name, body in (("greedy", dict(base_body)), ("sampled", {"prompt": text_prompt, "max_tokens": 24, "temperature": 1.8, "seed": 7}),
                           ("stop", dict(base_body, stop=stop1)), ("stop list", dict(base_body, stop=["@@never@@", stop2])),
                           ("echo, n = 2, a batch", {"prompt": ["Hello", text_prompt], "max_tokens": 6, "n": 2, "seed": 4, "echo": True}),
                           ("token ids", {"prompt": prompt, "max_tokens": 10, "temperature": 1.0, "seed": 3})):
            st, want = call("POST", "/v1/completions", body)
            sst, headers, events = stream_call(dict(body, stream=True, stream_options={"include_usage": True}))
            got = concat_stream(events)
            check(f"stream ({name}): 200, text/event-stream, ends with [DONE]",
                  sst == 200 and headers.get("content-type", "").startswith("text/event-stream") and events and events[-1] == "[DONE]",
                  (sst, headers, events[-3:]))
            check(f"stream ({name}): each choice's deltas concatenate to the non-streamed text, token ids and finish_reason",
                  st == 200 and got == {c["index"]: (c["text"], c["token_ids"], c["finish_reason"]) for c in want["choices"]}, (want, got))
            chunks = [e for e in events if e != "[DONE]"]
            check(f"stream ({name}): chunks shaped as OpenAI's (one id, object text_completion, usage null but the last)",
                  len({c["id"] for c in chunks}) == 1 and all(c["object"] == "text_completion" and c["model"] == "tiny-llama" for c in chunks) and
                  all(c["usage"] is None and len(c["choices"]) == 1 for c in chunks[:-1]) and chunks[-1]["choices"] == [] and
                  chunks[-1]["usage"] == want["usage"], chunks)
            check(f"stream ({name}): no delta ends inside a character or in a stop string's start",
                  all(not c["choices"][0]["text"].endswith("\ufffd") and
                      not any(s[:k] and c["choices"][0]["text"].endswith(s[:k]) and c["choices"][0]["finish_reason"] is None
                              for s in ([body["stop"]] if isinstance(body.get("stop"), str) else body.get("stop", [])) for k in range(1, len(s)))
                      for c in chunks[:-1] if c["choices"][0]["text"]), chunks)
        sst, _, events = stream_call({"prompt": prompt, "max_tokens": 3, "stream": True})
        check("stream without stream_options: no usage field, no usage chunk",
              sst == 200 and events[-1] == "[DONE]" and all("usage" not in e and e["choices"] for e in events[:-1]), events)
        # stream with logprobs: each chunk carries its tokens' entries; per choice the chunks' lists
        # concatenate to the non-streamed logprobs object (echo: the prompt's chunk first).
        for name, body in (("echo, n = 2", {"prompt": text_prompt, "max_tokens": 10, "temperature": 1.3, "seed": 5, "n": 2, "logprobs": 2,
                                            "echo": True}),
                           ("stop", dict(base_body, stop=stop1, logprobs=3)),
                           ("token ids", {"prompt": prompt, "max_tokens": 7, "temperature": 0.9, "seed": 8, "logprobs": 0})):
            st, want = call("POST", "/v1/completions", body)
            sst, _, events = stream_call(dict(body, stream=True))
            got = {}
            for e in events:
                for c in (e["choices"] if isinstance(e, dict) else []):
                    acc = got.setdefault(c["index"], {k: [] for k in ("tokens", "token_logprobs", "top_logprobs", "text_offset")})
                    for k in acc:
                        acc[k] += (c["logprobs"] or {}).get(k, [])
            check(f"stream with logprobs ({name}): the chunks' logprobs concatenate to the non-streamed ones",
                  st == 200 and sst == 200 and got == {c["index"]: c["logprobs"] for c in want["choices"]}, (want, got))
        for body, fld in (({"prompt": prompt, "stream_options": {"include_usage": True}}, "stream_options"),
                          ({"prompt": prompt, "stream": True, "stream_options": {"include_usage": 1}}, "stream_options.include_usage"),
                          ({"prompt": prompt, "stream": True, "stream_options": {"x": True}}, "stream_options"),
                          ({"prompt": prompt, "stream": True, "stream_options": []}, "stream_options")):
            st, j = call("POST", "/v1/completions", body)
            check(f"{json.dumps(body)[-60:]}: 400 naming {fld}", st == 400 and j["error"]["param"] == fld and j["error"]["message"].startswith(fld),
                  (st, j))

        # Batches: a list of strings / of token-id lists gives a choice per prompt (x n).
        st, j = call("POST", "/v1/completions", {"prompt": ["Hello", text_prompt], "max_tokens": 2, "n": 2, "seed": 1})
        check("a list of strings with n = 2: four choices, indexed in order",
              st == 200 and [c["index"] for c in j["choices"]] == [0, 1, 2, 3] and j["usage"]["completion_tokens"] == 8, j)
        st, j = call("POST", "/v1/completions", {"prompt": [prompt, prompt[:3]], "max_tokens": 3, "temperature": 0})
        check("a list of token-id lists: one choice each, the first equal to the single prompt's",
              st == 200 and len(j["choices"]) == 2 and j["choices"][0]["token_ids"] == greedy[:3] and j["usage"]["prompt_tokens"] == 9, j)

        # Validation: every field's type and range; 400, the message and param naming the field.
        for fld, value in (("max_tokens", -1), ("max_tokens", -5), ("max_tokens", 1.5), ("max_tokens", "16"),
                           ("temperature", -1), ("temperature", 2.5), ("temperature", "hot"), ("temperature", True),
                           ("top_p", 0), ("top_p", 1.5), ("top_p", -0.1), ("top_p", "all"),
                           ("n", 0), ("n", -2), ("n", 1.5), ("n", 129),
                           ("logprobs", -1), ("logprobs", 6), ("logprobs", True), ("logprobs", 2.0),
                           ("seed", 1.5), ("seed", "7"), ("seed", [1]),
                           ("echo", "yes"), ("stream", "no"), ("stream", 1), ("model", 5), ("user", 5),
                           ("stop", 5), ("stop", ["a", "b", "c", "d", "e"]), ("stop", ""), ("stop", {"s": 1}),
                           ("best_of", 3), ("presence_penalty", 0.5), ("frequency_penalty", 9), ("logit_bias", {"1": 5}), ("suffix", 3),
                           ("prompt", {"a": 1}), ("prompt", []), ("prompt", 5), ("prompt", True), ("prompt", [[]]), ("prompt", [None])):
            st, j = call("POST", "/v1/completions", {"prompt": prompt, "max_tokens": 2, fld: value})
            err = j.get("error", {}) if isinstance(j, dict) else {}
            check(f"{fld} = {json.dumps(value)}: 400 naming the field",
                  st == 400 and err.get("message", "").startswith(fld) and err.get("param") == fld and "expected" in err.get("message", "") or
                  (st == 400 and fld in err.get("message", "") and err.get("param") == fld and "supported" in err.get("message", "")), (st, j))
        for body, where in (([1, "a"], "prompt[1]"), (["a", 1], "prompt[1]"), ([[1], "a"], "prompt[1]"), ([1, 32000], "prompt[1]"),
                            ([[1], [2, -1]], "prompt[1][1]"), ):
            st, j = call("POST", "/v1/completions", {"prompt": body, "max_tokens": 1})
            msg = j.get("error", {}).get("message", "") if isinstance(j, dict) else ""
            check(f"prompt = {json.dumps(body)}: 400 naming {where}, param prompt",
                  st == 400 and msg.startswith(where + ":") and j["error"]["param"] == "prompt", (st, j))
        st, j = call("POST", "/v1/completions", {"max_tokens": 2})
        check("no prompt: 400 naming prompt", st == 400 and j["error"]["message"].startswith("prompt:") and j["error"]["param"] == "prompt",
              (st, j))
        st, j = call("POST", "/v1/completions", {"prompt": prompt, "stop": ["a", 3]})
        check("stop = [\"a\", 3]: 400 naming stop[1]", st == 400 and j["error"]["message"].startswith("stop[1]:") and j["error"]["param"] == "stop",
              (st, j))
        st, j = call("POST", "/v1/completions", {"prompt": prompt, "max_tokens": 2, "temperature": 2, "top_p": 1, "n": 1, "logprobs": 5,
                                                 "seed": -3, "stop": None, "echo": False, "stream": False, "user": "u", "best_of": 1,
                                                 "presence_penalty": 0, "frequency_penalty": 0.0, "logit_bias": {}, "suffix": None})
        check("every field at its edge of the range is accepted", st == 200, (st, j))
        for name, raw in (("empty body", b""), ("whitespace body", b"  \n"), ("null body", b"null"), ("list body", b"[1]"),
                          ("non-JSON body", b"prompt=hello")):
            st, j = call("POST", "/v1/completions", raw=raw)
            check(f"{name}: 400 naming the request body",
                  st == 400 and isinstance(j, dict) and j.get("error", {}).get("message", "").startswith("request body"), (st, j))
        # A POST with no Content-Length at all (curl -X POST with no data): 400, not "not found".
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            resp = b""
            while chunk := sock.recv(65536):
                resp += chunk
        head, _, tail = resp.partition(b"\r\n\r\n")
        check("a POST without Content-Length: 400 naming the request body",
              head.startswith(b"HTTP/1.1 400") and b"request body" in tail and b"not found" not in tail, resp[:400])

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
        check("unknown path: 404", st == 404 and "not found" in j["error"]["message"], (st, j))
        st, j = call("GET", "/health")
        check("still serving after the bad requests", st == 200 and srv.poll() is None)
    finally:
        srv.terminate()
        srv.wait(timeout=10)

print("FAILED: " + ", ".join(failures) if failures else "all serve checks passed")
sys.exit(1 if failures else 0)
