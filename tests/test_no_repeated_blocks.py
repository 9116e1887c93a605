"""No block of six lines appears twice in credo/: the same lines, or the same shape with other
names, strings and numbers. Logic written twice drifts (issue 22 found two bugs that had);
one helper, a table or an options object serves both places instead.

What counts as a line (read with ``tokenize``, so line breaks inside brackets never matter):

- code: keywords and operators as written; for a shape, every name a placeholder numbered
  by first use within the block (``a = f(a)`` and ``b = g(b)`` are one shape, ``a = f(b)``
  another), every number and one-line string one placeholder;
- docstrings, other multi-line strings and comment lines: as written, so they match only
  when identical (a trailing comment is not part of its line's shape);
- not counted: blank lines; lines of data and brackets alone (``"a string",``, ``],``,
  ``"key": 3,``), which a table is made of; import statements (ruff sorts them, and two
  modules needing the same names is no logic written twice).

The same lines always count. A block that matches by shape alone counts when at least
``LOGIC_LINES`` of its lines do something (a call, an operator, control flow): a run of
bare declarations (``x: int = 0``), keyword arguments (``limit=o.limit,``) or entries
(``"set": p.set_name,``) in one order is how a dataclass, a keyword call or a record is
written, and each such place names other fields. However many places share a shape, each
pair counts (round 8 dropped the "idiom above eight places" pass: it excused nothing, and it
would have excused a block pasted nine times). Overlapping windows of one file (a run
matching itself one line down) are not pairs.
"""

from __future__ import annotations

import io
import keyword
import tokenize
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import credo

ROOT = Path(credo.__file__).parent
BLOCK = 6
LOGIC_LINES = 2  # a block of shape alone counts when this many of its lines do something
_SKIP = {
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENCODING,
    tokenize.ENDMARKER,
}
_DOING = {"if", "elif", "else", "for", "while", "return", "raise", "yield", "with", "try"}
_DOING |= {"except", "lambda", "and", "or", "not", "in", "is", "assert", "await", "del"}
_OPERATORS = {"+", "-", "*", "/", "//", "%", "**", "<", ">", "<=", ">=", "==", "!=", "@", "~"}
_OPERATORS |= {"+=", "-=", "*=", "/=", "|=", "&=", "^", "&", ">>", "<<", ":="}
# a token: ("n", name) for a name, ("s", text) for a literal, ("=", text) for the rest
Token = tuple[str, str]
Unit = tuple[int, tuple[Token, ...]]  # (first line, tokens)
Shape = tuple[tuple[str, ...], ...]


def _statements(source: str) -> Iterator[list[tokenize.TokenInfo]]:
    """The tokens of each logical line (comment lines are logical lines of their own)."""
    statement: list[tokenize.TokenInfo] = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER) or (
            tok.type == tokenize.NL and statement and statement[-1].type == tokenize.COMMENT
        ):
            if statement:
                yield statement
            statement = []
        elif tok.type not in _SKIP:
            statement.append(tok)
    if statement:
        yield statement


def _token(tok: tokenize.TokenInfo) -> Token:
    if tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
        return ("n", tok.string)
    if tok.type == tokenize.NUMBER or (tok.type == tokenize.STRING and "\n" not in tok.string):
        return ("s", tok.string)
    return ("=", tok.string)  # keywords, operators, multi-line strings (as written)


def _units(source: str) -> list[Unit]:
    """The file's countable lines, in order."""
    units: list[Unit] = []
    for statement in _statements(source):
        if statement[0].string in ("import", "from") and any(
            t.string == "import" for t in statement
        ):
            continue
        if len(statement) == 1 and statement[0].type in (tokenize.STRING, tokenize.COMMENT):
            # a docstring or comment line (or a bare multi-line string): each line as written
            tok = statement[0]
            for n, text in enumerate(tok.string.splitlines()):
                if any(c.isalnum() for c in text):
                    units.append((tok.start[0] + n, (("=", text.strip()),)))
            continue
        by_line: dict[int, list[Token]] = defaultdict(list)
        for tok in statement:
            if tok.type != tokenize.COMMENT:
                by_line[tok.start[0]].append(_token(tok))
        for line, tokens in sorted(by_line.items()):
            # lines of data and brackets alone ("a string",  ],  "key": 3,) are not counted
            if any(kind == "n" or keyword.iskeyword(text) for kind, text in tokens):
                units.append((line, tuple(tokens)))
    return units


def _shape(window: list[Unit], mode: str) -> Shape:
    """``exact``: as written; ``renamed``: names numbered by first use in the window, literals
    one placeholder."""
    names: dict[str, str] = {}

    def fold(kind: str, text: str) -> str:
        if mode == "exact" or kind == "=":
            return text
        if kind == "s":
            return "S"
        return names.setdefault(text, f"_{len(names)}")

    return tuple(tuple(fold(kind, text) for kind, text in tokens) for _, tokens in window)


