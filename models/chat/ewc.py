"""Elastic weight consolidation (Kirkpatrick et al., 2017): a quadratic pull towards weights that mattered before."""

from collections.abc import Callable, Iterable

import torch


def diagonal_fisher(
    model: torch.nn.Module, batches: Iterable[tuple[torch.Tensor, ...]], loss_fn: Callable[..., torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Mean squared gradient of the log-likelihood per parameter (the empirical Fisher's diagonal)."""
    fisher = {name: torch.zeros_like(p) for name, p in model.named_parameters() if p.requires_grad}
    count = 0
    for batch in batches:
        model.zero_grad()
        loss_fn(*batch).backward()
        for name, p in model.named_parameters():
            if p.grad is not None:
                grad = p.grad.detach()
                fisher[name] += (grad.coalesce().to_dense() if grad.is_sparse else grad) ** 2
        count += 1
    model.zero_grad()
    return {name: f / max(count, 1) for name, f in fisher.items()}


def penalty(model: torch.nn.Module, fisher: dict[str, torch.Tensor], anchor: dict[str, torch.Tensor]) -> torch.Tensor:
    """Sum of F * (theta - theta*)^2 over the parameters that have a Fisher entry (rows beyond it are new, free)."""
    total = torch.zeros(())
    for name, p in model.named_parameters():
        if name not in fisher:
            continue
        f, a = fisher[name], anchor[name]
        rows = f.shape[0]
        total = total + (f * (p[:rows] - a) ** 2).sum()
    return total
