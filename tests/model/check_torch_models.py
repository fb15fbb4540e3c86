#!/usr/bin/python3
"""Self-checks of the PyTorch references (tests/model/torch_models.py), no C++ build needed:

- config resolution of every family case (head_dim, tying, which layers slide and with which
  table, scales, caps) as docs/models.md states it;
- a second, naive implementation (loops over positions and heads, RoPE as explicit rotations of
  the pairs (i, i + rotary_dim / 2) with math.cos / math.sin, the window as "keys in (p - W, p]")
  gives the same logits on every model case;
- the window boundary: in a one-layer model the token at p - W does not reach position p, the one at
  p - W + 1 does;
- KV-cache semantics: token-by-token = one prefill = chunked prefill where they must agree
  (LongRoPE: only below orig, and the switch matters past it);
- the trainer's batched losses = the model's per-sequence losses, and with document masking each
  document's tokens score as the document alone (RoPE is relative);
- autograd gradients = central finite differences on tiny models of every family;
- LongRoPE's attention factor and short / long switch.

usage: check_torch_models.py   (run with /usr/bin/python3: Debian's torch)
"""
import math
import os
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
import family_cases  # noqa: E402
import torch_models as tm  # noqa: E402
from checklist import check, failures  # noqa: E402


def naive_logits(c, w, ids, theta=None):
    """One prefill of ids from position 0, written as loops from docs/models.md's layer listing."""
    s = tm.Spec(c)
    n = len(ids)
    H, KV, hd, r = s.H, s.KV, s.hd, s.rot
    rs = c.get("rope_scaling") or {}
    kind = tm.rope_kind(c)

    def angles(p, local):
        """(angle per pair, attention factor) at position p for a prefill of n positions."""
        if local:
            return [p * s.local_theta ** (-2 * i / r) for i in range(r // 2)], 1.0
        base = theta or c.get("rope_theta", 10000.0)
        if kind == "longrope":
            if c.get("original_max_position_embeddings"):
                orig = c["original_max_position_embeddings"]
                factor = c["max_position_embeddings"] / orig
            else:
                orig, factor = rs.get("original_max_position_embeddings") or c["max_position_embeddings"], rs.get("factor") or 1.0
            mult = rs.get("attention_factor") or (1.0 if factor <= 1 else math.sqrt(1 + math.log(factor) / math.log(orig)))
            ext = rs["long_factor"] if n > orig else rs["short_factor"]
            return [p / (ext[i] * base ** (2 * i / r)) for i in range(r // 2)], mult
        assert kind in ("default", "linear"), kind
        t = p / rs["factor"] if kind == "linear" else p
        return [t * base ** (-2 * i / r) for i in range(r // 2)], 1.0

    def rope(vec, p, local):
        out = vec.clone()
        ang, mult = angles(p, local)
        for i, a in enumerate(ang):
            x1, x2 = float(vec[i]), float(vec[i + r // 2])
            out[i] = mult * (x1 * math.cos(a) - x2 * math.sin(a))
            out[i + r // 2] = mult * (x2 * math.cos(a) + x1 * math.sin(a))
        return out

    def norm(x, g):
        y = x / torch.sqrt((x * x).mean(-1, keepdim=True) + s.eps)
        return y * (1 + g) if s.gemma else y * g

    def lin(h, name):
        y = h @ w[name + ".weight"].T
        return y + w[name + ".bias"] if name + ".bias" in w else y

    x = torch.stack([w["model.embed_tokens.weight"][t] for t in ids])
    if s.gemma:
        x = x * float(np.float32(math.sqrt(s.D)))
    for li in range(s.L):
        p = f"model.layers.{li}."
        h = norm(x, w[p + "input_layernorm.weight"])
        if s.fused:
            qkv = h @ w[p + "self_attn.qkv_proj.weight"].T
            q, k, v = qkv[:, :H * hd], qkv[:, H * hd:(H + KV) * hd], qkv[:, (H + KV) * hd:]
        else:
            q, k, v = lin(h, p + "self_attn.q_proj"), lin(h, p + "self_attn.k_proj"), lin(h, p + "self_attn.v_proj")
        att = torch.zeros(n, H * hd, dtype=torch.float64)
        local = s.local[li]
        W = s.window[li]
        for kvh in range(KV):
            keys = []
            for j in range(n):
                kj = k[j, kvh * hd:(kvh + 1) * hd]
                if s.qk_norm:
                    kj = norm(kj, w[p + "self_attn.k_norm.weight"])
                keys.append(rope(kj, j, local))
            keys = torch.stack(keys)
            for hh in range(kvh * (H // KV), (kvh + 1) * (H // KV)):
                for i in range(n):
                    qi = q[i, hh * hd:(hh + 1) * hd]
                    if s.qk_norm:
                        qi = norm(qi, w[p + "self_attn.q_norm.weight"])
                    qi = rope(qi, i, local)
                    lo = max(0, i - W + 1) if W else 0  # keys in (i - W, i]
                    sc = keys[lo:i + 1] @ qi
                    sc = sc / math.sqrt(c.get("query_pre_attn_scalar", 256)) if s.gemma else sc / math.sqrt(hd)
                    if s.attn_cap:
                        sc = s.attn_cap * torch.tanh(sc / s.attn_cap)
                    pr = torch.exp(sc - sc.max())
                    pr = pr / pr.sum()
                    att[i, hh * hd:(hh + 1) * hd] = pr @ v[lo:i + 1, kvh * hd:(kvh + 1) * hd]
        a = lin(att, p + "self_attn.o_proj")
        if s.gemma:
            a = norm(a, w[p + "post_attention_layernorm.weight"])
        x = x + a
        h = norm(x, w[p + ("pre_feedforward_layernorm.weight" if s.gemma else "post_attention_layernorm.weight")])
        if s.fused:
            gu = h @ w[p + "mlp.gate_up_proj.weight"].T
            g, u = gu[:, :s.I], gu[:, s.I:]
        else:
            g, u = lin(h, p + "mlp.gate_proj"), lin(h, p + "mlp.up_proj")
        act = g / (1 + torch.exp(-g)) if not s.gemma else 0.5 * g * (1 + torch.tanh(math.sqrt(2 / math.pi) * (g + 0.044715 * g ** 3)))
        m = lin(act * u, p + "mlp.down_proj")
        if s.gemma:
            m = norm(m, w[p + "post_feedforward_layernorm.weight"])
        x = x + m
    x = norm(x, w["model.norm.weight"])
    logits = x @ w.get("lm_head.weight", w["model.embed_tokens.weight"]).T
    if s.final_cap:
        logits = s.final_cap * torch.tanh(logits / s.final_cap)
    return logits


def rel(a, b):
    return float((a - b).abs().max() / b.abs().max())


EXPECT = {  # name -> (head_dim, tied, windows per layer, local-table layers)
    "llama-attention-mlp-bias": (16, False, [0, 0], []),
    "mistral-window-100": (16, False, [100, 100], []),
    "qwen2-bias-tied-no-window": (16, True, [0, 0], []),
    "qwen2-sliding-layers": (16, False, [0, 80, 80], []),
    "qwen3-qk-norm-bias-hd128": (128, False, [0, 0], []),
    "gemma2-softcap-windows": (32, True, [48, 0, 48, 0], []),
    "gemma3-pattern-local-rope": (32, True, [40, 0, 40, 0], [0, 2]),
    "gemma3-layer-types-theta": (16, True, [0, 24, 24], [1, 2]),
    "phi3-longrope-partial": (16, False, [0, 0], []),
    "phi3-su-window-90": (16, False, [90, 90], []),
}

rng = np.random.default_rng(3)
with tempfile.TemporaryDirectory() as tmp:
    # --- Defaults of docs/models.md.
    for fam, want in [("gemma2", (256, True, 4096, 50.0, 30.0, 256 ** -0.5)), ("gemma3", (256, True, 4096, None, None, 256 ** -0.5)),
                      ("qwen3", (128, False, 0, None, None, None)), ("mistral", (16, False, 4096, None, None, None))]:
        s = tm.Spec({"architectures": [tm.ARCH[fam]], **family_cases.MODEL_BASE, "num_hidden_layers": 6})
        got = (s.hd, s.tied, max(s.window), s.attn_cap, s.final_cap, s.attn_scale)
        check(f"defaults: {fam} (head_dim, tied, window, attn cap, final cap, scale) = {want}", got == want, got)
    s = tm.Spec({"architectures": [tm.ARCH["gemma3"]], **family_cases.MODEL_BASE, "num_hidden_layers": 12})
    check("defaults: Gemma 3 sliding_window_pattern 6 -> layers 5 and 11 global", [i for i in range(12) if not s.local[i]] == [5, 11])
    s = tm.Spec({"architectures": [tm.ARCH["qwen2"]], **family_cases.MODEL_BASE, "num_hidden_layers": 30, "use_sliding_window": True})
    check("defaults: Qwen2 use_sliding_window -> layers >= 28 slide with W 4096", s.window == [0] * 28 + [4096] * 2, s.window)

    for k, case in enumerate(family_cases.MODEL_CASES):
        name = case["name"]
        d = os.path.join(tmp, name)
        tm.write_checkpoint(d, case["family"], case["config"], seed=700 + k, dtype=case["dtype"])
        theta = case["opts"].get("theta")
        m = tm.Model(d, theta)
        s = m.s
        got = (s.hd, s.tied, s.window, [i for i in range(s.L) if s.local[i]])
        check(f"{name}: head_dim, tying, windows, local layers as documented", got == EXPECT[name], got)
        c, w = m.c, m.w
        # Naive loops = the vectorized reference: the naive one is slow, so 70 positions, with the
        # windows cut to 30 and LongRoPE's orig to 50 so that both still bite.
        n = 70
        ids = [int(x) for x in rng.integers(0, s.V, 300)]
        cn = dict(c)
        if cn.get("sliding_window"):
            cn["sliding_window"] = min(cn["sliding_window"], 30)
        if cn.get("original_max_position_embeddings"):
            cn["original_max_position_embeddings"] = 50  # n = 70 > 50: long factors
        mm = tm.Model(None, theta, config=cn, weights=w)
        e = rel(mm.forward(ids[:n]), naive_logits(cn, w, ids[:n], theta))
        check(f"{name}: naive loops = reference over {n} positions (rel {e:.1e})", e < 1e-12)
        # KV-cache semantics.
        full = m.forward(ids)
        m.reset()
        chunks = torch.cat([m.forward(ids[a:a + 100]) for a in range(0, 300, 100)])
        check(f"{name}: chunked prefill (100) = one prefill", rel(chunks, full) < 1e-12)
        m.reset()
        inc = torch.cat([m.forward([t]) for t in ids[:120]])
        if tm.rope_kind(c) == "longrope":
            orig = c["original_max_position_embeddings"]
            m.reset()
            short = m.forward(ids[:orig])
            check(f"{name}: token by token = prefill below orig {orig} (short factors)", rel(inc[:orig], short) < 1e-12)
            check(f"{name}: past orig, token by token (short-rotated cache) != prefill (long)", rel(inc[orig:], full[orig:120]) > 1e-3)
        else:
            check(f"{name}: token by token (120) = prefill", rel(inc, full[:120]) < 1e-12, rel(inc, full[:120]))
        # Every option really acts.
        for label, change in case["matters"]:
            c2, w2 = family_cases.apply_changes(c, w, change)
            e = rel(tm.Model(None, theta, config=c2, weights=w2).forward(ids), full)
            check(f"{name}: {label} changes the logits (rel {e:.1e})", e > 1e-3)
        if s.attn_cap:
            check(f"{name}: attention soft-cap clips (max |score| {m.stats['max_score']:.1f} vs cap {s.attn_cap})",
                  m.stats["max_score"] > 1.5 * s.attn_cap)
        if s.final_cap:
            check(f"{name}: final soft-cap clips (max |logit| {m.stats['max_logit']:.1f} vs cap {s.final_cap})",
                  m.stats["max_logit"] > 1.5 * s.final_cap)

    # --- Window boundary: one layer, W = 10: position 40 sees keys 31..40.
    for fam in ("mistral", "gemma2", "phi3"):
        d = os.path.join(tmp, "w-" + fam)
        tm.write_checkpoint(d, fam, {**family_cases.MODEL_BASE, "num_hidden_layers": 1, "sliding_window": 10, "head_dim": 16,
                                     "query_pre_attn_scalar": 16}, seed=5)
        m = tm.Model(d)
        ids = [int(x) for x in rng.integers(0, 512, 41)]
        base = m.forward(ids)[40]
        outside, inside = list(ids), list(ids)
        outside[30] = (ids[30] + 1) % 512
        inside[31] = (ids[31] + 1) % 512
        m.reset()
        a = float((m.forward(outside)[40] - base).abs().max())
        m.reset()
        b = float((m.forward(inside)[40] - base).abs().max())
        check(f"window boundary ({fam}): key p - W does not reach p ({a:.0e}), key p - W + 1 does ({b:.1e})", a == 0 and b > 1e-6)

    # --- LongRoPE tables.
    c = {"architectures": [tm.ARCH["phi3"]], **family_cases.MODEL_CASES[8]["config"]}
    r = tm.Rope(c)
    check("LongRoPE attention factor sqrt(1 + ln 4 / ln 64)", abs(r.attn - math.sqrt(1 + math.log(4) / math.log(64))) < 1e-15)
    c64, c65 = r.table(0, 64), r.table(0, 65)
    check("LongRoPE: a call ending at 64 uses short factors, at 65 long ones",
          torch.allclose(c64[0][10], torch.cos(10 * r.short) * r.attn) and torch.allclose(c65[0][10], torch.cos(10 * r.long) * r.attn))

    # --- Trainer losses = model losses; documents alone.
    for k, case in enumerate(family_cases.GRAD_CASES):
        name, T = case["name"], 90
        d = os.path.join(tmp, "g-" + name)
        tm.write_checkpoint(d, case["family"], case["config"], seed=900 + k)
        c, w = tm.load(d)
        toks = torch.tensor(rng.integers(0, c["vocab_size"], (2, T)))
        losses = tm.sequence_losses(c, w, toks)
        m = tm.Model(d)
        want = []
        for b in range(2):
            m.reset()
            lp = torch.log_softmax(m.forward(toks[b].tolist()), -1)
            want.append(float(-lp[torch.arange(T - 1), toks[b, 1:]].mean()))
        check(f"{name}: batched trainer losses = the model's per-sequence losses", np.allclose(losses.numpy(), want, rtol=1e-13, atol=0))
        if tm.rope_kind(c) != "longrope":
            cuts = [0, 23, 51, T]
            ds = torch.tensor(np.repeat(cuts[:-1], np.diff(cuts)))[None].repeat(2, 1)
            s = tm.Spec(c)
            tables = {"global": tm.Rope(c).table(0, T)}
            if any(s.local):
                tables["local"] = tm.Rope(s.local_config()).table(0, T)
            masked = tm.head(s, w, tm.run(s, w, toks, 0, tables, doc_start=ds))
            worst = 0.0
            for a, b in zip(cuts, cuts[1:]):
                m.reset()
                worst = max(worst, rel(m.forward(toks[0, a:b].tolist()), masked[0, a:b]))
            check(f"{name}: with document masking each document scores as if alone (rel {worst:.0e})", worst < 1e-10)

    # --- Autograd = finite differences, tiny models of every family.
    tiny = {"vocab_size": 40, "hidden_size": 16, "intermediate_size": 24, "num_hidden_layers": 2, "num_attention_heads": 4,
            "num_key_value_heads": 2, "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "head_dim": 8}
    extras = {"llama": {"attention_bias": True, "mlp_bias": True}, "mistral": {"sliding_window": 5},
              "qwen2": {"use_sliding_window": True, "sliding_window": 5, "max_window_layers": 1}, "qwen3": {"attention_bias": True},
              "gemma2": {"query_pre_attn_scalar": 6, "attn_logit_softcapping": 1.0, "final_logit_softcapping": 3.0, "sliding_window": 5},
              "gemma3": {"sliding_window_pattern": 2, "sliding_window": 5, "rope_scaling": {"rope_type": "linear", "factor": 2.0}},
              "phi3": {"original_max_position_embeddings": 8, "partial_rotary_factor": 0.5, "sliding_window": 6,
                       "rope_scaling": {"type": "longrope", "short_factor": [1.0, 1.5], "long_factor": [2.0, 5.0]}}}
    for fam, extra in extras.items():
        d = os.path.join(tmp, "fd-" + fam)
        tm.write_checkpoint(d, fam, {**tiny, **extra}, seed=4, scale=0.5)
        c, w = tm.load(d)
        toks = torch.tensor(rng.integers(0, 40, (2, 12)))
        ds = torch.tensor([[0] * 5 + [5] * 7, [0] * 12])
        leaves = {k: v.clone().requires_grad_(True) for k, v in w.items()}
        tm.sequence_losses(c, leaves, toks, ds).mean().backward()
        worst = 0.0
        for name, t in w.items():
            for _ in range(3):
                idx = tuple(int(rng.integers(0, n)) for n in t.shape)
                hi, lo = dict(w), dict(w)
                hi[name], lo[name] = t.clone(), t.clone()
                hi[name][idx] += 1e-6
                lo[name][idx] -= 1e-6
                fd = (tm.sequence_losses(c, hi, toks, ds).mean() - tm.sequence_losses(c, lo, toks, ds).mean()).item() / 2e-6
                worst = max(worst, abs(fd - leaves[name].grad[idx].item()) / (1e-2 + abs(fd)))
        check(f"{fam}: autograd = central differences within 1e-6 (|diff| / (0.01 + |fd|): worst {worst:.0e}, {len(w)} tensors)",
              worst < 1e-6)

print("FAILED: " + ", ".join(failures) if failures else "all reference self-checks passed")
sys.exit(1 if failures else 0)
