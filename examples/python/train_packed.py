#!/usr/bin/python3
"""Continual pretraining on longctx's packed output from a plain PyTorch loop, with document
masking as the paper's packed training: each packed sequence holds several documents; attention
stays inside a document and position ids restart at each one (PackedDataset's position_ids and
cu_seqlens). The model is a LLaMA (config.json + model.safetensors, as `longctx train` writes and
Hugging Face publishes), written here in a few lines of torch so the example needs nothing else;
with torch >= 2 and flash-attn, pass cu_seqlens to flash_attn_varlen_func instead of the mask.

    /usr/bin/python3 examples/python/train_packed.py --data out/packed --model out/model \\
        --steps 20 --batch 4 --lr 1e-3 [--rope-theta 500000] [--log train.jsonl]

Loss: the mean over sequences of each sequence's mean next-token cross-entropy (labels are
input_ids, shifted here; the last position predicts nothing), as `longctx train` computes it, so
the two agree on the same batch and weights (tests/python/test_train_example.py).
"""
import argparse
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

import longctx


def read_safetensors(path):
    """{name: float32 tensor} of an F32/BF16/F16 safetensors file (8-byte header size, JSON header, data)."""
    raw = open(path, "rb").read()
    n = struct.unpack_from("<Q", raw)[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, v in header.items():
        if name == "__metadata__":
            continue
        a, b = v["data_offsets"]
        buf = bytearray(raw[8 + n + a:8 + n + b])
        if v["dtype"] == "F32":
            x = torch.frombuffer(buf, dtype=torch.float32)
        elif v["dtype"] in ("BF16", "F16"):
            x = torch.frombuffer(buf, dtype=torch.int16).view(torch.bfloat16 if v["dtype"] == "BF16" else torch.float16)
        else:
            sys.exit(f"{path}: {name}: dtype {v['dtype']} is not handled by this example")
        out[name] = x.reshape(v["shape"]).float()
    return out


class Llama(torch.nn.Module):
    """LLaMA: RMSNorm, rotary attention with grouped KV heads, SwiGLU; tied or untied head."""

    def __init__(self, c, weights, rope_theta=None):
        super().__init__()
        self.c = c
        self.H, self.KV = c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"])
        self.hd = c.get("head_dim") or c["hidden_size"] // self.H
        self.eps = c.get("rms_norm_eps", 1e-6)
        theta = rope_theta or c.get("rope_theta", 10000.0)
        self.register_buffer("inv_freq", 1.0 / theta ** (torch.arange(0, self.hd, 2, dtype=torch.float64) / self.hd), persistent=False)
        self.w = torch.nn.ParameterDict({k.replace(".", "__"): torch.nn.Parameter(v) for k, v in weights.items()})

    def p(self, name):
        return self.w[name.replace(".", "__")]

    def norm(self, x, name):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.p(name)

    def rope(self, x, pos):  # x (B, T, heads, hd), pos (B, T): rotate-half, as HF's LLaMA
        ang = pos[..., None].double() * self.inv_freq  # (B, T, hd/2)
        cos, sin = torch.cat([ang, ang], -1).cos().float()[:, :, None], torch.cat([ang, ang], -1).sin().float()[:, :, None]
        x1, x2 = x[..., : self.hd // 2], x[..., self.hd // 2:]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    def forward(self, ids, pos, mask):
        """ids, pos (B, T); mask (B, 1, T, T) bool, True where a query may attend a key."""
        B, T = ids.shape
        x = F.embedding(ids, self.p("model.embed_tokens.weight"))
        for i in range(self.c["num_hidden_layers"]):
            L = f"model.layers.{i}."
            h = self.norm(x, L + "input_layernorm.weight")
            q = (h @ self.p(L + "self_attn.q_proj.weight").T).view(B, T, self.H, self.hd)
            k = (h @ self.p(L + "self_attn.k_proj.weight").T).view(B, T, self.KV, self.hd)
            v = (h @ self.p(L + "self_attn.v_proj.weight").T).view(B, T, self.KV, self.hd)
            q, k = self.rope(q, pos), self.rope(k, pos)
            rep = self.H // self.KV
            q, k, v = q.transpose(1, 2), k.repeat_interleave(rep, 2).transpose(1, 2), v.repeat_interleave(rep, 2).transpose(1, 2)
            s = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd)
            a = torch.softmax(s.masked_fill(~mask, float("-inf")), -1) @ v
            x = x + a.transpose(1, 2).reshape(B, T, -1) @ self.p(L + "self_attn.o_proj.weight").T
            h = self.norm(x, L + "post_attention_layernorm.weight")
            g, u = h @ self.p(L + "mlp.gate_proj.weight").T, h @ self.p(L + "mlp.up_proj.weight").T
            x = x + (F.silu(g) * u) @ self.p(L + "mlp.down_proj.weight").T
        x = self.norm(x, "model.norm.weight")
        head = "lm_head.weight" if "lm_head__weight" in self.w else "model.embed_tokens.weight"
        return x @ self.p(head).T


def document_mask(position_ids):
    """Causal attention inside each document: a new document starts where position_ids is 0."""
    doc = torch.cumsum((position_ids == 0).long(), dim=1)  # (B, T) document number
    T = position_ids.shape[1]
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    return (doc[:, :, None] == doc[:, None, :]) & causal  # (B, T, T)


def loss_of(logits, labels):
    """Mean over sequences of each sequence's mean cross-entropy of position t against labels[t + 1]."""
    per_token = F.cross_entropy(logits[:, :-1].transpose(1, 2), labels[:, 1:], ignore_index=-100, reduction="none")
    valid = (labels[:, 1:] != -100).float()
    return (per_token.sum(1) / valid.sum(1).clamp(min=1)).mean()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="packed output folder (any layout) or a bare .jsonl file")
    ap.add_argument("--model", required=True, help="folder with config.json and model.safetensors (LLaMA)")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--batch", type=int, default=4, help="sequences per step")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=0.0, help="on matrices, not on norm gains (as longctx train)")
    ap.add_argument("--beta1", type=float, default=0.9)
    ap.add_argument("--beta2", type=float, default=0.95)
    ap.add_argument("--eps", type=float, default=1e-8)
    ap.add_argument("--rope-theta", type=float, help="a new RoPE base (the paper's ABF)")
    ap.add_argument("--no-doc-mask", action="store_true", help="plain causal attention over the whole sequence")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--log", help="one JSON line per step: step, loss, tokens_per_s")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)

    c = json.load(open(os.path.join(a.model, "config.json")))
    model = Llama(c, read_safetensors(os.path.join(a.model, "model.safetensors")), a.rope_theta)
    decay = [p for n, p in model.w.items() if p.dim() >= 2]
    no_decay = [p for n, p in model.w.items() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(a.beta1, a.beta2), eps=a.eps)
    ds = longctx.PackedDataset(a.data)
    loader = torch.utils.data.DataLoader(ds, batch_size=a.batch, shuffle=False, drop_last=True, collate_fn=longctx.collate)
    log = open(a.log, "w") if a.log else None
    step = 0
    while step < a.steps:
        for batch in loader:
            t0 = time.time()
            pos = batch["position_ids"]
            T = pos.shape[1]
            if a.no_doc_mask:
                pos = torch.arange(T).expand_as(pos)
                mask = torch.ones(T, T, dtype=torch.bool).tril().expand(pos.shape[0], T, T)
            else:
                mask = document_mask(pos)
            loss = loss_of(model(batch["input_ids"], pos, mask[:, None]), batch["labels"])
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            row = {"step": step, "loss": loss.item(), "tokens_per_s": batch["input_ids"].numel() / (time.time() - t0)}
            print(json.dumps(row), file=log or sys.stdout, flush=True)
            if step == a.steps:
                break
    if log:
        log.close()


if __name__ == "__main__":
    try:
        main()
    except longctx.Error as e:
        sys.exit(f"train_packed.py: {e}")
