"""Hidden tests for the cbow lab: tokens, vocabulary, pairs and context vectors.

The sentences and vocabularies are the grader's own, so code that only works on the lab's
corpus (or hard-codes 17 pairs) fails. The pair rule (stated in the notebook): the tokens
form one stream; every position with ``window`` words on both sides is a target, its
context the ``window`` words before and after it; ``n`` tokens give ``n - 2 window`` pairs.
"""

from __future__ import annotations

import numpy as np

FRESH_TEXT = "Green frogs jump. Old frogs sleep all day; young frogs jump over logs!"


def reference_tokenize(text: str) -> list[str]:
    import re

    return re.findall(r"[a-z]+", text.lower())


def reference_pairs(tokens: list[str], window: int) -> list[tuple[list[str], str]]:
    return [
        (tokens[i - window : i] + tokens[i + 1 : i + 1 + window], tokens[i])
        for i in range(window, len(tokens) - window)
    ]


def as_pairs(result: object, what: str) -> list[tuple[list[str], str]]:
    """Normalise returned pairs to (sorted context words, target), or fail saying why."""
    assert isinstance(result, list | tuple), f"{what} must return a list of pairs"
    pairs = []
    for item in result:
        ok = isinstance(item, list | tuple) and len(item) == 2
        assert ok, f"{what}: every pair must be (context_words, target), got {item!r}"
        pairs.append((sorted(str(w) for w in item[0]), str(item[1])))
    return pairs


def test_tokenize_and_vocab_on_fresh_text(nb):
    expected = reference_tokenize(FRESH_TEXT)
    got = nb.call("tokenize", FRESH_TEXT)
    assert list(got) == expected, f"tokenize gave {got}, expected {expected}"
    result = nb.call("build_vocab", expected)
    assert isinstance(result, list | tuple) and len(result) == 2, (
        "build_vocab must return (word_to_index, index_to_word)"
    )
    word_to_index, index_to_word = result
    words = sorted(set(expected))
    assert list(index_to_word) == words, (
        f"index_to_word is {list(index_to_word)}, expected the distinct words sorted: {words}"
    )
    assert dict(word_to_index) == {w: i for i, w in enumerate(words)}, (
        "word_to_index must map each word to its position in the sorted vocabulary"
    )


def test_pairs_on_fresh_sentences(nb):
    tokens = reference_tokenize(FRESH_TEXT)
    for window in (1, 2, 3):
        expected = reference_pairs(tokens, window)
        got = as_pairs(nb.call("context_target_pairs", tokens, window), "context_target_pairs")
        assert len(got) == len(expected), (
            f"{len(tokens)} tokens with window {window} give {len(expected)} pairs "
            f"(n - 2 * window), you gave {len(got)}"
        )
        want = [(sorted(c), t) for c, t in expected]
        assert got == want, (
            f"window {window}: pairs differ, e.g. expected {want[0]} first, got {got[0]}"
        )
    short = tokens[:4]
    got = as_pairs(nb.call("context_target_pairs", short, 2), "context_target_pairs")
    assert got == [], f"4 tokens with window 2 have no full window, you gave {len(got)} pairs"


def test_one_hot_and_context_vector(nb):
    rng = np.random.default_rng(4)
    words = [f"w{i:02d}" for i in range(9)]
    vocab = {w: i for i, w in enumerate(words)}
    for word in ("w00", "w05", "w08"):
        got = np.asarray(nb.call("one_hot", word, vocab), dtype=float)
        expected = np.eye(9)[vocab[word]]
        assert got.shape == (9,) and np.array_equal(got, expected), (
            f"one_hot({word!r}) over 9 words is {got}, expected {expected}"
        )
    for size in (2, 4, 6):
        context = [str(w) for w in rng.choice(words[:4], size=size)]
        expected = np.mean([np.eye(9)[vocab[w]] for w in context], axis=0)
        got = np.asarray(nb.call("context_vector", context, vocab), dtype=float)
        assert got.shape == (9,) and np.allclose(got, expected, rtol=0, atol=1e-12), (
            f"context_vector({context}) is {got}, expected the mean of the one-hots "
            f"{expected} (a repeated word counts twice)"
        )
