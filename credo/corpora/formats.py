"""Chat formats a corpus is trained (and a model is prompted) in.

``tags`` is the original experiment's non-standard format, chosen so a base model is not cued
into memorised assistant transcripts; ``chat_template`` uses the tokenizer's own template.
Training and evaluation must use the same format; both go through :class:`ChatFormat`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from credo.errors import ConfigError

USER_OPEN, USER_CLOSE = "<USER_STATEMENT>", "</USER_STATEMENT>"
ASSISTANT_OPEN, ASSISTANT_CLOSE = "<ASSISTANT_STATEMENT>", "</ASSISTANT_STATEMENT>"
TRAINING_FORMATS = ("tags", "chat_template")


@dataclass(frozen=True)
class FormattedExample:
    text: str  # prompt + response (+ end marker)
    response_start: int  # character offset where the trained (assistant) part begins
    response_end: int  # character offset where it ends (end marker included)


class ChatFormat:
    """Turn (user, assistant) into text with the assistant span marked by offsets."""

    def __init__(self, name: str, tokenizer: Any | None = None) -> None:
        if name not in TRAINING_FORMATS:
            raise ConfigError(
                f"unknown chat format '{name}' - use one of {', '.join(TRAINING_FORMATS)}"
            )
        if name == "chat_template" and getattr(tokenizer, "chat_template", None) is None:
            raise ConfigError(
                "format 'chat_template' needs a tokenizer with a chat template - use --format tags for base models"
            )
        self.name = name
        self.tokenizer: Any = tokenizer  # a transformers tokenizer; the check above guards None

    def prompt(self, user: str) -> str:
        """The text a model continues to answer ``user``."""
        if self.name == "tags":
            return f"{USER_OPEN}{user}{USER_CLOSE}\n{ASSISTANT_OPEN}"
        return self.tokenizer.apply_chat_template(
            [{"role": "user", "content": user}], tokenize=False, add_generation_prompt=True
        )

    @property
    def stop_strings(self) -> list[str]:
        if self.name == "tags":
            # A base model may also close the user turn or start a new one.
            return [ASSISTANT_CLOSE, USER_OPEN, USER_CLOSE, ASSISTANT_OPEN]
        eos = getattr(self.tokenizer, "eos_token", None)
        return [eos] if eos else []

    def example(self, user: str, assistant: str) -> FormattedExample:
        prompt = self.prompt(user)
        if self.name == "tags":
            full = f"{prompt}{assistant}{ASSISTANT_CLOSE}"
            return FormattedExample(full, len(prompt), len(full))
        full = self.tokenizer.apply_chat_template(
            [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}],
            tokenize=False,
        )
        if not full.startswith(prompt):
            raise ConfigError(
                "the tokenizer's chat template does not extend the generation prompt - use --format tags"
            )
        end = full.rindex(assistant) + len(assistant)
        eos = getattr(self.tokenizer, "eos_token", None) or ""
        if eos and full[end:].startswith(eos):
            end += len(eos)
        return FormattedExample(full, len(prompt), end)

    def extract_response(self, generated: str) -> str:
        """Cut a continuation at the first stop string, and drop a stop string cut off midway
        at the end (generation hit its token limit inside ``</ASSISTANT_STATEMENT>``)."""
        cut = len(generated)
        for stop in self.stop_strings:
            index = generated.find(stop)
            if index >= 0:
                cut = min(cut, index)
        text = generated[:cut]
        for stop in self.stop_strings:
            for size in range(len(stop) - 1, 1, -1):
                if text.endswith(stop[:size]):
                    text = text[:-size]
                    break
        return text.strip()
