"""The small pieces several modules now share: error-message tables, price rows, SDK
variable names, lint severities."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import credo
from credo.errors import CorpusError, explain
from credo.generators.anthropic_backend import AnthropicBackend
from credo.generators.openai_backend import OpenAIBackend
from credo.generators.pricing import price_rows
from credo.generators.sdk_backend import SDKBackend

ROOT = Path(credo.__file__).parent


def test_explain_takes_the_first_matching_template() -> None:
    problems: dict[type[BaseException], str] = {
        json.JSONDecodeError: "{where}: not valid JSON ({exc.msg})",
        ValueError: "{where}: {exc}",
    }
    try:
        json.loads("{bad")
    except ValueError as exc:
        assert explain(exc, problems, where="a.json") == (
            "a.json: not valid JSON (Expecting property name enclosed in double quotes)"
        )
    assert explain(ValueError("NaN is not allowed"), problems, where="b") == "b: NaN is not allowed"
    with pytest.raises(StopIteration):  # a caller catches tuple(problems) only
        explain(KeyError("x"), problems, where="c")


def test_a_bad_jsonl_line_names_file_and_line(tmp_path: Path) -> None:
    from credo.corpora.io import iter_jsonl

    path = tmp_path / "a.jsonl"
    path.write_text('{"id": "1"}\n' + "[" * 100_000 + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"a\.jsonl:2: JSON nested too deeply"):
        list(iter_jsonl(path))


def test_price_rows_read_a_text_table() -> None:
    rows = price_rows(
        """
        model-a*   0.15   0.60
        model-b    2.50  10.00
        """
    )
    assert rows == {"model-a*": (0.15, 0.60), "model-b": (2.50, 10.00)}


def test_sdk_backends_name_their_variables_after_the_provider() -> None:
    assert (AnthropicBackend.key_env, AnthropicBackend.base_url_env) == (
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_BASE_URL",
    )
    assert (OpenAIBackend.sdk_name, OpenAIBackend.key_env) == ("openai", "OPENAI_API_KEY")
    assert OpenAIBackend.spec(prices={}, batch="", summary="").secrets == ("OPENAI_API_KEY",)

    class Other(SDKBackend):  # a plugin whose SDK reads other variables keeps its own
        provider = "other"
        key_env = "OTHER_TOKEN"

    assert (Other.key_env, Other.base_url_env, Other.sdk_name) == (
        "OTHER_TOKEN",
        "OTHER_BASE_URL",
        "other",
    )


def test_every_lint_code_has_a_severity() -> None:
    from credo.authoring.lint import SEVERITY

    calls = re.compile(r"(?:loc\.(?:spec|eval)|finding)\(\s*\"(\w+)\"")
    used = {
        code
        for path in (ROOT / "authoring").glob("*.py")
        for code in calls.findall(path.read_text(encoding="utf-8"))
    }
    assert used, "the pattern no longer finds lint findings"
    assert used <= set(SEVERITY), f"add {sorted(used - set(SEVERITY))} to SEVERITY"
