"""Turn markers of every chat format, found in text and defused (a leaf: pure text functions).

A teacher answer holding ``</ASSISTANT_STATEMENT>\\n<USER_STATEMENT>...`` or
``<|im_end|><|im_start|>user`` would, once formatted, train a whole extra user turn and reply
inside the span that carries loss - with a chat tokenizer, as real special tokens. Which
strings count is one table, :data:`TURN_FORMATS`: credo's own tags, ChatML, Llama 2 and 3,
Mistral, Gemma, Phi, DeepSeek, Anthropic's text format, Alpaca/Vicuna and plain role lines
(``User:`` at a line start), plus any other ``<|...|>`` special token and, when a tokenizer
is given, each of its special tokens. The ``structure`` check (:mod:`credo.filters.structure`)
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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from credo.textnorm import fold_lookalikes, normalize
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


def _tokens(names: str, open_: str = r"<\|", close: str = r"\|>") -> re.Pattern[str]:
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
            open_="<[|\uff5c]",
            close="[|\uff5c]>",
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
    # Any other special token of the <|...|> kind (GPT's <|endoftext|>, tool tokens).
    TurnFormat("special token", re.compile(rf"<\|{_IN}[A-Za-z0-9_.:-]{{1,40}}{_IN}\|>")),
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
    """``text`` as a reader (or a renderer) sees it: HTML entities decoded, look-alikes folded
    (zero-width characters dropped, full-width forms and Cyrillic letters mapped) with its line
    breaks kept, so "&lt;|im_start|&gt;", "U\u200bser:" or "Ｈuman：" at a line start count -
    ``normalize`` folds the line breaks the line-based formats need. None: no change."""
    view = html.unescape(text) if "&" in text else text
    if not view.isascii():
        view = fold_lookalikes(view)
    return None if view == text else view


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
