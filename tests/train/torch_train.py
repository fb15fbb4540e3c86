#!/usr/bin/python3
"""The training reference: a LLaMA forward over a batch of packed sequences written with plain
torch ops in float64 (the RoPE tables of tests/model/torch_llama.py), differentiated by autograd,
and torch.optim.AdamW with Hugging Face's parameter groups (no decay on RMSNorm gains), torch's
clip_grad_norm_ and transformers' constant / cosine schedules. Independent of the C++ code: it
shares only the checkpoint files.
"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "model"))
import torch_llama  # noqa: E402


def sequence_losses(c, w, tokens, doc_start=None):
    """tokens: LongTensor [B, T]; doc_start: [B, T] first position of each position's document, or
    None. Returns the B sequence losses (mean cross-entropy of the T - 1 next-token predictions)."""
    B, T = tokens.shape
    H = c["num_attention_heads"]
    KV = c.get("num_key_value_heads", H)
    hd = c.get("head_dim") or c["hidden_size"] // H
    eps = c.get("rms_norm_eps", 1e-6)
    rope = torch_llama.Rope(c)
    rope.ensure(T)
    cos, sin = rope.cos[:T], rope.sin[:T]

    def norm(x, g):
        return g * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    qpos = torch.arange(T)[:, None]
    kpos = torch.arange(T)[None, :]
    mask = (kpos > qpos)[None, None]  # [1, 1, T, T]
    if doc_start is not None:
        mask = mask | (kpos[None] < doc_start[:, :, None])[:, None]  # keys before the query's document
    x = w["model.embed_tokens.weight"][tokens]
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = norm(x, w[p + "input_layernorm.weight"])
        q = (h @ w[p + "self_attn.q_proj.weight"].T).view(B, T, H, hd).transpose(1, 2)
        k = (h @ w[p + "self_attn.k_proj.weight"].T).view(B, T, KV, hd).transpose(1, 2)
        v = (h @ w[p + "self_attn.v_proj.weight"].T).view(B, T, KV, hd).transpose(1, 2)
        q, k = torch_llama.rotate(q, cos, sin), torch_llama.rotate(k, cos, sin)
        k = k.repeat_interleave(H // KV, 1)
        v = v.repeat_interleave(H // KV, 1)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        s = s.masked_fill(mask, float("-inf"))
        o = torch.softmax(s, -1) @ v
        x = x + o.transpose(1, 2).reshape(B, T, H * hd) @ w[p + "self_attn.o_proj.weight"].T
        h = norm(x, w[p + "post_attention_layernorm.weight"])
        x = x + (torch.nn.functional.silu(h @ w[p + "mlp.gate_proj.weight"].T) * (h @ w[p + "mlp.up_proj.weight"].T)) @ w[
            p + "mlp.down_proj.weight"].T
    x = norm(x, w["model.norm.weight"])
    out = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    logits = x[:, :-1] @ out.T
    ce = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1), reduction="none")
    return ce.view(B, T - 1).mean(1)


def grads(c, w, tokens, doc_start=None):
    """Losses and d(mean of the sequence losses)/d(every tensor)."""
    leaves = {k: v.clone().requires_grad_(True) for k, v in w.items()}
    losses = sequence_losses(c, leaves, tokens, doc_start)
    losses.mean().backward()
    return losses.detach(), {k: v.grad for k, v in leaves.items()}


def schedule_factor(kind, step, warmup, total, min_ratio):
    if step < warmup:
        return step / max(1, warmup)
    if kind != "cosine":
        return 1.0
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def train(c, w, batches, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, clip=1.0, schedule="constant", warmup=0,
          min_ratio=0.0, doc_starts=None):
    """AdamW steps over `batches` (a list of [B, T] token tensors): returns the losses, grad norms and
    learning rates per step, and the final weights."""
    params = {k: v.clone().requires_grad_(True) for k, v in w.items()}
    decay = [v for k, v in params.items() if not k.endswith("norm.weight")]
    no_decay = [v for k, v in params.items() if k.endswith("norm.weight")]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=lr,
                            betas=betas, eps=eps)
    out = []
    for step, toks in enumerate(batches):
        f = schedule_factor(schedule, step, warmup, len(batches), min_ratio)
        for g in opt.param_groups:
            g["lr"] = lr * f
        opt.zero_grad()
        losses = sequence_losses(c, params, toks, None if doc_starts is None else doc_starts[step])
        losses.mean().backward()
        norm = torch.nn.utils.clip_grad_norm_(list(params.values()), clip if clip > 0 else float("inf"))
        opt.step()
        out.append({"loss": losses.mean().item(), "grad_norm": norm.item(), "lr": lr * f})
    return out, {k: v.detach() for k, v in params.items()}
