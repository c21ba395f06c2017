"""Hidden tests for the cbow lab: parameters, softmax, loss, gradient, training, neighbours.

Every input is drawn here (random contexts as means of one-hots, one-hot targets, random
weights), the expected values are computed here by the references below, and only raw
results come back from the notebook. The lab's shapes: |V| = 16, d = 10, 320 parameters.

The lab-corpus tests train with the student's ``train`` on the lab corpus's pairs, built
here, with the notebook's EMBED_DIM, WINDOW, LEARNING_RATE, EPOCHS and SEED where it uses
them, else with the lab's declared defaults (``nb.setting``): they rely on the functions of
the interface, not on the stub's variable names (``params``, ``losses``, ``X``, ...).
"""

from __future__ import annotations

import math
import re

import numpy as np

from grader import checks

VOCAB, EMBED, PAIRS = 16, 10, 17
#: The lab's corpus, as the notebook states it: 21 tokens, 16 distinct words.
LAB_CORPUS = (
    "The cat sat on the warm mat. The dog sat on the soft rug. A bird sings in tall green trees."
)
#: An epoch budget above this is cut to it, so one test cannot run for minutes.
MAX_EPOCHS = 20_000


def random_batch(seed: int, vocab: int = 7, rows: int = 9, context: int = 4):
    """Contexts as means of ``context`` random one-hots (repeats allowed) and one-hot targets."""
    rng = np.random.default_rng([seed, 5])
    eye = np.eye(vocab)
    x = np.array([eye[rng.integers(0, vocab, size=context)].mean(axis=0) for _ in range(rows)])
    y = eye[rng.integers(0, vocab, size=rows)]
    return x, y


def random_params(seed: int, vocab: int = 7, embed: int = 5, scale: float = 1.0):
    rng = np.random.default_rng([seed, 6])
    return {
        "W1": scale * rng.normal(size=(vocab, embed)),
        "W2": scale * rng.normal(size=(embed, vocab)),
    }


def reference_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exps = np.exp(shifted)
    return exps / exps.sum(axis=1, keepdims=True)


def reference_forward(params, x):
    hidden = x @ params["W1"]
    return reference_softmax(hidden @ params["W2"]), hidden


def reference_loss(probs, y) -> float:
    return float(-np.sum(y * np.log(probs)))


def reference_train(params, x, y, lr: float, epochs: int):
    params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    losses = []
    for _ in range(epochs):
        probs, hidden = reference_forward(params, x)
        losses.append(reference_loss(probs, y))
        d_logits = probs - y
        grads = {"W1": x.T @ (d_logits @ params["W2"].T), "W2": hidden.T @ d_logits}
        params = {k: params[k] - lr * grads[k] for k in params}
    return params, losses


def reference_nearest(word: str, w1: np.ndarray, word_to_index: dict, k: int) -> list[str]:
    unit = w1 / np.linalg.norm(w1, axis=1, keepdims=True)
    similarity = unit @ unit[word_to_index[word]]
    index_to_word = {i: w for w, i in word_to_index.items()}
    order = [i for i in np.argsort(-similarity, kind="stable") if i != word_to_index[word]]
    return [index_to_word[int(i)] for i in order[:k]]


def as_params(value: object, what: str) -> dict[str, np.ndarray]:
    assert isinstance(value, dict) and {"W1", "W2"} <= set(value), (
        f"{what} must be a dict with keys 'W1' and 'W2'"
    )
    return {k: np.asarray(value[k], dtype=np.float64) for k in ("W1", "W2")}


def probs_of(nb, params, x) -> np.ndarray:
    result = nb.call("forward", params, x)
    assert isinstance(result, list | tuple) and len(result) == 2, (
        "forward must return (probs, cache)"
    )
    return np.asarray(result[0], dtype=np.float64)


