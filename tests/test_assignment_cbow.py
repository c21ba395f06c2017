"""What is particular to the `cbow` lab.

The checks every assignment gets are in test_assignments_content.py. Here: the lab corpus
gives the curriculum's counts (21 tokens, 16 words, 17 pairs, 320 parameters), training
falls as the notebook says, and the hidden tests' reference data and helpers catch the
mistakes they are meant to (unaveraged W1 gradient, naive softmax, dot-product neighbours).
"""

from __future__ import annotations

import nbformat
import numpy as np
from course_files import ROOT, load_test_module

SOLUTION = ROOT / "solutions" / "cbow.ipynb"


def solution_namespace() -> dict:
    """Run the solution's definitions here (no kernel): the corpus and the functions only."""
    namespace: dict = {}
    for cell in nbformat.read(SOLUTION, as_version=4).cells:
        if (
            cell.cell_type == "code"
            and "plt." not in cell.source
            and "nearest(word" not in cell.source
        ):
            exec(cell.source, namespace)  # noqa: S102 - our own reference notebook
    return namespace


# -- fast: the files and the references ----------------------------------------------------


def test_lab_corpus_gives_the_curriculum_counts():
    """Seed 004 #5: 21 tokens, |V| = 16, window 2 -> 17 pairs, X (17, 16), 320 parameters."""
    ns = solution_namespace()
    assert (len(ns["tokens"]), len(ns["word_to_index"]), len(ns["pairs"])) == (21, 16, 17)
    assert ns["X"].shape == (17, 16) and np.allclose(ns["X"].sum(axis=1), 1.0)
    data = load_test_module("cbow", "hidden/test_data.py")
    assert data.reference_tokenize(ns["CORPUS"]) == ns["tokens"]
    assert data.reference_pairs(ns["tokens"], 2) == ns["pairs"]
    params = ns["init_params"](16, 10, 0)
    assert sum(v.size for v in params.values()) == 320
    # The manual's "king" is not in its corpus; nothing in this lab asks for it.
    assert "king" not in ns["word_to_index"]


def test_lab_training_falls_as_the_notebook_says():
    ns = solution_namespace()
    model = load_test_module("cbow", "hidden/test_model.py")
    start = ns["init_params"](16, 10, 0)
    _, losses = model.reference_train(start, ns["X"], ns["Y"], 0.01, 2000)
    assert abs(losses[0] - 73.4421) < 1e-4 and losses[-1] < 0.3, (losses[0], losses[-1])


def test_the_tests_copy_of_the_lab_corpus_is_the_notebooks():
    """The lab-corpus tests build X, Y from their own copy of CORPUS (no stub variable names)."""
    ns = solution_namespace()
    model = load_test_module("cbow", "hidden/test_model.py")
    public = load_test_module("cbow", "public/test_basics.py")
    assert model.LAB_CORPUS == public.LAB_CORPUS == ns["CORPUS"]
    x, y, word_to_index = model.lab_data(2)
    assert word_to_index == ns["word_to_index"]
    assert np.array_equal(x, ns["X"]) and np.array_equal(y, ns["Y"])
    assert model.lab_data(1)[0].shape == (19, 16)


def test_fresh_pairs_count_is_n_minus_two_windows():
    data = load_test_module("cbow", "hidden/test_data.py")
    tokens = data.reference_tokenize(data.FRESH_TEXT)
    counts = [len(data.reference_pairs(tokens, w)) for w in (1, 2, 3)]
    assert counts == [len(tokens) - 2 * w for w in (1, 2, 3)]
    assert data.reference_pairs(tokens[:4], 2) == []


def test_nearest_data_separates_cosine_from_dot_product():
    model = load_test_module("cbow", "hidden/test_model.py")
    rng = np.random.default_rng(40)  # as in test_nearest_is_cosine_not_dot_product
    words = [f"word{i}" for i in range(8)]
    vocab = {w: i for i, w in enumerate(words)}
    w1 = rng.normal(size=(8, 4)) * np.exp(1.5 * rng.normal(size=(8, 1)))

    def by_dot(word: str) -> list[str]:
        scores = w1 @ w1[vocab[word]]
        return [words[i] for i in np.argsort(-scores, kind="stable") if i != vocab[word]][:4]

    differ = [w for w in words if by_dot(w) != model.reference_nearest(w, w1, vocab, 4)]
    assert len(differ) >= 4, "the random rows must make dot product and cosine disagree"


def test_references_catch_wrong_gradients_and_naive_softmax():
    model = load_test_module("cbow", "hidden/test_model.py")
    x, y = model.random_batch(20)
    params = model.random_params(20)
    probs, hidden = model.reference_forward(params, x)
    d_hidden = (probs - y) @ params["W2"].T
    right, summed = x.T @ d_hidden, (x > 0).astype(float).T @ d_hidden
    h, (i, j) = 1e-6, (int(np.argmax(x.sum(axis=0))), 0)
    plus = {k: v.copy() for k, v in params.items()}
    minus = {k: v.copy() for k, v in params.items()}
    plus["W1"][i, j] += h
    minus["W1"][i, j] -= h
    numeric = (
        model.reference_loss(model.reference_forward(plus, x)[0], y)
        - model.reference_loss(model.reference_forward(minus, x)[0], y)
    ) / (2 * h)
    assert abs(numeric - right[i, j]) < 1e-6 and abs(numeric - summed[i, j]) > 1e-3
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp([[1000.0, 999.0, 0.0]])
        naive = naive / naive.sum(axis=1, keepdims=True)
    assert np.isnan(naive).any()
    assert np.all(np.isfinite(model.reference_softmax(np.array([[1000.0, 999.0, 0.0]]))))


# -- slow: real kernels ----------------------------------------------------------------------
