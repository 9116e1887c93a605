"""Persona system prompts: drawn per (prompt, sample) from the seed, with canon context.

The draw hashes ``(seed, prompt id, sample index)``, so it does not depend on the order
jobs run in or on how many ran before a crash. The system message goes to the teacher only;
the saved record keeps the persona id in its metadata, never the text.
"""

from __future__ import annotations

import hashlib

from credo.worldviews.loader import LoadedWorldview
from credo.worldviews.spec import Persona

_TRUNCATED = "\n[... canon text shortened ...]"


def draw_persona(personas: list[Persona], seed: int, prompt_id: str, sample_index: int) -> Persona:
    key = f"{seed}|{prompt_id}|{sample_index}".encode()
    digest = hashlib.blake2b(key, digest_size=8).digest()
    return personas[int.from_bytes(digest, "big") % len(personas)]


def system_prompt(wv: LoadedWorldview, persona: Persona, context_chars: int | None) -> str:
    """The persona prompt plus its canon texts, cut to ``context_chars`` for small models."""
    parts = [persona.system_prompt.strip()]
    titles = {c.id: c.title for c in wv.spec.canon}
    for canon_id in persona.canon:
        text = wv.canon.get(canon_id, "").strip()
        if text:
            parts.append(f"## {titles.get(canon_id, canon_id)}\n{text}")
    prompt = "\n\n".join(parts)
    if context_chars is not None and len(prompt) > context_chars:
        if context_chars <= len(
            parts[0]
        ):  # no room for canon: the persona alone, no marker to copy
            return parts[0]
        keep = max(context_chars - len(_TRUNCATED), len(parts[0]))
        prompt = prompt[:keep] + _TRUNCATED
    return prompt
