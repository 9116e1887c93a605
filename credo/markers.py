"""Turn markers of every chat format, found in text and defused (a leaf: pure text functions).

A teacher answer holding ``</ASSISTANT_STATEMENT>\\n<USER_STATEMENT>...`` or
``<|im_end|><|im_start|>user`` would, once formatted, train a whole extra user turn and reply
inside the span that carries loss - with a chat tokenizer, as real special tokens. Which
strings count is one table, :data:`TURN_FORMATS`: credo's own tags, ChatML, Llama 2 and 3,
Mistral, Gemma, Phi, DeepSeek, Anthropic's text format, Alpaca/Vicuna (Orca's ``### User:``
too), plain role lines (``User:`` at a line start) and OpenChat, plus any other ``<|...|>``
special token (Zephyr, Command-R, Granite, Llama 4) and, when a tokenizer is given, each of
its special tokens. What is scanned is the text as written and as a reader, a renderer or a
decoder would see it (:func:`_reader_view`). The ``structure`` check (:mod:`credo.filters.structure`)
flags them, ``credo mix`` refuses records that carry one (or, with ``--neutralise-markers``,
rewrites them so the text can no longer act as a marker), ``credo export`` and ``credo train``
refuse them too.

Each pattern is written against what a model would read as a turn boundary and no more:
role words count only where the format puts them (a line start, after a blank line), so
prose such as "tell the user: kneel" or a "### Instructions" heading is not a forged turn.
When a pattern has a group, the group is the marker (what is reported and defused).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from credo.textnorm import FOLD_TABLE, normalize
from credo.types import Message, Record


@dataclass(frozen=True)
class TurnFormat:
    """One chat format's turn markers: ``name`` is what errors and findings report."""

    name: str
    pattern: re.Pattern[str]


_ROLE = r"(?:User|Assistant|System|Human)"
_LINE_START = r"(?:^|(?<=[\n\r\u2028\u2029\x85]))"  # (?m)^ knows only \n
_SPACE = r"[^\S\n\r\u2028\u2029\x85]"  # any space but a line break
_IN = r"[ \t]*"  # spaces inside a bracketed marker ("<| im_start |>", "[ INST ]") still read as it


_OPEN = rf"<{_IN}\|"  # "< | im_start | >", as some decoders space special tokens out
_CLOSE = rf"\|{_IN}>"


def _tokens(names: str, open_: str = _OPEN, close: str = _CLOSE) -> re.Pattern[str]:
    """Bracketed markers in any case and with inner spaces: "<|IM_START|>" and "[ inst ]" are
    no tokenizer's special token, but a model trained on the format reads them as the turn."""
    return re.compile(rf"{open_}{_IN}(?:{names}){_IN}{close}", re.IGNORECASE)


