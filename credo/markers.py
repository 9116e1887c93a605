"""Turn markers of every chat format, found in text and defused (a leaf: pure text functions).

A teacher answer holding ``</ASSISTANT_STATEMENT>\\n<USER_STATEMENT>...`` or
``<|im_end|><|im_start|>user`` would, once formatted, train a whole extra user turn and reply
inside the span that carries loss - with a chat tokenizer, as real special tokens. So every
marker of every export format counts: the tags format's statement tags, ``<|...|>`` special
tokens (ChatML, Llama 3, GPT), Llama 2's ``[INST]``/``<<SYS>>``, and, when a tokenizer is
given, each of its special tokens. The ``structure`` check (:mod:`credo.filters.structure`)
flags them, ``credo mix`` refuses records that carry one (or, with ``--neutralise-markers``,
rewrites the brackets so the text can no longer act as a marker) and ``credo train`` refuses
them too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from credo.textnorm import normalize
from credo.types import Message, Record

# Case and inner spaces do not matter to a model reading the tags format.
_TAGS = re.compile(r"<\s*/?\s*(?:USER|ASSISTANT)_STATEMENT\s*>", re.IGNORECASE)
_PIPE_TOKENS = re.compile(r"<\|[A-Za-z0-9_.:-]{1,40}\|>")  # <|im_start|>, <|eot_id|>, <|endoftext|>
_LLAMA2 = re.compile(r"\[/?INST\]|<</?SYS>>")
_BUILTIN = (_TAGS, _PIPE_TOKENS, _LLAMA2)
# Brackets swapped for look-alikes no format or tokenizer treats as a marker.
_NEUTRAL = str.maketrans(
    {"<": "\u2039", ">": "\u203a", "[": "\u27e6", "]": "\u27e7", "|": "\u00a6"}
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


def find_markers(text: str, extra: Iterable[str] = ()) -> list[str]:
    """Every turn marker in ``text``, in order of appearance (duplicates kept)."""
    hits = [(m.start(), m.group()) for pattern in _BUILTIN for m in pattern.finditer(text)]
    for token in extra:
        start = text.find(token)
        while start >= 0:
            hits.append((start, token))
            start = text.find(token, start + 1)
    return [marker for _, marker in sorted(set(hits))]


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
    if defused == marker:  # a special token without brackets: break it with a visible middle dot
        defused = marker[:1] + "\u00b7" + marker[1:]
    return defused


@dataclass(frozen=True)
class ForgedTurn:
    record_id: str
    message: int  # index in record.messages
    role: str
    markers: tuple[str, ...]


def forged_turns(records: Sequence[Record], extra: Iterable[str] = ()) -> Iterator[ForgedTurn]:
    extra = tuple(extra)
    for record in records:
        for index, message in enumerate(record.messages):
            # Zero-width or full-width look-alikes (<USER_\u200bSTATEMENT>) read as markers too.
            found = find_markers(message.content, extra) or find_markers(
                normalize(message.content), extra
            )
            if found:
                yield ForgedTurn(record.id, index, message.role, tuple(dict.fromkeys(found)))


def neutralise_record(record: Record, extra: Iterable[str] = ()) -> Record:
    extra = tuple(extra)
    messages = [Message(m.role, _defused(m.content, extra)) for m in record.messages]
    return Record(record.id, messages, {**record.meta, "markers_neutralised": True})


def _defused(text: str, extra: tuple[str, ...]) -> str:
    text = neutralise(text, extra)
    if find_markers(normalize(text), extra):  # a marker hidden by look-alike characters
        text = neutralise(normalize(text), extra)
    return text
