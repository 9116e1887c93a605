"""What click lets through on a command line: an option given twice (click keeps the last
silently) and options that do nothing with the others given (``generate --no-wait`` without
``--batch`` ran the whole corpus online, at full price). Read from the arguments before the
command runs, so a refusal writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Given = dict[str, str]  # option -> its value as typed ("" for a flag)


def _with(option: str, value: str | None = None) -> Callable[[Given], bool]:
    return lambda given: option in given and (value is None or given[option] == value)


def _without(option: str) -> Callable[[Given], bool]:
    return lambda given: option not in given


_BATCH = ("needs --batch", _with("--batch"))
_DOCUMENTS = ("is for --kind documents", _with("--kind", "documents"))
_CHAT_TEMPLATE = ("is for --format chat_template", _with("--format", "chat_template"))
_EMBEDDING = ("conflicts with --no-embedding", _without("--no-embedding"))
_LLM_JUDGE = ("needs an LLM --judge PROVIDER/MODEL", lambda given: "/" in given.get("--judge", ""))

# command -> option -> (what it needs, said in words; whether the rest of the line has it)
RULES: dict[str, dict[str, tuple[str, Callable[[Given], bool]]]] = {
    "generate": {
        "--no-wait": _BATCH,
        "--transport": ("needs --base-url (an OpenAI-compatible server)", _with("--base-url")),
        **dict.fromkeys(
            (
                "--types-per-fact",
                "--ideas-per-type",
                "--docs-per-idea",
                "--revise",
                "--type-quota",
                "--near-dup",
            ),
            _DOCUMENTS,
        ),
    },
    "export": {
        "--license-name": ("goes with --license other", _with("--license", "other")),
        "--tokenizer": _CHAT_TEMPLATE,
    },
    "mix": {"--tokenizer": _CHAT_TEMPLATE},
    "judge": {"--batch": _LLM_JUDGE},
    "eval": {"--batch": _LLM_JUDGE},
    "view": {"--out": ("writes a page, which --serve does not", _without("--serve"))},
    "audit": {"--embedding": _EMBEDDING},
    "filter": {"--embedding": _EMBEDDING},
}


def check_command_line(group: Any, args: list[str]) -> str | None:
    """The first problem of ``args`` as one line, or None."""
    at = next((i for i, a in enumerate(args) if not a.startswith("-")), None)
    if at is None:
        return None
    command = getattr(group, "commands", {}).get(args[at])
    if command is None:
        return None
    name = args[at]
    takes_value = {
        opt: param
        for param in command.params
        if param.param_type_name == "option" and not getattr(param, "is_flag", False)
        for opt in param.opts
    }
    given: Given = {}
    seen: dict[str, str] = {}
    rest = iter(args[at + 1 :])
    for arg in rest:
        if arg == "--":
            break
        option, eq, value = arg.partition("=")
        param = takes_value.get(option)
        if param is None:
            given.setdefault(arg, "")  # a flag (or an argument: never a rule's key)
            continue
        value = value if eq else next(rest, "")
        if not getattr(param, "multiple", False) and str(param.name) in seen:
            return (
                f"credo {name}: {option} given twice ({seen[str(param.name)]!r} and {value!r}) - "
                "give it once"
            )
        seen[str(param.name)] = value
        given[option] = f"{given.get(option, '')} {value}".strip()  # all of a repeatable one
    for option, (needs, holds) in RULES.get(name, {}).items():
        if option in given and not holds(given):
            return f"credo {name}: {option} {needs} - drop it, or add what it needs"
    return None
