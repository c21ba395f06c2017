"""Public checks for the cbow lab: the lab corpus's counts and one context vector by hand.

Run them yourself with ``grader check your_notebook.ipynb``. Passing them does not mean
full marks: the hidden tests use the grader's own sentences, vocabularies and parameters.
They call your functions only (the interface in the notebook's first cell), never your
variables, so name those as you like.
"""

from __future__ import annotations

import numpy as np

#: The lab's corpus, as the notebook states it: 21 tokens, 16 distinct words.
LAB_CORPUS = (
    "The cat sat on the warm mat. The dog sat on the soft rug. A bird sings in tall green trees."
)


def test_lab_corpus_counts(nb):
    tokens = nb.call("tokenize", LAB_CORPUS)
    assert isinstance(tokens, list) and len(tokens) == 21, (
        f"the lab corpus has 21 tokens, tokenize gives {len(tokens)}"
    )
    vocab = nb.call("build_vocab", tokens)
    assert isinstance(vocab, tuple | list) and len(vocab) == 2, (
        "build_vocab must return (word_to_index, index_to_word)"
    )
    word_to_index = vocab[0]
    assert isinstance(word_to_index, dict) and len(word_to_index) == 16, (
        f"the lab corpus has 16 distinct words, your vocabulary has {len(word_to_index)}"
    )
    pairs = nb.call("context_target_pairs", tokens, 2)
    assert len(pairs) == 17, (
        f"21 tokens with window 2 give 21 - 2 * 2 = 17 pairs, you have {len(pairs)}"
    )
    x = np.array([nb.call("context_vector", list(context), word_to_index) for context, _ in pairs])
    y = np.array([nb.call("one_hot", target, word_to_index) for _, target in pairs])
    assert x.shape == (17, 16) and y.shape == (17, 16), (
        f"the contexts and targets of the lab corpus must stack to (17, 16), got {x.shape} "
        f"and {y.shape}"
    )


def test_context_vector_by_hand(nb):
    vocab = {"a": 0, "b": 1, "c": 2}
    got = np.asarray(nb.call("context_vector", ["a", "c", "a", "b"], vocab), dtype=float)
    expected = np.array([0.5, 0.25, 0.25])
    assert got.shape == (3,) and np.allclose(got, expected, rtol=0, atol=1e-12), (
        f"context_vector(['a', 'c', 'a', 'b'], ...) is {got}, expected the mean of the "
        "one-hots [0.5, 0.25, 0.25]"
    )
