"""Minority-class augmentation: a small tabular GAN (torch MLPs) that generates synthetic fraud feature rows.

Rows are standardised per feature before training and mapped back after sampling, then clipped to the range seen in
real frauds so trees never see impossible values. Whether the synthetic rows help is decided on the validation period
(see the experiment), never assumed.
"""

import numpy as np
import torch
from torch import nn


class TabularGAN:
    """Generator and discriminator MLPs trained with the non-saturating GAN loss on standardised rows."""

    def __init__(self, latent_dim: int = 16, hidden: int = 64, seed: int = 0) -> None:
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.seed = seed
        self.generator: nn.Module | None = None
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        self.low: np.ndarray | None = None
        self.high: np.ndarray | None = None

    def fit(self, X: np.ndarray, steps: int = 600, batch_size: int = 128, lr: float = 2e-3) -> "TabularGAN":
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        self.mean, self.std = X.mean(0), X.std(0) + 1e-6
        self.low, self.high = X.min(0), X.max(0)
        data = torch.tensor((X - self.mean) / self.std, dtype=torch.float32)
        n_feat = X.shape[1]
        self.generator = nn.Sequential(
            nn.Linear(self.latent_dim, self.hidden),
            nn.ReLU(),
            nn.Linear(self.hidden, self.hidden),
            nn.ReLU(),
            nn.Linear(self.hidden, n_feat),
        )
        critic = nn.Sequential(
            nn.Linear(n_feat, self.hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(self.hidden, self.hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(self.hidden, 1),
        )
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=lr, betas=(0.5, 0.9))
        opt_d = torch.optim.Adam(critic.parameters(), lr=lr, betas=(0.5, 0.9))
        bce = nn.BCEWithLogitsLoss()
        ones, zeros = torch.ones(batch_size, 1), torch.zeros(batch_size, 1)
        for _ in range(steps):
            real = data[torch.from_numpy(rng.integers(0, len(data), batch_size))]
            fake = self.generator(torch.randn(batch_size, self.latent_dim))
            loss_d = bce(critic(real), ones) + bce(critic(fake.detach()), zeros)
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            loss_g = bce(critic(fake), ones)
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
        return self

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """``n`` synthetic rows in the original feature space."""
        if self.generator is None:
            raise RuntimeError("fit the GAN first")
        gen = torch.Generator().manual_seed(self.seed if seed is None else seed)
        with torch.no_grad():
            z = torch.randn(n, self.latent_dim, generator=gen)
            rows = self.generator(z).numpy().astype(np.float64)
        return np.clip(rows * self.std + self.mean, self.low, self.high)