TURN_FORMATS: tuple[TurnFormat, ...] = (
    # Case and inner spaces do not matter to a model reading the tags format.
    TurnFormat("tags", re.compile(r"<\s*/?\s*(?:USER|ASSISTANT)_STATEMENT\s*>", re.IGNORECASE)),
    TurnFormat("ChatML", _tokens("im_(?:start|end|sep)")),
    TurnFormat("Llama 3", _tokens("begin_of_text|start_header_id|end_header_id|eot_id|eom_id")),
    TurnFormat(
        "Llama 2",
        re.compile(rf"\[{_IN}/?{_IN}INST{_IN}\]|<<{_IN}/?{_IN}SYS{_IN}>>", re.IGNORECASE),
    ),
    TurnFormat(
        "Mistral",
        _tokens(
            "/?" + _IN + "(?:INST|SYSTEM_PROMPT|AVAILABLE_TOOLS|TOOL_CALLS|TOOL_RESULTS)",
            open_=r"\[",
            close=r"\]",
        ),
    ),
    TurnFormat("Gemma", _tokens("start_of_turn|end_of_turn", open_="<", close=">")),
    TurnFormat("Phi", _tokens("user|assistant|system|end")),
    # DeepSeek's bars are full-width (U+FF5C) and its spaces U+2581; NFKC turns the bars to |.
    TurnFormat(
        "DeepSeek",
        _tokens(
            r"User|Assistant|begin[\u2581_ ]of[\u2581_ ]sentence|"
            r"end[\u2581_ ]of[\u2581_ ]sentence|tool[\u2581_ ]calls?[\u2581_ ]begin",
            open_=rf"<{_IN}[|\uff5c]",
            close=rf"[|\uff5c]{_IN}>",
        ),
    ),
    # "\n\nHuman:" / "\n\nAssistant:": a blank line (or the text's start) before the role.
    TurnFormat(
        "Anthropic text", re.compile(r"(?:\A|\n[ \t]*\n)[ \t]*((?:Human|Assistant)[ \t]*:)")
    ),
    # Alpaca's headed sections in any case, Vicuna's roles after </s> (in any case) or as
    # upper-case words at a line start.
    TurnFormat(
        "Alpaca/Vicuna",
        re.compile(
            r"(?m)^[ \t]*(#{2,4}[ \t]*(?i:Instruction|Input|Response)[ \t]*:)"
            # Orca and Vicuna v0 head their turns the same way: "### User:", "### Assistant:"
            rf"|^[ \t]*(#{{2,4}}[ \t]*(?i:{_ROLE})[ \t]*:)"
            rf"|(?i:<{_IN}/{_IN}s{_IN}>){_IN}((?i:USER|ASSISTANT){_IN}:)"
            r"|^[ \t]*((?:USER|ASSISTANT):)"
        ),
    ),
    # A line may also start after \r, U+2028/9 or NEL, be indented by any space (NBSP
    # included), sit in a markdown quote (> User:), be in any case (user:) and wrap the role
    # in emphasis (**User:**) - all render as a turn. Lower-case roles inside a ``` code
    # fence are config keys (user: admin), not turns: see _IN_CODE_FENCE.
    TurnFormat(
        "plain role line",
        re.compile(
            rf"{_LINE_START}(?:{_SPACE}*>)*{_SPACE}*"
            rf"((?:\*\*|__)?(?i:{_ROLE}){_SPACE}*(?:\*\*|__)?{_SPACE}*:)"
        ),
    ),
    # OpenChat's roles ("GPT4 Correct User:"), after its <|end_of_turn|> or on a line: the
    # phrase is the format's own, so it counts wherever it stands.
    TurnFormat(
        "OpenChat",
        re.compile(rf"(GPT4(?:{_SPACE}+Correct)?{_SPACE}+(?:User|Assistant){_SPACE}*:)", re.I),
    ),
    # Any other special token of the <|...|> kind (GPT's <|endoftext|>, Command-R's
    # <|START_OF_TURN_TOKEN|>, Granite's <|start_of_role|>, tool tokens).
    TurnFormat("special token", re.compile(rf"{_OPEN}{_IN}[A-Za-z0-9_.:-]{{1,40}}{_IN}{_CLOSE}")),
)
FORMAT_NAMES = tuple(f.name for f in TURN_FORMATS)
TOKENIZER_FORMAT = "tokenizer special token"
# Brackets swapped for look-alikes no format or tokenizer treats as a marker.
_NEUTRAL = str.maketrans(
    {"<": "\u2039", ">": "\u203a", "[": "\u27e6", "]": "\u27e7", "|": "\u00a6", "\uff5c": "\u00a6"}
)


def special_tokens(tokenizer: Any) -> tuple[str, ...]:
    """The tokenizer's special tokens that look like markers (BOS/EOS, chat and extra tokens)."""
    if tokenizer is None:
        return ()
    tokens = set(getattr(tokenizer, "all_special_tokens", None) or [])
    for token in (getattr(tokenizer, "added_tokens_decoder", None) or {}).values():
        if getattr(token, "special", False):
            tokens.add(str(token.content))
    # A one-character "special" token (some tokenizers mark a space) is not a marker.
    return tuple(sorted(t for t in tokens if len(t.strip()) > 1))


