"""PyTorch measurements (placeholder group, filled in by the check library)."""

from __future__ import annotations

import torch

from grader.probes.library import probe


@probe("torch.param_counts")
def param_counts(model: torch.nn.Module) -> dict[str, int]:
    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    return {"total": total, "trainable": trainable, "non_trainable": total - trainable}
