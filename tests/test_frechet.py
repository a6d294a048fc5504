"""Frechet distance against closed forms, and the package's digit classifier (cache, features)."""

import math

import numpy as np
import pytest
import scipy.linalg
import scipy.stats
import torch

from glo_teach.data import load_dataset
from glo_teach.metrics import (
    DigitClassifier,
    class_histogram,
    classifier_frechet_distance,
    frechet_distance,
    gaussian_stats,
    load_classifier,
)
from glo_teach.metrics import classifier as classifier_module


def test_frechet_1d_is_w2_squared():
    """In 1-D, d^2 = (mu1 - mu2)^2 + (s1 - s2)^2 = W2^2 between N(mu1, s1^2) and N(mu2, s2^2) (eq. fid-frechet)."""
    for mu1, s1, mu2, s2 in [
        (0.0, 1.0, 0.0, 1.0),
        (1.0, 2.0, -0.5, 0.5),
        (3.0, 0.1, 3.0, 4.0),
    ]:
        d2 = frechet_distance([mu1], [[s1**2]], [mu2], [[s2**2]])
        assert abs(d2 - ((mu1 - mu2) ** 2 + (s1 - s2) ** 2)) < 1e-9


def test_frechet_1d_matches_empirical_w2():
    """d^2 of the two normals equals W2^2 of their quantile functions (scipy.stats.norm.ppf), to 1e-3."""
    mu1, s1, mu2, s2 = 0.3, 1.5, -1.0, 0.7
    u = (np.arange(200_000) + 0.5) / 200_000
    w2_sq = np.mean(
        (scipy.stats.norm.ppf(u, mu1, s1) - scipy.stats.norm.ppf(u, mu2, s2)) ** 2
    )
    assert abs(frechet_distance([mu1], [[s1**2]], [mu2], [[s2**2]]) - w2_sq) < 1e-3


def test_frechet_diagonal_covariances():
    """Commuting (diagonal) covariances: d^2 = ||mu1 - mu2||^2 + sum_i (sqrt(a_i) - sqrt(b_i))^2."""
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    a, b = rng.uniform(0.1, 3, size=5), rng.uniform(0.1, 3, size=5)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert abs(frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) - expected) < 1e-9


def test_frechet_commuting_full_covariances():
    """Sigma1 = Q A Q^T, Sigma2 = Q B Q^T share eigenvectors: the trace term is sum (sqrt a - sqrt b)^2."""
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    a, b = rng.uniform(0.2, 2, size=4), rng.uniform(0.2, 2, size=4)
    s1, s2 = q @ np.diag(a) @ q.T, q @ np.diag(b) @ q.T
    mu = rng.normal(size=4)
    expected = np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert abs(frechet_distance(mu, s1, mu, s2) - expected) < 1e-8
    assert abs(frechet_distance(mu, s1, mu, s1) - 0.0) < 1e-8


def test_frechet_general_is_symmetric_and_positive():
    """Non-commuting covariances: d^2 equals the formula with scipy.linalg.sqrtm, is symmetric and > 0."""
    rng = np.random.default_rng(2)
    m1, m2 = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    s1, s2 = m1 @ m1.T + 0.1 * np.eye(3), m2 @ m2.T + 0.1 * np.eye(3)
    mu1, mu2 = rng.normal(size=3), rng.normal(size=3)
    d12, d21 = frechet_distance(mu1, s1, mu2, s2), frechet_distance(mu2, s2, mu1, s1)
    oracle = np.sum((mu1 - mu2) ** 2) + np.trace(
        s1 + s2 - 2 * np.real(scipy.linalg.sqrtm(s1 @ s2))
    )
    assert abs(d12 - oracle) < 1e-8
    assert abs(d12 - d21) < 1e-8 and d12 > 0
    d_t = frechet_distance(
        torch.tensor(mu1), torch.tensor(s1), torch.tensor(mu2), torch.tensor(s2)
    )
    assert abs(d_t - d12) < 1e-10


