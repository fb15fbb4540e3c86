#!/usr/bin/python3
"""Load test of `longctx serve` on loopback: 8 client threads, each sending a few requests at
once with the others (valid ones streamed and not, invalid ones: malformed JSON, a field out of
range, an oversized body, an unknown path), against one server on a tiny model. Every valid
answer must equal the sequential answer to the same request (text, token ids, finish_reason; a
streamed one's deltas concatenated), every invalid one its 4xx JSON error; no 5xx, no dropped
connection. Then: a client that disconnects mid-stream (the server stops that generation, logs
it and keeps serving), the server's memory after the load next to before, and it still answers.

usage: test_serve_load.py ROOT BUILD   (run with /usr/bin/python3: Debian's torch writes the model)
"""
import http.client
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT, BUILD = sys.argv[1:3]
sys.path.insert(0, os.path.join(ROOT, "tests/model"))
import torch_llama  # noqa: E402

LONGCTX = os.path.join(BUILD, "longctx")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklist import check, failures  # noqa: E402

THREADS, PER_THREAD = 8, 5


def post(port, body=None, raw=None, path="/v1/completions", method="POST"):
    """(status, headers, body text) on a fresh connection."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    c.request(method, path, body=data, headers={"Content-Type": "application/json"})
    r = c.getresponse()
    text = r.read().decode()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, text


def answer(status, text):
    """A non-streamed answer: index -> (text, token_ids, finish_reason)."""
    if status != 200:
        return ("status", status, text[:300])
    return {c["index"]: (c["text"], c["token_ids"], c["finish_reason"]) for c in json.loads(text)["choices"]}


def streamed_answer(status, headers, text):
    """A streamed answer, its chunks concatenated per choice; or what was wrong with it."""
    if status != 200 or not headers.get("content-type", "").startswith("text/event-stream"):
        return ("status", status, headers.get("content-type"), text[:300])
    blocks = [b for b in text.split("\n\n") if b]
    if not blocks or blocks[-1] != "data: [DONE]" or not all(b.startswith("data: ") for b in blocks):
        return ("malformed stream", text[-300:])
    out = {}
    for b in blocks[:-1]:
        for c in json.loads(b[6:])["choices"]:
            t, ids, fin = out.get(c["index"], ("", [], None))
            if fin is not None:
                return ("a chunk after the choice's last", b)
            out[c["index"]] = (t + c["text"], ids + c["token_ids"], c["finish_reason"])
    return out


def valid_bodies():
    """Requests whose answers the load phase checks against the sequential ones."""
    bodies = []
    for seed in range(6):
        bodies.append({"prompt": "The best thing to do in San Francisco is", "max_tokens": 20, "temperature": 1.5, "seed": seed})
        bodies.append({"prompt": [1, 450, 1900, 3114, 304, 437 + seed], "max_tokens": 16, "temperature": 0.9, "top_p": 0.8, "seed": seed})
    bodies.append({"prompt": "Once upon a time", "max_tokens": 16, "temperature": 0})
    bodies.append({"prompt": ["Hello", "Goodbye"], "max_tokens": 8, "n": 2, "seed": 9, "echo": True})
    bodies.append({"prompt": "The capital of France is", "max_tokens": 24, "temperature": 1.2, "seed": 1, "stop": ["e", "th"]})
    return bodies


INVALID = [  # (what to send, expected status)
    ({"raw": b'{"prompt": [1, 2'}, 400),
    ({"body": {"prompt": [1], "temperature": 3}}, 400),
    ({"body": {"prompt": [1], "stream": True, "stream_options": {"include_usage": 1}}}, 400),
    ({"body": {"prompt": [1] * 10000}}, 413),
    ({"body": {"prompt": [1] * 290, "max_tokens": 20, "stream": True}}, 413),
    ({"path": "/v1/nowhere", "body": {"prompt": [1]}}, 404),
]


def client(port, jobs, reference, results, lock):
    for kind, item in jobs:
        try:
            if kind == "invalid":
                send, want = item
                st, headers, text = post(port, send.get("body"), send.get("raw"), send.get("path", "/v1/completions"))
                err = json.loads(text).get("error", {}) if headers.get("content-type", "").startswith("application/json") else {}
                ok = st == want and bool(err.get("message"))
                got = (st, text[:200])
            else:
                body, stream = item
                key = json.dumps(body, sort_keys=True)
                if stream:
                    got = streamed_answer(*post(port, dict(body, stream=True)))
                else:
                    st, _, text = post(port, body)
                    got = answer(st, text)
                ok = got == reference[key]
        except Exception as e:  # a dropped connection, a timeout: a failure, not a crash of the test
            ok, got = False, repr(e)
        with lock:
            results.append((kind, item, ok, got))


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def disconnect_mid_stream(port):
    """Reads the first event of a long stream (64 x 280 tokens: more events than the socket buffers
    hold, so the server cannot finish before it notices), then resets the connection: True when an
    event came."""
    body = json.dumps({"prompt": [1, 450, 1900], "max_tokens": 280, "n": 64, "temperature": 1.0, "seed": 2, "stream": True}).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        got = b""
        while b"data: " not in got:
            chunk = sock.recv(4096)
            if not chunk:
                break
            got += chunk
        # RST on close (SO_LINGER 0): the server's next writes fail at once.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    return b"data: " in got


with tempfile.TemporaryDirectory() as tmp:
    model = os.path.join(tmp, "tiny-llama")
    torch_llama.write_checkpoint(model, {"vocab_size": 32000, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                                         "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 256,
                                         "rms_norm_eps": 1e-5, "rope_theta": 10000.0}, seed=3)
    shutil.copy(os.path.join(ROOT, "data/tokenizers/llama2/tokenizer.json"), model)
    err_path = os.path.join(tmp, "serve.err")
    err = open(err_path, "w+")
    srv = subprocess.Popen([LONGCTX, "serve", "--model", model, "--port", "0", "--max-request-bytes", "20000", "--max-context", "300"],
                           stderr=err, text=True)
    port = None
    for _ in range(600):
        with open(err_path) as f:
            line = f.readline()
        if "http://" in line:
            port = int(line.rsplit(":", 1)[1].split()[0])
            break
        time.sleep(0.1)
    check("serve prints its address", port is not None)
    try:
        t0 = time.time()
        # The sequential answers, one request at a time (non-streamed).
        reference = {}
        for body in valid_bodies():
            st, _, text = post(port, body)
            reference[json.dumps(body, sort_keys=True)] = answer(st, text)
        check("sequential answers: all 200", all(isinstance(v, dict) for v in reference.values()),
              [v for v in reference.values() if not isinstance(v, dict)])
        rss_before = rss_kb(srv.pid)

        # The load: 8 threads at once, each a mix of streamed, non-streamed and invalid requests.
        rng = random.Random(5)
        jobs = [("valid", (b, s)) for b in valid_bodies() for s in (False, True)] + [("invalid", x) for x in INVALID] * 2
        rng.shuffle(jobs)
        jobs = (jobs * 2)[:THREADS * PER_THREAD]
        results, lock = [], threading.Lock()
        threads = [threading.Thread(target=client, args=(port, jobs[i::THREADS], reference, results, lock)) for i in range(THREADS)]
        t1 = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        load_s = time.time() - t1
        bad = [r for r in results if not r[2]]
        n_stream = sum(1 for k, item, _, _ in results if k == "valid" and item[1])
        check(f"{len(results)} requests from {THREADS} concurrent clients ({n_stream} streamed, "
              f"{sum(1 for r in results if r[0] == 'invalid')} invalid) in {load_s:.1f} s: every answer equal to the sequential one "
              f"or the expected 4xx", len(results) == THREADS * PER_THREAD and not bad, bad[:3])
        check("no 5xx", not any(isinstance(r[3], tuple) and len(r[3]) > 1 and str(r[3][1]).startswith("5") for r in results))

        # A client gone mid-stream: that generation stops; the server logs it and keeps serving.
        check("disconnect mid-stream: the first event arrived before the client went away", disconnect_mid_stream(port))
        st, _, text = post(port, {"prompt": "Once upon a time", "max_tokens": 16, "temperature": 0})
        check("after the disconnect: the same answer as before",
              answer(st, text) == reference[json.dumps({"prompt": "Once upon a time", "max_tokens": 16, "temperature": 0}, sort_keys=True)])
        st, _, text = post(port, None, path="/health", method="GET")
        check("still serving after the load", st == 200 and srv.poll() is None, (st, text))
        rss_after = rss_kb(srv.pid)
        check(f"memory bounded: RSS {rss_before // 1024} MB before the load, {rss_after // 1024} MB after",
              rss_after < rss_before + 64 * 1024, (rss_before, rss_after))
        print(f"load test: {time.time() - t0:.1f} s in all", flush=True)
    finally:
        died = srv.poll()
        srv.terminate()
        srv.wait(timeout=10)
        err.seek(0)
        log = err.read()
        err.close()
        if died is not None:  # what the server said before it went (a sanitizer's report, say)
            print(f"the server exited with {died} during the test; its stderr ends:\n{log[-12000:]}", flush=True)
    m = re.search(r"client disconnected after (\d+) tokens; generation stopped", log)
    check("the server logged the disconnect and stopped generating before the end (64 x 280 tokens)",
          m is not None and int(m.group(1)) < 64 * 280, log[-600:])

print("FAILED: " + ", ".join(failures) if failures else "all serve load checks passed")
sys.exit(1 if failures else 0)