def test_param_shapes_and_count(nb):
    params = as_params(nb.call("init_params", VOCAB, EMBED, 3), "init_params(16, 10, 3)")
    shapes = (params["W1"].shape, params["W2"].shape)
    assert shapes == ((VOCAB, EMBED), (EMBED, VOCAB)), (
        f"W1 and W2 have shapes {shapes}, expected (16, 10) and (10, 16)"
    )
    count = params["W1"].size + params["W2"].size
    nb.record("parameters", count)
    assert count == 320, f"{count} parameters, expected 16 * 10 + 10 * 16 = 320"
    again = as_params(nb.call("init_params", VOCAB, EMBED, 3), "init_params")
    other = as_params(nb.call("init_params", VOCAB, EMBED, 4), "init_params")
    assert all(np.array_equal(params[k], again[k]) for k in params), (
        "init_params with the same seed must give the same arrays"
    )
    assert not np.array_equal(params["W1"], other["W1"]), (
        "init_params with different seeds must give different arrays"
    )
    assert np.all(np.isfinite(params["W1"])) and params["W1"].std() > 0.01, (
        "W1 must be random and finite (not zeros)"
    )


def test_softmax_rows_sum_to_one(nb):
    for seed in range(3):
        x, _ = random_batch(seed)
        params = random_params(seed)
        expected, _ = reference_forward(params, x)
        got = probs_of(nb, params, x)
        assert got.shape == expected.shape, (
            f"probs has shape {got.shape}, expected {expected.shape}"
        )
        assert np.all(got >= 0) and np.allclose(got.sum(axis=1), 1.0, atol=1e-12), (
            "every row of probs must be non-negative and sum to 1"
        )
        assert np.allclose(got, expected, rtol=1e-9, atol=1e-12), (
            "probs differ from softmax(X W1 W2) on random weights"
        )
        logits = np.random.default_rng(seed).normal(size=(4, 6))
        direct = np.asarray(nb.call("softmax", logits), dtype=np.float64)
        assert np.allclose(direct, reference_softmax(logits), rtol=1e-9, atol=1e-12), (
            "softmax(logits) must be the row-wise softmax of a 2-D array"
        )


def test_softmax_stable_for_large_logits(nb):
    logits = np.array([[1000.0, 999.0, 0.0], [-1000.0, -1001.0, -2000.0], [800.0, 800.0, 1.0]])
    got = np.asarray(nb.call("softmax", logits), dtype=np.float64)
    assert np.all(np.isfinite(got)), (
        "softmax of logits near 1000 gives nan or inf: subtract each row's maximum before exp"
    )
    assert np.allclose(got, reference_softmax(logits), rtol=1e-9, atol=1e-12), (
        "softmax of large logits is wrong: subtract each row's maximum before exp"
    )
    x, _ = random_batch(7)
    params = random_params(7, scale=30.0)
    probs = probs_of(nb, params, x)
    assert np.all(np.isfinite(probs)) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-9), (
        "forward with large weights gives nan or inf probabilities"
    )


def test_summed_cross_entropy(nb):
    for seed in range(3):
        x, y = random_batch(seed + 10)
        probs, _ = reference_forward(random_params(seed + 10), x)
        got = float(np.asarray(nb.call("loss", probs, y), dtype=np.float64))
        expected = reference_loss(probs, y)
        assert abs(got - expected) <= 1e-9 * max(1.0, abs(expected)), (
            f"loss is {got:.8g}, expected the cross-entropy summed over the rows "
            f"{expected:.8g} (mean: {expected / len(y):.8g})"
        )


def test_gradient_check(nb):
    for seed in (20, 21):
        x, y = random_batch(seed)
        result = checks.gradient_check(nb, random_params(seed), x, y)
        checks.expect_gradients_match(result, tol=1e-5)
        checks.expect_analytic_backward(result)


def test_train_is_gradient_descent(nb):
    x, y = random_batch(30, vocab=8, rows=12)
    lr, epochs, seed = 0.05, 25, 11
    start = as_params(nb.call("init_params", 8, 4, seed), "init_params(8, 4, 11)")
    result = nb.call("train", x, y, 4, lr, epochs, seed)
    assert isinstance(result, list | tuple) and len(result) == 2, (
        "train must return (params, losses)"
    )
    got = as_params(result[0], "the params train returns")
    losses = [float(v) for v in result[1]]
    expected, expected_losses = reference_train(start, x, y, lr, epochs)
    assert len(losses) == epochs, f"train recorded {len(losses)} losses for {epochs} epochs"
    assert np.allclose(losses, expected_losses, rtol=1e-8, atol=1e-10), (
        f"losses differ from full-batch gradient descent from init_params: first "
        f"{losses[0]:.6g} vs {expected_losses[0]:.6g}, last {losses[-1]:.6g} vs "
        f"{expected_losses[-1]:.6g}"
    )
    for key in ("W1", "W2"):
        assert np.allclose(got[key], expected[key], rtol=1e-8, atol=1e-10), (
            f"{key} after {epochs} steps differs from gradient descent with lr {lr}"
        )


