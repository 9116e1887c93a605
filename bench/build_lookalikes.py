"""Build ``credo/data/lookalikes.txt``: characters that render like an ASCII letter or a colon,
for the forged-turn scan's reader view (``credo/markers.py``), from Unicode's confusables
(``confusables.json`` of the confusable-homoglyphs package, MIT, built from Unicode's
confusables.txt, Unicode License) plus Latin small capitals by name, which that table lacks.

    python bench/build_lookalikes.py PATH/TO/confusables.json > credo/data/lookalikes.txt

One pair a line: the character, a tab, the ASCII character it reads as. The bracket look-alikes
that neutralising writes (U+2039, U+203A, U+27E6, U+27E7, U+00A6) and the middle dot are left
out, so a neutralised marker stays inert.
"""

from __future__ import annotations

import json
import sys
import unicodedata

KEEP_OUT = set("\u2039\u203a\u27e6\u27e7\u00a6\u00b7")
HEADER = (
    "# Look-alike letters for the forged-turn scan: one 'character<TAB>ASCII' a line.\n"
    "# Derived from Unicode's confusables.txt (Copyright (c) Unicode, Inc., Unicode License v3,\n"
    "# https://www.unicode.org/license.txt) via the confusables.json of the confusable-homoglyphs\n"
    "# package (MIT); rebuilt by bench/build_lookalikes.py. Lines starting with '#' are comments.\n"
)
EXTRA = {"\u04ba": "H", "\u0280": "R", "\u0262": "G", "\u029f": "L", "\u0274": "N"}


def main(path: str) -> None:
    table: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        confusables = json.load(handle)
    for char, entries in confusables.items():
        if len(char) != 1 or char.isascii() or char in KEEP_OUT:
            continue
        for entry in entries:
            target = entry["c"]
            if len(target) == 1 and target.isascii() and (target.isalpha() or target == ":"):
                table[char] = target
                break
    for code in range(0x80, 0x30000):
        char = chr(code)
        name = unicodedata.name(char, "")
        if name.startswith("LATIN LETTER SMALL CAPITAL ") and len(name) == 28:
            table.setdefault(char, name[-1].lower())
    table.update(EXTRA)
    sys.stdout.write(HEADER)
    for char, target in sorted(table.items()):
        # NFKC already maps full-width and mathematical letters; keep only what it leaves.
        if unicodedata.normalize("NFKC", char) == char:
            sys.stdout.write(f"{char}\t{target}\n")


if __name__ == "__main__":
    main(sys.argv[1])