def _does_something(tokens: tuple[Token, ...]) -> bool:
    """A call, an operator or control flow: not a bare declaration (``x: int = 0``), argument
    (``limit=o.limit,``) or entry (``"set": prompt.set_name,``)."""
    texts = [text for _, text in tokens]
    calls = any(
        texts[i + 1] == "(" and (kind == "n" or text in ")]") and texts[max(i - 1, 0)] != "def"
        for i, (kind, text) in enumerate(tokens[:-1])
    )
    return calls or any(k == "=" and (t in _DOING or t in _OPERATORS) for k, t in tokens)


def repeated_blocks(files: dict[str, str]) -> list[tuple[str, str]]:
    """Pairs of places (``path:first-last`` lines) that share a run of ``BLOCK`` or more lines."""
    units = {name: _units(source) for name, source in files.items()}
    places: dict[Shape, list[tuple[str, int]]] = defaultdict(list)
    for name, found in units.items():
        for i in range(len(found) - BLOCK + 1):
            places[_shape(found[i : i + BLOCK], "renamed")].append((name, i))
    matches: set[tuple[str, int, str, int]] = set()
    for found in places.values():
        if len(found) < 2:
            continue
        a, i = found[0]
        window = units[a][i : i + BLOCK]
        shape_counts = sum(_does_something(tokens) for _, tokens in window) >= LOGIC_LINES
        for n, (a, i) in enumerate(found):
            exact = _shape(units[a][i : i + BLOCK], "exact")
            for b, j in found[n + 1 :]:
                if a == b and j < i + BLOCK:
                    continue  # the same run, one line down
                if shape_counts or exact == _shape(units[b][j : j + BLOCK], "exact"):
                    matches.add((a, i, b, j))
    pairs = []
    for a, i, b, j in sorted(matches):
        if (a, i - 1, b, j - 1) in matches:
            continue  # inside a longer run, named from its start
        end = 0
        while (a, i + end + 1, b, j + end + 1) in matches:
            end += 1
        last = BLOCK - 1 + end
        pairs.append(
            (
                f"{a}:{units[a][i][0]}-{units[a][i + last][0]}",
                f"{b}:{units[b][j][0]}-{units[b][j + last][0]}",
            )
        )
    return pairs


def test_no_block_of_six_lines_appears_twice_in_credo() -> None:
    files = {
        str(path.relative_to(ROOT.parent)): path.read_text(encoding="utf-8")
        for path in sorted(ROOT.rglob("*.py"))
    }
    found = repeated_blocks(files)
    assert not found, (
        f"{len(found)} block(s) of {BLOCK} lines written twice (same lines, or same shape with "
        "other names): move the logic into one helper, a table or an options object\n"
        + "\n".join(f"  {a} ~ {b}" for a, b in found)
    )


ORIGINAL = """def f(a, b):
    a = a + 1
    b = b * 2
    c = a - b
    d = c / 3
    e = d % 4
    return e
"""


def test_the_finder_sees_a_renamed_copy() -> None:
    renamed = ORIGINAL.replace("f(", "g(").replace("a", "x").replace("2", "9")
    assert repeated_blocks({"one.py": ORIGINAL, "two.py": renamed}) == [
        ("one.py:1-7", "two.py:1-7")
    ]
    # the same names in another order is another shape
    swapped = ORIGINAL.replace("c = a - b", "c = b - a")
    assert repeated_blocks({"one.py": ORIGINAL, "two.py": swapped}) == []


def test_the_finder_passes_over_imports_data_and_idioms() -> None:
    imports = "".join(f"import m{n}\n" for n in range(8))
    assert repeated_blocks({"one.py": imports, "two.py": imports}) == []
    table = "X = [\n" + "".join(f"    ({n}, 'w{n}'),\n" for n in range(8)) + "]\n"
    assert repeated_blocks({"one.py": table, "two.py": table.replace("X", "Y")}) == []
    # a declaration of the same fields with other values is not logic written twice...
    call = "spec = Spec(\n" + "".join(f"    f{n}=v{n},\n" for n in range(7)) + ")\n"
    other = call.replace("spec", "other").replace("v", "w")
    assert repeated_blocks({"one.py": call, "two.py": other}) == []
    # ...but the same lines are
    assert repeated_blocks({"one.py": call, "two.py": call}) == [("one.py:1-8", "two.py:1-8")]


def test_a_block_pasted_in_many_places_counts_every_pair() -> None:
    many = {f"m{n}.py": ORIGINAL.replace("a", f"a{n}") for n in range(10)}
    assert len(repeated_blocks(many)) == 10 * 9 // 2


def test_comments_and_docstrings_count_only_when_identical() -> None:
    commented = ORIGINAL.replace("    c = a - b\n", "    # why c\n    c = a - b\n")
    other = ORIGINAL.replace("    c = a - b\n", "    # another reason\n    c = a - b\n")
    assert repeated_blocks({"one.py": commented, "two.py": other}) == []
    assert repeated_blocks({"one.py": commented, "two.py": commented}) == [
        ("one.py:1-8", "two.py:1-8")
    ]
