"""Public checks for the cbow lab: the lab corpus's counts and one context vector by hand.

Run them yourself with ``grader check your_notebook.ipynb``. Passing them does not mean
full marks: the hidden tests use the grader's own sentences, vocabularies and parameters.
"""

from __future__ import annotations

import numpy as np


def test_lab_corpus_counts(nb):
    tokens = nb.get("tokens")
    assert isinstance(tokens, list) and len(tokens) == 21, (
        f"the lab corpus has 21 tokens, your `tokens` has {len(tokens)}"
    )
    word_to_index = nb.get("word_to_index")
    assert len(word_to_index) == 16, (
        f"the lab corpus has 16 distinct words, your vocabulary has {len(word_to_index)}"
    )
    pairs = nb.get("pairs")
    assert len(pairs) == 17, (
        f"21 tokens with window 2 give 21 - 2 * 2 = 17 pairs, you have {len(pairs)}"
    )
    x, y = np.asarray(nb.get("X")), np.asarray(nb.get("Y"))
    assert x.shape == (17, 16) and y.shape == (17, 16), (
        f"X and Y must have shape (17, 16), got {x.shape} and {y.shape}"
    )


def test_context_vector_by_hand(nb):
    vocab = {"a": 0, "b": 1, "c": 2}
    got = np.asarray(nb.call("context_vector", ["a", "c", "a", "b"], vocab), dtype=float)
    expected = np.array([0.5, 0.25, 0.25])
    assert got.shape == (3,) and np.allclose(got, expected, rtol=0, atol=1e-12), (
        f"context_vector(['a', 'c', 'a', 'b'], ...) is {got}, expected the mean of the "
        "one-hots [0.5, 0.25, 0.25]"
    )