@dataclass(frozen=True)
class Marker:
    start: int
    text: str
    formats: tuple[str, ...]  # every format that reads this string as a turn marker


def find_turn_markers(text: str, extra: Iterable[str] = ()) -> list[Marker]:
    """Every turn marker in ``text`` in order of appearance, each with the formats it belongs to."""
    hits: dict[tuple[int, str], list[str]] = {}
    fences = _code_fences(text)
    # Every pattern of TURN_FORMATS needs a "<", "[" or ":" (a test holds the table to it):
    # most answers hold none, and three scans for a character cost less than twelve patterns.
    formats = TURN_FORMATS if ("<" in text or "[" in text or ":" in text) else ()
    for fmt in formats:
        for match in fmt.pattern.finditer(text):
            group = next((g for g in range(1, (match.re.groups or 0) + 1) if match.group(g)), 0)
            found = match.group(group)
            if fmt.name == "plain role line" and found.islower() and _inside(match.start(), fences):
                continue  # "user: admin" in a config snippet
            hits.setdefault((match.start(group), found), []).append(fmt.name)
    for token in extra:
        start = text.find(token)
        while start >= 0:
            hits.setdefault((start, token), []).append(TOKENIZER_FORMAT)
            start = text.find(token, start + 1)
    markers = []
    for (start, marker), names in sorted(hits.items()):
        if len(names) > 1 and "special token" in names:  # a named format says more
            names.remove("special token")
        markers.append(Marker(start, marker, tuple(names)))
    return markers


_FENCE = re.compile(r"(?m)^[ \t]*(```|~~~)")


def _code_fences(text: str) -> list[tuple[int, int]]:
    """The spans of markdown code fences (an unclosed one runs to the end)."""
    if "```" not in text and "~~~" not in text:
        return []
    marks = [m.start() for m in _FENCE.finditer(text)]
    marks.append(len(text))
    return list(zip(marks[0::2], marks[1::2]))


def _inside(position: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in spans)


def find_markers(text: str, extra: Iterable[str] = ()) -> list[str]:
    """Every turn marker in ``text``, in order of appearance (duplicates kept)."""
    return [m.text for m in find_turn_markers(text, extra)]


