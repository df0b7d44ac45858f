import numpy as np
import torch

from streamsense.models.fraud.gan import TabularGAN


def test_gan_samples_are_seeded_in_range_and_move_towards_the_data() -> None:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(50, 5, 400), rng.uniform(0, 1, 400)])
    a = TabularGAN(seed=1).fit(X, steps=150).sample(300)
    b = TabularGAN(seed=1).fit(X, steps=150).sample(300)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (300, 2)
    assert (a >= X.min(0)).all() and (a <= X.max(0)).all()
    assert abs(a[:, 0].mean() - 50) < 5
