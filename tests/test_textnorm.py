"""normalize() folds whitespace with str.split(); it must equal the regex fold it replaced."""

from __future__ import annotations

import random
import re
import sys
import unicodedata

from credo.textnorm import _TABLE, normalize

_SPACE = re.compile(r"\s+")


def _regex_fold(text: str) -> str:
    """normalize() as it was written before: a regex fold of whitespace runs, then strip."""
    if text.isascii():
        return _SPACE.sub(" ", text.replace("`", "'")).strip()
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).translate(_TABLE)).strip()


def test_split_and_the_regex_take_the_same_whitespace_on_all_of_unicode() -> None:
    chars = map(chr, range(sys.maxunicode + 1))
    assert [c for c in chars if c.isspace() != bool(_SPACE.match(c))] == []


def test_normalize_equals_the_regex_fold() -> None:
    spaces = [c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()] + ["\u200b", "`"]
    rng = random.Random(0)
    pieces = ["I", "can't", "help", "ｆｕｌｌ", "Сorry", "", "a\u00a0b", *spaces]
    texts = ["", " ", "\n\t", "  padded  ", "x\x1cy", "a \u3000 b"]
    texts += ["".join(rng.choices(pieces, k=rng.randint(1, 12))) for _ in range(3000)]
    for text in texts:
        assert normalize(text) == _regex_fold(text), repr(text)


def test_the_single_spaced_ascii_path_equals_the_regex_fold() -> None:
    # The fast path rests on this: " " is the only printable ASCII whitespace.
    assert [c for c in map(chr, range(128)) if c.isspace() and c.isprintable()] == [" "]
    rng = random.Random(1)
    ascii_chars = [chr(c) for c in range(128)]
    words = ["I", "can't", "`help`", "x", " ", " ", "  "]
    texts = [" lead", "trail ", " both ", "a  b", "`", "single spaced text"]
    texts += ["".join(rng.choices(words, k=rng.randint(1, 20))) for _ in range(3000)]
    texts += [
        "".join(rng.choices(ascii_chars + words * 20, k=rng.randint(1, 40))) for _ in range(3000)
    ]
    for text in texts:
        assert normalize(text) == _regex_fold(text), repr(text)
