#!/usr/bin/python3
"""The LLaMA entry points of the PyTorch reference, kept for the tests that use them: a thin
layer over tests/model/torch_models.py (every family). `write_checkpoint` writes a LLaMA (or,
with config["architectures"], another family) with the same random draws as before;
`Llama(dir, theta, pin)` is torch_models.Model.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_models import Model, Rope, inv_freq_for, load, rotate  # noqa: E402,F401
import torch_models  # noqa: E402


def write_checkpoint(d, config, seed, dtype="f32", scale=0.15, shards=1):
    family = torch_models.family_of(config)
    torch_models.write_checkpoint(d, family, config, seed, dtype=dtype, shards=shards, scale=scale)


Llama = Model
__all__ = ["Llama", "Model", "Rope", "inv_freq_for", "load", "rotate", "write_checkpoint"]
