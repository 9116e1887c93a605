"""One canonical text normalisation, applied before every detector and comparison.

Detectors (refusal patterns and ensemble, moral reasons, forbidden requests), dedup and
contamination compare *normalised* text, so a refusal or an eval copy cannot hide behind
look-alike characters: NFKC (full-width letters, ligatures), zero-width and bidi controls
dropped, Cyrillic/Greek homoglyphs mapped to Latin, backtick and curly apostrophes turned
into "'", and every whitespace run (newlines, NBSP, ideographic space) folded to one space.
Records always keep their original text; only what the checks read is normalised.

The homoglyph map is deliberately one-way and lossy: the detectors read English, and a
Greek or Russian text mapped this way is still compared consistently with itself.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Zero-width characters, soft hyphen, word joiner, BOM and bidi controls: invisible, so
# dropping them never changes what a reader sees.
_INVISIBLE = "\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"

# Letters that render like Latin ones (Cyrillic, Greek); capitals and small letters.
_HOMOGLYPHS = {
    "а": "a",
    "в": "b",
    "е": "e",
    "ё": "e",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "ѕ": "s",
    "і": "i",
    "ї": "i",
    "ј": "j",
    "ԁ": "d",
    "ԛ": "q",
    "ԝ": "w",
    "һ": "h",
    "ɡ": "g",
    "ո": "n",
    "ս": "u",
    "А": "A",
    "В": "B",
    "Е": "E",
    "Ё": "E",
    "К": "K",
    "М": "M",
    "Н": "H",
    "О": "O",
    "Р": "P",
    "С": "C",
    "Т": "T",
    "У": "Y",
    "Х": "X",
    "Ѕ": "S",
    "І": "I",
    "Ї": "I",
    "Ј": "J",
    "Ԛ": "Q",
    "Ԝ": "W",
    "α": "a",
    "β": "b",
    "ε": "e",
    "ι": "i",
    "κ": "k",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "γ": "y",
    "Α": "A",
    "Β": "B",
    "Ε": "E",
    "Ζ": "Z",
    "Η": "H",
    "Ι": "I",
    "Κ": "K",
    "Μ": "M",
    "Ν": "N",
    "Ο": "O",
    "Ρ": "P",
    "Τ": "T",
    "Υ": "Y",
    "Χ": "X",
}
# Apostrophe look-alikes (after NFKC, which already maps the full-width one).
_APOSTROPHES = "`´‘’‛ʹʻʼʽˈ′"

_TABLE = str.maketrans(
    {**dict.fromkeys(_INVISIBLE), **_HOMOGLYPHS, **dict.fromkeys(_APOSTROPHES, "'")}
)
FOLD_TABLE: dict[int, str | None] = _TABLE  # what fold_lookalikes maps after NFKC
_LEADING = re.compile(rf"[\s{_INVISIBLE}]+")


@lru_cache(maxsize=16384)  # about two batches of texts: checks of one batch read the same texts
def normalize(text: str) -> str:
    """The canonical form every detector reads (idempotent)."""
    # " ".join(split()) folds whitespace runs and strips like re.sub(r"\s+", " ").strip(),
    # ~3x faster (BENCHMARKS.md, "Refusal classifier speed"): split() and the regex's \s
    # take the same characters (all of Unicode is checked in tests/test_textnorm.py).
    if text.isascii():
        text = text.replace("`", "'")
        # Printable ASCII has no whitespace but " ": without a double space there is no run
        # to fold, only the ends to strip (2x faster than split and join on 600 characters;
        # BENCHMARKS.md, "Refusal classifier speed").
        if text.isprintable() and "  " not in text:
            return text.strip()
        return " ".join(text.split())
    return " ".join(unicodedata.normalize("NFKC", text).translate(_TABLE).split())


def head(text: str, chars: int) -> str:
    """The first ``chars`` characters of ``normalize(text)``, without normalising all of it.

    Leading whitespace and invisible runs are skipped first, and the slice grows until it
    yields ``chars`` normalised characters, so padding cannot push the opening out of a
    detector's window (800 leading spaces or a run of zero-width characters included).
    """
    match = _LEADING.match(text)
    text = text[match.end() :] if match else text
    step = max(2 * chars, 256)
    end = step
    while True:
        out = normalize(text[:end])
        if len(out) >= chars or end >= len(text):
            return out[:chars]
        end *= 2


def fold_lookalikes(text: str) -> str:
    """``normalize`` without the whitespace folding: NFKC, invisibles dropped, homoglyphs
    mapped, but line breaks and spaces kept (line-based checks need where a line starts)."""
    return unicodedata.normalize("NFKC", text).translate(_TABLE)
