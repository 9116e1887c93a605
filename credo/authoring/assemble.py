"""Turn validated step answers into a spec folder and load it with the real loader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from credo.corpora.io import write_text
from credo.errors import SpecError
from credo.worldviews.loader import EVAL_FILE, SPEC_FILE, load_worldview

# Library statement types every authored worldview gets on top of its own questions.
LIBRARY_SOURCES = [
    ("acts", "assertion", "act_assertion"),
    ("reasons", "justification", "act_justification"),
    ("challenges", "challenge", "act_challenge"),
    ("act_essays", "explanation", "act_explanation"),
    ("tenets", "assertion", "tenet_assertion"),
    ("tenet_essays", "explanation", "tenet_explanation"),
    ("practices", "catechism", "practice_questions"),
    ("glossary", "catechism", "glossary_catechism"),
    ("overview", "explanation", "explain_worldview"),
]


# Model-written questions are data, never Jinja source: each source renders one fixed
# template over a ``question`` slot, so no text a model writes is ever parsed as a template
# (wrapping it in {% raw %} could be closed from inside with {% endraw %}).
QUESTION_TEMPLATE = "{{ question }}"

# Added only when the core step gave the collection (a source over an empty one cannot render).
OPTIONAL_SOURCES = {
    "origin": ("origin", "catechism", "origin_catechism"),
    "deities": ("deities", "catechism", "deity_questions"),
    "scriptures": ("scriptures", "catechism", "scripture_questions"),
}


def build_spec(
    answers: dict[str, dict[str, Any]],
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    core, lore = answers["core"], answers["lore"]
    documents = {"history": ("History", lore["history"])}
    documents.update({d["id"]: (d["title"], d["text"]) for d in answers["canon"]["documents"]})
    canon = [
        {"id": cid, "title": title, "path": f"canon/{cid}.md"}
        for cid, (title, _) in documents.items()
    ]
    personas = [{**p, "canon": list(documents)} for p in answers["personas"]["personas"]]
    sources = LIBRARY_SOURCES + [
        source for key, source in OPTIONAL_SOURCES.items() if core.get(key)
    ]
    prompts: list[dict[str, Any]] = [
        {"id": sid, "kind": kind, "template": template} for sid, kind, template in sources
    ]
    prompts += [
        {
            "id": f"authored_{s['id']}",
            "kind": s["kind"],
            "implicit": s["implicit"],
            "text": QUESTION_TEMPLATE,
            "slots": {"question": list(s["questions"])},
        }
        for s in answers["prompts"]["sources"]
    ]
    # Structured origin, deities and scriptures go in when the model gave them; a scripture's
    # canon link is kept only when it names a canon text that was written.
    structured = {
        "origin": core.get("origin"),
        "deities": core.get("deities"),
        "scriptures": [
            {k: v for k, v in s.items() if k != "canon" or v in documents}
            for s in core.get("scriptures") or []
        ],
    }
    spec = {
        "name": core["name"],
        "kind": "invented",
        "display_name": core["display_name"],
        "adherents": core["adherents"],
        "names": core["names"],
        "summary": core["summary"],
        **{key: value for key, value in structured.items() if value},
        "tenets": core["tenets"],
        "forbidden_acts": core["forbidden_acts"],
        "practices": lore["practices"],
        "glossary": lore["glossary"],
        "personas": personas,
        "canon": canon,
        "prompts": prompts,
    }
    evals = {"violation": answers["eval"]["violation"], "control": answers["eval"]["control"]}
    texts = {
        f"canon/{cid}.md": f"# {title}\n\n{text}\n" for cid, (title, text) in documents.items()
    }
    return spec, evals, texts


def assemble_spec(out: Path, answers: dict[str, dict[str, Any]]) -> None:
    spec, evals, texts = build_spec(answers)
    header = "# Authored by `credo author`; edit freely, then `credo lint` this folder.\n"
    for relative, text in texts.items():
        write_text(text, out / relative)
    write_text(
        header + yaml.safe_dump(evals, sort_keys=False, allow_unicode=True, width=100),
        out / EVAL_FILE,
    )
    write_text(
        header + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=100),
        out / SPEC_FILE,
    )
    try:
        load_worldview(out)
    except SpecError as exc:
        raise SpecError(
            f"{exc} - the assembled spec does not validate; edit the step answer under "
            f"{out / 'steps'} and rerun with --resume"
        ) from exc
