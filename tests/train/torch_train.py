#!/usr/bin/python3
"""The training reference: the forward of tests/model/torch_models.py (every family of
docs/models.md) over a batch of packed sequences in float64, differentiated by autograd, and
torch.optim.AdamW with Hugging Face's parameter groups (no decay on RMSNorm gains or biases), torch's
clip_grad_norm_ and transformers' constant / cosine schedules. Independent of the C++ code: it
shares only the checkpoint files.
"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "model"))
import torch_models  # noqa: E402


def sequence_losses(c, w, tokens, doc_start=None):
    """tokens: LongTensor [B, T]; doc_start: [B, T] first position of each position's document, or
    None. Returns the B sequence losses (mean cross-entropy of the T - 1 next-token predictions).
    Every family of docs/models.md: torch_models.sequence_losses."""
    return torch_models.sequence_losses(c, w, tokens, doc_start)


def no_decay(name):
    """Hugging Face Trainer's groups: no weight decay on RMSNorm gains and biases."""
    return "norm.weight" in name or name.endswith(".bias")


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
    decay = [v for k, v in params.items() if not no_decay(k)]
    plain = [v for k, v in params.items() if no_decay(k)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay}, {"params": plain, "weight_decay": 0.0}], lr=lr,
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
