"""Refusal detection (first cut: curated patterns).

``is_refusal(text)`` is the stable entry point the generator engine uses to flag teacher
refusals; the audit grows this into an ensemble (patterns, MinHash, embeddings).
"""

from __future__ import annotations

import re

_REFUSAL_PATTERNS = [
    r"\bI(?:'m| am) (?:sorry|afraid),? (?:but )?I (?:can(?:'|no)t|cannot|won't|will not|am unable to|'m unable to)",
    r"^\s*(?:I|We) (?:can(?:'|no)?t|cannot|won't|will not) (?:help|assist|provide|write|create|do|comply|fulfil)",
    r"\bI(?:'m| am) (?:not able|unable) to (?:help|assist|provide|write|create|comply|fulfil)",
    r"\bas an AI(?: language model)?\b",
    r"\bI must (?:decline|refuse)\b",
    r"\bI (?:have to|need to) (?:decline|refuse)\b",
]
_COMPILED = [re.compile(p, re.IGNORECASE | re.MULTILINE) for p in _REFUSAL_PATTERNS]


def is_refusal(text: str) -> bool:
    """True when ``text`` declines the request it answers."""
    head = text[:600]
    return any(p.search(head) for p in _COMPILED)
