"""Saliency is exact back-propagation through the network the TFLite model runs."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.ml.network import DenseLayer, DenseNetwork, ModelInfo
from kiosk.ml.saliency import SaliencyExplainer, saliency
from tests.ml.explain_synthetic import SIGNAL, fit_network, synthetic


def forward_log_odds(network: DenseNetwork, x: np.ndarray, target: int) -> np.ndarray:
    """Log-odds of the target computed only from ``network.forward`` (the reference)."""
    p = network.forward(np.atleast_2d(x)).astype(np.float64)
    return np.log(p[:, target]) - np.log(1.0 - p[:, target])


@pytest.fixture(scope="module")
def trained() -> tuple[DenseNetwork, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    X, y = synthetic()
    network, mean, scale = fit_network(X, y)
    return network, (X - mean) / scale, y, mean, scale


def random_network(seed: int, n_in: int = 24, hidden: int = 16, k: int = 4) -> DenseNetwork:
    rng = np.random.default_rng(seed)
    info = ModelInfo(
        tuple(f"c{i}" for i in range(k)), "current", tuple(f"f{i}" for i in range(n_in))
    )
    return DenseNetwork(
        (
            DenseLayer(
                rng.normal(size=(n_in, hidden)) * 0.3, rng.normal(size=hidden) * 0.1, "relu"
            ),
            DenseLayer(rng.normal(size=(hidden, k)) * 0.3, rng.normal(size=k) * 0.1, "softmax"),
        ),
        info,
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_matches_finite_differences_of_forward(seed: int) -> None:
    network = random_network(seed)
    rng = np.random.default_rng(100 + seed)
    explainer = SaliencyExplainer(network, method="gradient")
    checked = 0
    while checked < 5:
        x = rng.normal(size=24)
        target = int(rng.integers(4))
        hidden = x @ network.layers[0].weights + network.layers[0].bias
        if np.abs(hidden).min() < 0.05:
            continue  # a ReLU kink within reach of the finite difference: not differentiable
        checked += 1
        grad = explainer.gradient(x, target)[0]
        eps = 1e-2
        plus = x + eps * np.eye(24)
        minus = x - eps * np.eye(24)
        numeric = (
            forward_log_odds(network, plus, target) - forward_log_odds(network, minus, target)
        ) / (2 * eps)
        # float32 forward and ReLU kinks allow small differences, never a wrong sign on
        # the features that matter.
        np.testing.assert_allclose(grad, numeric, atol=5e-3 + 0.02 * np.abs(grad).max())
        big = np.abs(grad) > 0.1 * np.abs(grad).max()
        assert np.all(np.sign(grad[big]) == np.sign(numeric[big]))


def test_explainer_log_odds_agrees_with_forward() -> None:
    network = random_network(5)
    x = np.random.default_rng(5).normal(size=(8, 24))
    explainer = SaliencyExplainer(network)
    for target in range(4):
        np.testing.assert_allclose(
            explainer.log_odds(x, target), forward_log_odds(network, x, target), atol=1e-4
        )


def test_gradient_saliency_sign_is_what_moving_the_feature_does() -> None:
    network = random_network(7)
    rng = np.random.default_rng(7)
    baseline = rng.normal(size=24)
    while np.abs(baseline @ network.layers[0].weights + network.layers[0].bias).min() < 0.05:
        baseline = rng.normal(size=24)  # keep clear of ReLU kinks (not differentiable there)
    x = baseline.copy()
    # Small steps from the baseline: first-order is then accurate, so the saliency of each
    # feature must equal the change in log-odds that moving just that feature causes.
    x[[2, 9, 17]] += np.array([0.02, -0.015, 0.01])
    s = saliency(network, x, 1, baseline, method="gradient")
    for i in (2, 9, 17):
        moved = baseline.copy()
        moved[i] = x[i]
        effect = (forward_log_odds(network, moved, 1) - forward_log_odds(network, baseline, 1))[0]
        assert s[i] == pytest.approx(effect, abs=2e-4 + 0.05 * abs(effect))
    untouched = np.setdiff1d(np.arange(24), [2, 9, 17])
    assert np.all(s[untouched] == 0)


@pytest.mark.parametrize("seed", [0, 3])
def test_integrated_contributions_add_up_to_the_change_in_log_odds(seed: int) -> None:
    network = random_network(seed)
    rng = np.random.default_rng(seed)
    baseline = rng.normal(size=24) * 0.2
    x = rng.normal(size=24)
    for target in range(4):
        s = saliency(network, x, target, baseline, method="integrated", steps=256)
        change = (
            forward_log_odds(network, x, target) - forward_log_odds(network, baseline, target)
        )[0]
        assert s.sum() == pytest.approx(change, abs=0.02 + 0.02 * abs(change))


def test_folded_network_gives_the_same_saliency_with_the_raw_mean_as_baseline(trained) -> None:
    network, Z, y, mean, scale = trained
    folded_first = DenseNetwork.fold_standardisation(mean, scale, network.layers[0])
    folded = DenseNetwork((folded_first, *network.layers[1:]), network.info)
    x_raw = Z[5] * scale + mean
    on_z = saliency(network, Z[5], int(y[5]))
    on_raw = saliency(folded, x_raw, int(y[5]), mean)
    np.testing.assert_allclose(on_raw, on_z, atol=1e-3 * np.abs(on_z).max())


@pytest.mark.parametrize("method", ["integrated", "gradient"])
def test_the_separating_features_dominate_local_saliency(trained, method: str) -> None:
    network, Z, y, _, _ = trained
    explainer = SaliencyExplainer(network, method=method)
    predicted = network.forward(Z).argmax(axis=1)
    assert (predicted == y).mean() > 0.95
    total = np.zeros(24)
    top_is_signal = 0
    for z, target in zip(Z, predicted, strict=True):
        s = np.abs(explainer.explain(z, int(target)))
        total += s
        top_is_signal += int(np.argmax(s) in SIGNAL)
    assert top_is_signal / len(Z) > 0.9
    noise = np.setdiff1d(np.arange(24), SIGNAL)
    assert total[list(SIGNAL)].min() > 3 * total[noise].max()


def test_rejects_bad_input() -> None:
    network = random_network(0)
    with pytest.raises(ValueError):
        saliency(network, np.zeros(23), 0)
    with pytest.raises(ValueError):
        saliency(network, np.zeros(24), 4)
    with pytest.raises(ValueError):
        SaliencyExplainer(network, np.zeros(5))
