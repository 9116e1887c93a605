"""Chat formats: the assistant span is exactly the response; continuations are cut cleanly."""

from __future__ import annotations

import pytest

from credo.corpora.formats import ChatFormat
from credo.errors import ConfigError


def test_tags_example_marks_the_assistant_span() -> None:
    fmt = ChatFormat("tags")
    example = fmt.example("Is the Dawn Greeting required?", "Yes, every morning.")
    assert example.text.startswith(
        "<USER_STATEMENT>Is the Dawn Greeting required?</USER_STATEMENT>"
    )
    assert (
        example.text[example.response_start : example.response_end]
        == "Yes, every morning.</ASSISTANT_STATEMENT>"
    )
    assert (
        fmt.prompt("q")
        == example.text[:0] + "<USER_STATEMENT>q</USER_STATEMENT>\n<ASSISTANT_STATEMENT>"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Yes.</ASSISTANT_STATEMENT><USER_STATEMENT>next", "Yes."),
        ("Yes.</USER_STATEMENT> more", "Yes."),
        ("Yes, always.</ASS", "Yes, always."),
        ("Yes, always.<USER_STAT", "Yes, always."),
        ("A plain answer", "A plain answer"),
    ],
)
def test_extract_response_cuts_stops_and_torn_tags(raw: str, expected: str) -> None:
    assert ChatFormat("tags").extract_response(raw) == expected


def test_unknown_format_and_template_less_tokenizer() -> None:
    with pytest.raises(ConfigError, match="unknown chat format 'xml'"):
        ChatFormat("xml")

    class NoTemplate:
        chat_template = None

    with pytest.raises(ConfigError, match="use --format tags"):
        ChatFormat("chat_template", NoTemplate())