def test_frechet_of_identical_gaussians_is_exactly_zero():
    """eq. fid-frechet: d^2(N(mu, S), N(mu, S)) = 0. A rank-deficient 64-D covariance (40 samples) makes the
    traces cancel to about -3e-5 in float64 (Tr S + Tr S - 2 sum sqrt(lambda(S^1/2 S S^1/2)), computed here the
    same way as the oracle of the round-off); the distance is clamped to exactly 0, and stays >= 0 nearby."""
    rng = np.random.default_rng(0)
    f = rng.normal(size=(40, 64)) * rng.uniform(0.1, 10, size=64)
    mu, s = f.mean(0), np.cov(f, rowvar=False)
    w, v = np.linalg.eigh(s)
    root = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    unclamped = (
        2 * np.trace(s)
        - 2 * np.sqrt(np.clip(np.linalg.eigvalsh(root @ s @ root), 0, None)).sum()
    )
    assert unclamped < 0  # the round-off the clamp exists for
    assert frechet_distance(mu, s, mu, s) == 0.0
    assert frechet_distance(mu + 1e-3, s, mu, s) >= 0.0


def test_gaussian_stats_matches_numpy():
    """(mu, Sigma) = sample mean and unbiased covariance (np.cov)."""
    f = torch.randn(50, 3, generator=torch.Generator().manual_seed(0))
    mu, sigma = gaussian_stats(f)
    assert np.abs(mu - f.double().mean(0).numpy()).max() < 1e-12
    assert np.abs(sigma - np.cov(f.double().numpy().T)).max() < 1e-12


def test_frechet_validates_shapes():
    with pytest.raises(ValueError):
        frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(TypeError):
        frechet_distance("a", np.eye(1), [0.0], [[1.0]])


@pytest.fixture(scope="module")
def tiny_classifier(tmp_path_factory):
    """A classifier trained on 2048 MNIST images for two epochs, cached in a temporary data dir."""
    mp = pytest.MonkeyPatch()
    data_dir = tmp_path_factory.mktemp("data")
    mp.setenv("GLO_TEACH_DATA", str(data_dir))
    clf = load_classifier(epochs=2, n_train=2048)
    yield clf, data_dir
    mp.undo()


def test_classifier_is_cached_atomically_and_reloaded(tiny_classifier, monkeypatch):
    """The weights land in <GLO_TEACH_DATA>/digit_classifier/...; a second call loads them, no training."""
    clf, data_dir = tiny_classifier
    monkeypatch.setenv("GLO_TEACH_DATA", str(data_dir))
    files = list((data_dir / "digit_classifier").rglob("*"))
    assert [f.name for f in files if f.is_file()] == [
        "checkpoint.pt"
    ]  # no temporary file left behind
    monkeypatch.setattr(
        classifier_module, "train_classifier", lambda *a, **k: pytest.fail("retrained")
    )
    again = load_classifier(epochs=2, n_train=2048)
    for a, b in zip(clf.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)
    assert again.test_accuracy == clf.test_accuracy


def test_classifier_learns_digits(tiny_classifier):
    """Even 2048 images and two epochs beat chance (10%) by far on the test split: accuracy > 60%."""
    clf, _ = tiny_classifier
    assert 0.6 < clf.test_accuracy <= 1.0


def test_classifier_outputs_and_histogram(tiny_classifier):
    """features (N, 128), classify (N,) in 0..9; class_histogram sums to 1; one digit -> a peaked histogram."""
    clf, _ = tiny_classifier
    test = load_dataset("mnist", "test", n=200)
    assert clf.features(test.images).shape == (200, 128)
    pred = clf.classify(test.images)
    assert (
        pred.shape == (200,)
        and pred.dtype == torch.long
        and 0 <= pred.min()
        and pred.max() <= 9
    )
    h = class_histogram(test.images, clf)
    assert h.shape == (10,) and abs(h.sum().item() - 1.0) < 1e-12
    ones = test.images[test.labels == 1]
    assert class_histogram(ones, clf)[1] > 0.5
    with pytest.raises(ValueError):
        clf.classify(torch.zeros(3, 1, 28, 28))


def test_classifier_frechet_distance_orders_real_and_noise(tiny_classifier):
    """Real vs other real images is far closer than real vs uniform noise; identical sets give ~0."""
    clf, _ = tiny_classifier
    test = load_dataset("mnist", "test", n=400)
    a, b = test.images[0::2], test.images[1::2]
    noise = (
        torch.rand(200, 1, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    )
    d_same = classifier_frechet_distance(a, a, clf)
    d_real = classifier_frechet_distance(a, b, clf)
    d_noise = classifier_frechet_distance(a, noise, clf)
    assert abs(d_same) < 1e-6 * d_noise  # round-off only
    assert 0 < d_real < 0.2 * d_noise


def test_untrained_classifier_features_shape():
    net = DigitClassifier()
    assert net(torch.zeros(2, 1, 32, 32)).shape == (2, 10)
    assert math.isfinite(float(net.features(torch.zeros(2, 1, 32, 32)).sum()))
