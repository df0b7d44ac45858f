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


@torch.no_grad()
def proximal_step(
    parameter: torch.Tensor,
    fisher: torch.Tensor,
    anchor: torch.Tensor,
    strength: float,
    rows: torch.Tensor | None = None,
) -> None:
    """Exact minimiser of |theta - p|^2 / 2 + strength/2 * F * (theta - anchor)^2, in place.

    ``strength`` is learning rate x lambda; the closed form is stable for any value, unlike a gradient step
    on the penalty. Rows beyond the Fisher's (intents added later) are free. Given ``rows``, only those are
    stepped: a row still at its anchor is where the step would leave it, so a large embedding whose feedback
    moved a few rows costs those rows, not all of them.
    """
    if rows is not None:
        pull = strength * fisher[rows]
        parameter[rows] = (parameter[rows] + pull * anchor[rows]) / (1 + pull)
        return
    n = fisher.shape[0]
    pull = strength * fisher
    parameter[:n] = (parameter[:n] + pull * anchor) / (1 + pull)
