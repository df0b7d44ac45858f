"""LSTM over a device window: a next-step forecast at every step and, optionally, a remaining-useful-life head.

The RUL head predicts a Gaussian over ``log1p(min(RUL, cap))`` minutes at the last step, so one forward pass gives
the forecast residual (anomaly score), a median time to failure and ``P(RUL <= horizon)`` (failure probability).
"""

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


class SensorLSTM(nn.Module):
    """Small LSTM shared by a forecast head (all steps) and a RUL head (last step)."""

    def __init__(self, n_channels: int, hidden: int = 16, rul_head: bool = True) -> None:
        super().__init__()
        self.lstm = nn.LSTM(n_channels, hidden, batch_first=True)
        self.forecast = nn.Linear(hidden, n_channels)
        self.rul = nn.Linear(hidden, 2) if rul_head else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``x`` (batch, steps, channels) -> forecasts for steps 1.. (batch, steps-1, channels), RUL (batch, 2)."""
        out, _ = self.lstm(x)
        forecast = self.forecast(out[:, :-1])
        rul = self.rul(out[:, -1]) if self.rul is not None else None
        return forecast, rul

    def last_step(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Inference: only the forecast of the last step and the RUL output, to save the head over all steps."""
        out, _ = self.lstm(x)
        forecast = self.forecast(out[:, -2])
        rul = self.rul(out[:, -1]) if self.rul is not None else None
        return forecast, rul


@dataclass(frozen=True)
class TrainConfig:
    """Training knobs; the defaults train in about a minute on one core."""

    hidden: int = 16
    epochs: int = 6
    batch_size: int = 256
    lr: float = 3e-3
    rul_weight: float = 1.0
    seed: int = 0


def rul_target(rul_minutes: np.ndarray, cap: float) -> np.ndarray:
    """Piece-wise linear RUL (capped as in C-MAPSS work) on a log scale, so that minutes near failure weigh more."""
    return np.log1p(np.minimum(rul_minutes, cap))


def failure_probability(mu: np.ndarray, log_sigma: np.ndarray, horizon_minutes: float) -> np.ndarray:
    """``P(RUL <= horizon)`` under the predicted Gaussian on ``log1p(RUL)``."""
    z = (math.log1p(horizon_minutes) - mu) / np.exp(log_sigma)
    return 0.5 * (1.0 + _erf(z / math.sqrt(2.0)))


def _erf(x: np.ndarray) -> np.ndarray:
    return torch.erf(torch.from_numpy(np.asarray(x, dtype=np.float32))).numpy()


def train(
    windows: np.ndarray, rul: np.ndarray | None, config: TrainConfig, rul_cap: float = 240.0
) -> tuple[SensorLSTM, dict[str, float]]:
    """Fit on normalised windows (n, steps, channels); ``rul`` (n,) minutes at each window's last step, or None."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model = SensorLSTM(windows.shape[2], config.hidden, rul_head=rul is not None)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    x_all = torch.from_numpy(windows.astype(np.float32))
    y_all = torch.from_numpy(rul_target(rul, rul_cap).astype(np.float32)) if rul is not None else None
    history: dict[str, float] = {}
    for _ in range(config.epochs):
        order = rng.permutation(len(x_all))
        total_f = total_r = 0.0
        for start in range(0, len(order), config.batch_size):
            idx = torch.from_numpy(order[start : start + config.batch_size])
            x = x_all[idx]
            forecast, out = model(x)
            loss_f = nn.functional.mse_loss(forecast, x[:, 1:])
            loss = loss_f
            if out is not None and y_all is not None:
                mu, log_sigma = out[:, 0], out[:, 1].clamp(-4.0, 3.0)
                loss_r = (log_sigma + 0.5 * ((y_all[idx] - mu) / log_sigma.exp()) ** 2).mean()
                loss = loss + config.rul_weight * loss_r
                total_r += float(loss_r.detach()) * len(idx)
            optimiser.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            total_f += float(loss_f.detach()) * len(idx)
        history = {"forecast_mse": total_f / len(order), "rul_nll": total_r / len(order)}
    model.eval()
    return model, history


def quantize(model: SensorLSTM) -> nn.Module:
    """INT8 dynamic quantization of the LSTM and linear layers (weights int8, activations quantized on the fly)."""
    return torch.ao.quantization.quantize_dynamic(model, {nn.LSTM, nn.Linear}, dtype=torch.qint8)