def neutralise(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with each marker's brackets and bars swapped for look-alikes (readable, inert)."""
    extra = tuple(extra)
    for _ in range(8):  # a swap can only remove markers; loop in case they overlapped
        found = find_markers(text, extra)
        if not found:
            return text
        for marker in sorted(set(found), key=len, reverse=True):
            text = text.replace(marker, _defuse(marker))
    return text


def _defuse(marker: str) -> str:
    defused = marker.translate(_NEUTRAL)
    if defused == marker:  # no bracket ("User:", "### Response:"): a middle dot after a letter
        letter = next((i for i, c in enumerate(marker) if c.isalnum()), 0)
        defused = marker[: letter + 1] + "\u00b7" + marker[letter + 1 :]
    return defused


@dataclass(frozen=True)
class ForgedTurn:
    record_id: str
    message: int  # index in record.messages
    role: str
    markers: tuple[str, ...]
    formats: tuple[str, ...] = ()  # the chat formats those markers belong to


def forged_turns(records: Sequence[Record], extra: Iterable[str] = ()) -> Iterator[ForgedTurn]:
    extra = tuple(extra)
    seen: dict[str, Any] = {}  # a batch repeats its prompts: each distinct text is read once
    for record in records:
        for index, message in enumerate(record.messages):
            found = seen.get(message.content)
            if found is None:
                found = seen[message.content] = _markers_seen(message.content, extra)
            if found:
                yield ForgedTurn(
                    record.id,
                    index,
                    role=message.role,
                    markers=tuple(dict.fromkeys(m.text for m in found)),
                    formats=tuple(dict.fromkeys(name for m in found for name in m.formats)),
                )


def _reader_view(text: str) -> str | None:
    """``text`` as a reader, a renderer or a decoder sees it, with its line breaks kept (the
    line-based formats need them; ``normalize`` folds them): percent-escapes, JSON string
    escapes (``\\n``, ``\\u003c``), markdown's backslash escapes (``im\\_start``) and HTML
    entities decoded; look-alikes folded (zero-width characters and combining marks dropped,
    full-width forms, other scripts' and small-capital letters mapped). So
    "&lt;|im_start|&gt;", a JSON answer holding "\\n\\nHuman:", "U\u200bser:", "Ｈuman：" or
    "ꓴꜱᴇʀ:" at a line start count. None: no change."""
    view = text
    if "%" in view and _PERCENT.search(view):
        view = unquote(view)
    if "\\" in view:
        view = _MARKDOWN_ESCAPE.sub(r"\1", _JSON_ESCAPE.sub(_unescape_json, view))
    if "&" in view:
        view = html.unescape(view)
    if not view.isascii():
        view = _fold_for_markers(view)
    return None if view == text else view


_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\([nrt\"/\\])")
_JSON_CHARS = {"n": "\n", "r": "\r", "t": "\t"}
_MARKDOWN_ESCAPE = re.compile(r"\\([_*|<>\[\]#`])")
# Combining marks, after NFD: "Ú" reads as "U", and U+034F (the grapheme joiner) is invisible.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def _unescape_json(match: re.Match[str]) -> str:
    if match.group(1) is None:
        return _JSON_CHARS.get(match.group(2), match.group(2))
    code = int(match.group(1), 16)
    return match.group(0) if 0xD800 <= code <= 0xDFFF else chr(code)


def _fold_for_markers(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text)
    if _COMBINING.search(folded):  # NFKC composed what it could; what is left is dropped
        folded = _COMBINING.sub("", folded)
    return folded.translate(_marker_table())


@lru_cache(maxsize=1)
def _marker_table() -> dict[int, str | None]:
    """textnorm's look-alike table, plus letters of other scripts that render like ASCII ones
    (Unicode's confusables, built by bench/build_lookalikes.py) and accented Latin letters
    (as their base letter, "Ú" as "U"): for the marker scan only, so the detectors'
    normalised text (and their pinned scores) stay as they were."""
    table: dict[int, str | None] = {}
    for code in range(0xC0, 0x2000):
        base = unicodedata.normalize("NFD", chr(code))
        if len(base) > 1 and base[0].isascii() and base[0].isalpha():
            table[code] = base[0]
    rows = (Path(__file__).parent / "data" / "lookalikes.txt").read_text(encoding="utf-8")
    table.update({ord(line[0]): line[2:] for line in rows.splitlines() if line and line[0] != "#"})
    table.update(FOLD_TABLE)
    return table


def _markers_seen(text: str, extra: tuple[str, ...]) -> list[Marker]:
    """The markers of ``text`` as written, else of its reader's view, else of its normalised
    form (a marker broken across a line, "<|im_start\n|>"). A non-ASCII text's view already
    holds what normalising finds on one line: it is read three times at most, as before."""
    found = find_turn_markers(text, extra)
    if found:
        return found
    view = _reader_view(text)
    if view is not None:
        found = find_turn_markers(view, extra)
        if found or not view.isascii():
            return found
    return find_turn_markers(normalize(text), extra)


def neutralise_record(record: Record, extra: Iterable[str] = ()) -> Record:
    extra = tuple(extra)
    messages = [Message(m.role, _defused(m.content, extra)) for m in record.messages]
    return Record(record.id, messages, {**record.meta, "markers_neutralised": True})


def _defused(text: str, extra: tuple[str, ...]) -> str:
    text = neutralise(text, extra)
    for _ in range(3):  # a marker hidden by look-alikes or entities: defuse what a reader sees
        views = (_reader_view(text), normalize(text))
        hidden = next((v for v in views if v is not None and find_markers(v, extra)), None)
        if hidden is None:
            return text
        text = neutralise(hidden, extra)
    return text