def lab_data(window: int):
    """The lab corpus's contexts X, targets Y and sorted vocabulary, built here."""
    tokens = re.findall(r"[a-z]+", LAB_CORPUS.lower())
    word_to_index = {word: index for index, word in enumerate(sorted(set(tokens)))}
    eye = np.eye(len(word_to_index))
    positions = range(window, len(tokens) - window)
    x = np.array(
        [
            eye[
                [word_to_index[w] for w in tokens[i - window : i] + tokens[i + 1 : i + 1 + window]]
            ].mean(axis=0)
            for i in positions
        ]
    )
    y = np.array([eye[word_to_index[tokens[i]]] for i in positions])
    return x, y, word_to_index


def lab_training(nb):
    """The student's ``train`` on the lab corpus, with the notebook's settings or the defaults.

    Returns (params, losses, X, Y, word_to_index).
    """
    names = ("EMBED_DIM", "WINDOW", "LEARNING_RATE", "EPOCHS", "SEED")
    embed_dim, window, lr, epochs, seed = (nb.setting(name) for name in names)
    for name, value in (("EMBED_DIM", embed_dim), ("EPOCHS", epochs)):
        assert type(value) is int and value > 0, f"{name} must be a positive integer"
    assert type(seed) is int, f"SEED must be an integer, not {seed!r:.40}"
    assert type(window) is int and 1 <= window <= 5, f"WINDOW must be 1 to 5, not {window!r:.40}"
    assert type(lr) in (int, float) and math.isfinite(lr) and lr > 0, "LEARNING_RATE must be > 0"
    x, y, word_to_index = lab_data(window)
    result = nb.call("train", x, y, embed_dim, float(lr), min(epochs, MAX_EPOCHS), seed)
    assert isinstance(result, list | tuple) and len(result) == 2, (
        "train must return (params, losses)"
    )
    losses = [float(v) for v in result[1]]
    assert losses, "train returned no losses: record one per epoch"
    return as_params(result[0], "the params train returns"), losses, x, y, word_to_index


def test_lab_loss_decreases(nb):
    params, losses, x, y, _ = lab_training(nb)
    final = reference_loss(reference_forward(params, x)[0], y)
    nb.record("first_loss", losses[0])
    nb.record("final_loss", final)
    assert all(np.isfinite(losses)) and np.isfinite(final), "the lab's losses contain nan or inf"
    assert final < 0.1 * losses[0] and final < 2.0, (
        f"summed cross-entropy {losses[0]:.4f} -> {final:.4f} on the lab's {len(x)} pairs: "
        "expected a fall below a tenth of the start and below 2"
    )


def test_nearest_on_trained_embeddings(nb):
    params, _, _, _, word_to_index = lab_training(nb)
    for word in sorted(word_to_index):
        expected = reference_nearest(word, params["W1"], word_to_index, 3)
        got = list(nb.call("nearest", word, params, word_to_index, 3))
        assert got == expected, (
            f"nearest({word!r}, k=3) is {got}; cosine similarity of your W1 rows gives {expected}"
        )


def test_nearest_is_cosine_not_dot_product(nb):
    rng = np.random.default_rng(40)
    words = [f"word{i}" for i in range(8)]
    word_to_index = {w: i for i, w in enumerate(words)}
    w1 = rng.normal(size=(8, 4)) * np.exp(1.5 * rng.normal(size=(8, 1)))
    params = {"W1": w1, "W2": rng.normal(size=(4, 8))}
    for word in words:
        expected = reference_nearest(word, w1, word_to_index, 4)
        got = list(nb.call("nearest", word, params, word_to_index, 4))
        assert got == expected, (
            f"nearest({word!r}, k=4) on rows of very different lengths is {got}, "
            f"expected {expected} (cosine similarity, the word itself excluded)"
        )
