"""``credo lint``: find what makes a spec untrustworthy, each finding at its spec line.

Checks: placeholders left in, glossary terms defined but unused (and recurring capitalised
terms used but undefined), blank reasons, forbidden acts no violation request covers,
violations without controls, controls not built on their violation's template, exact and
near-duplicate prompts (within training, within eval, and eval vs training), semantic
paraphrases of eval requests among training prompts (the audit's ``eval_contamination``
code and thresholds, with MiniLM), training prompts that ask for help doing a forbidden act
(the audit's ``forbidden_request`` check), and implicit prompts that name the worldview,
a glossary term or a practice. An optional judge model checks canon passages against
tenets (see :mod:`credo.authoring.contradictions`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from credo.filters.base import AuditContext, EvalItem
from credo.filters.contamination import EvalContaminationCheck
from credo.filters.dedup import candidate_pairs
from credo.filters.forbidden import ForbiddenRequestCheck, acts_from_spec
from credo.filters.minhash import MinHashConfig, signatures
from credo.templates.render import render_prompts
from credo.types import Message, Prompt, Record
from credo.worldviews.loader import EVAL_FILE, SPEC_FILE, LoadedWorldview, yaml_line

Severity = Literal["error", "warning"]
PLACEHOLDER = "REPLACE"
NEAR_DUPLICATE_JACCARD = 0.85
CONTROL_TEMPLATE_SIMILARITY = 0.25
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "me",
        "my",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "do",
        "does",
        "did",
        "can",
        "could",
        "should",
        "would",
        "about",
    ]
)


# Every finding's code and how serious it is: an error fails ``credo lint``.
SEVERITY: dict[str, Severity] = {
    "placeholder": "error",
    "glossary_unused": "warning",
    "glossary_undefined": "warning",
    "act_reason_blank": "error",
    "act_without_violation": "warning",
    "violation_without_control": "error",
    "control_form_mismatch": "error",
    "control_not_matched": "warning",
    "near_duplicate_prompt": "warning",
    "duplicate_eval_request": "error",
    "eval_in_training": "error",
    "training_requests_forbidden_act": "error",
    "eval_paraphrase_in_training": "error",
    "implicit_names_term": "error",
    "term_collides": "error",  # credo.authoring.novelty
    "contradiction_unjudged": "warning",  # credo.authoring.contradictions
    "canon_contradicts_tenet": "error",
}


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    file: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        return f"{where}: {self.severity}: [{self.code}] {self.message}"


class _Locator:
    """Spec and eval line numbers for YAML paths."""

    def __init__(self, wv: LoadedWorldview) -> None:
        self.spec_path = wv.root / SPEC_FILE
        self.eval_path = wv.root / EVAL_FILE
        self.spec_text = self.spec_path.read_text(encoding="utf-8")
        self.eval_text = (
            self.eval_path.read_text(encoding="utf-8") if self.eval_path.is_file() else ""
        )

    def spec(self, code: str, loc: tuple, message: str) -> Finding:
        return finding(code, self.spec_path, yaml_line(self.spec_text, loc), message)

    def eval(self, code: str, loc: tuple, message: str) -> Finding:
        return finding(code, self.eval_path, yaml_line(self.eval_text, loc), message)


def finding(code: str, file: Path, line: int | None, message: str) -> Finding:
    return Finding(code=code, severity=SEVERITY[code], file=file, line=line, message=message)


def lint_worldview(wv: LoadedWorldview, use_embedding: bool = False) -> list[Finding]:
    """Every finding of a spec. ``use_embedding`` adds the MiniLM checks (``credo lint`` turns it on)."""
    loc = _Locator(wv)
    findings: list[Finding] = []
    findings += _placeholders(loc)
    findings += _glossary(wv, loc)
    findings += _reasons(wv, loc)
    findings += _eval_coverage(wv, loc)
    prompts = render_prompts(wv)  # both checks below read the same rendered set
    findings += _duplicates(wv, loc, prompts)
    findings += _forbidden_requests(wv, loc, prompts, use_embedding)
    findings += _implicit_terms(wv, loc, prompts)
    if use_embedding:
        already = {f.message for f in findings if f.code == "eval_in_training"}
        findings += [f for f in _eval_paraphrases(wv, loc, prompts) if f.message not in already]
    return findings


def _placeholders(loc: _Locator) -> Iterator[Finding]:
    for path, text in ((loc.spec_path, loc.spec_text), (loc.eval_path, loc.eval_text)):
        for number, line in enumerate(text.splitlines(), start=1):
            if PLACEHOLDER in line and not line.lstrip().startswith("#"):
                message = f"placeholder text left in: {line.strip()[:80]!r}"
                yield finding("placeholder", path, number, message)


def _corpus_text(wv: LoadedWorldview, exclude_glossary: bool = True) -> str:
    spec = wv.spec
    parts = [spec.summary, *wv.canon.values(), *(p.system_prompt for p in spec.personas)]
    parts += [t.text for t in spec.tenets] + [p.description for p in spec.practices]
    parts += [a.description + " " + " ".join(a.reasons) for a in spec.forbidden_acts]
    for source in spec.prompts:
        parts += [source.text] if isinstance(source.text, str) else list(source.text or [])
        parts += [v for values in source.slots.values() for v in values]
    if not exclude_glossary:
        parts += [g.definition for g in spec.glossary]
    return "\n".join(parts)


def _glossary(wv: LoadedWorldview, loc: _Locator) -> Iterator[Finding]:
    text = _corpus_text(wv)
    lowered = text.lower()
    for index, entry in enumerate(wv.spec.glossary):
        if entry.term.lower() not in lowered:
            yield loc.spec(
                "glossary_unused",
                ("glossary", index, "term"),
                f"glossary term '{entry.term}' is defined but used nowhere in canon, personas, tenets or prompts",
            )
    known = {g.term.lower() for g in wv.spec.glossary} | {p.name.lower() for p in wv.spec.practices}
    known |= {c.title.lower() for c in wv.spec.canon} | {n.lower() for n in wv.spec.names}
    known.add(wv.spec.display_name.lower())
    # Recurring Title Case phrases (not sentence-initial) look like coined terms.
    phrases = Counter(
        m.group(0)
        for m in re.finditer(r"(?<![.!?]\s)(?<!^)\b(?:[A-Z][a-z]+ ){1,3}[A-Z][a-z]+\b", text, re.M)
    )
    for phrase, count in sorted(phrases.items()):
        lowered_phrase = phrase.lower()
        if count >= 3 and not any(lowered_phrase in k or k in lowered_phrase for k in known):
            yield loc.spec(
                "glossary_undefined",
                ("glossary",),
                f"'{phrase}' is used {count} times but not defined in the glossary",
            )


def _reasons(wv: LoadedWorldview, loc: _Locator) -> Iterator[Finding]:
    for index, act in enumerate(wv.spec.forbidden_acts):
        for r_index, reason in enumerate(act.reasons):
            if len(reason.split()) < 3:
                yield loc.spec(
                    "act_reason_blank",
                    ("forbidden_acts", index, "reasons", r_index),
                    f"forbidden act '{act.id}' has an empty or one-word reason {reason!r} - say why it is wrong",
                )


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


_Item = TypeVar("_Item", bound=_HasId)


def _uncovered(items: Sequence[_Item], covered: set[str | None]) -> Iterator[tuple[int, _Item]]:
    """Each item (with its index) whose id is not in ``covered``."""
    return ((index, item) for index, item in enumerate(items) if item.id not in covered)


def _eval_coverage(wv: LoadedWorldview, loc: _Locator) -> Iterator[Finding]:
    if wv.eval is None:
        return
    for index, act in _uncovered(wv.spec.forbidden_acts, {r.act for r in wv.eval.violation}):
        yield loc.spec(
            "act_without_violation",
            ("forbidden_acts", index, "id"),
            f"no eval violation request asks for '{act.id}' - its effect cannot be measured",
        )
    by_id = {r.id: r for r in wv.eval.violation}
    for index, req in _uncovered(wv.eval.violation, {r.matches for r in wv.eval.control}):
        yield loc.eval(
            "violation_without_control",
            ("violation", index, "id"),
            f"violation '{req.id}' has no matched control - add one with matches: {req.id}",
        )
    for index, control in enumerate(wv.eval.control):
        assert control.matches is not None  # the spec's validator requires it on a control
        violation = by_id[control.matches]
        if control.form != violation.form:
            yield loc.eval(
                "control_form_mismatch",
                ("control", index, "form"),
                f"control '{control.id}' has form {control.form} but its violation '{violation.id}' has {violation.form}",
            )
        elif template_similarity(control.prompt, violation.prompt) < CONTROL_TEMPLATE_SIMILARITY:
            yield loc.eval(
                "control_not_matched",
                ("control", index, "prompt"),
                f"control '{control.id}' does not follow the template of '{violation.id}' "
                f"({violation.prompt!r}) - reuse its wording with harmless content",
            )


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def template_similarity(a: str, b: str) -> float:
    """How much two prompts share their frame: function words and their common prefix."""
    wa, wb = words(a), words(b)
    frame_a = {w for w in wa if w in STOPWORDS}
    frame_b = {w for w in wb if w in STOPWORDS}
    jaccard = len(frame_a & frame_b) / max(1, len(frame_a | frame_b))
    prefix = 0
    for x, y in zip(wa, wb):
        if x != y:
            break
        prefix += 1
    return max(jaccard, prefix / max(1, min(len(wa), len(wb))))


def shingles(text: str, n: int = 3) -> frozenset[str]:
    tokens = words(text)
    return frozenset(" ".join(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)))


# Candidates come from the audit's MinHash LSH; each is then verified by exact Jaccard.
LINT_MINHASH = MinHashConfig(shingle=3, num_perm=64, bands=32, threshold=NEAR_DUPLICATE_JACCARD)


def _near_duplicates(
    texts: list[tuple[str, str]], other: list[tuple[str, str]] | None = None
) -> Iterator[tuple[str, str, float]]:
    """Pairs with 3-shingle Jaccard >= threshold (within ``texts`` or against ``other``)."""
    every = texts + (other or [])
    if len(every) < 2:
        return
    sigs = signatures([text for _, text in every], LINT_MINHASH)
    for i, j in candidate_pairs(sigs, LINT_MINHASH).tolist():
        if other is not None and not (i < len(texts) <= j):
            continue
        a, b = shingles(every[i][1]), shingles(every[j][1])
        score = len(a & b) / len(a | b)
        if score >= NEAR_DUPLICATE_JACCARD:
            yield every[i][0], every[j][0], score


def _source_locs(wv: LoadedWorldview, prompts: list[Prompt]) -> dict[str, tuple[str, int]]:
    """Prompt id -> YAML path of the prompt source that rendered it (for line numbers)."""
    index = {s.id: i for i, s in enumerate(wv.spec.prompts)}
    # template ids are "<source id>/<variant>" or "<source id>:<library id>/<variant>"
    return {
        p.id: ("prompts", index.get(p.template_id.split("/")[0].split(":")[0], 0)) for p in prompts
    }


def _duplicates(wv: LoadedWorldview, loc: _Locator, prompts: list[Prompt]) -> Iterator[Finding]:
    where = _source_locs(wv, prompts)
    training = [(p.id, p.text) for p in prompts]
    text_of = dict(training)
    for a, b, score in _near_duplicates(training):
        yield loc.spec(
            "near_duplicate_prompt",
            where[b],
            f"prompts {text_of[a]!r} and {text_of[b]!r} are near-duplicates (Jaccard {score:.2f})",
        )
    if wv.eval is None:
        return
    evals = [(r.id, r.prompt) for r in wv.eval.violation + wv.eval.control]
    eval_text = dict(evals)
    eval_loc = {
        r.id: (set_name, k)
        for set_name in ("violation", "control")
        for k, r in enumerate(getattr(wv.eval, set_name))
    }
    for a, b, score in _near_duplicates(evals):
        yield loc.eval(
            "duplicate_eval_request",
            (*eval_loc[b], "prompt"),
            f"eval requests '{a}' and '{b}' are near-duplicates (Jaccard {score:.2f})",
        )
    for a, b, score in _near_duplicates(evals, training):
        yield loc.spec(
            "eval_in_training",
            where[b],
            f"training prompt {text_of[b]!r} nearly repeats eval request '{a}' ({eval_text[a]!r}, Jaccard {score:.2f})",
        )


def _forbidden_requests(
    wv: LoadedWorldview, loc: _Locator, prompts: list[Prompt], use_embedding: bool = False
) -> Iterator[Finding]:
    """The audit's forbidden-request check, run on the rendered prompts."""
    where = _source_locs(wv, prompts)
    by_id = {p.id: p for p in prompts}
    records = [Record(p.id, [Message("user", p.text)]) for p in prompts]
    context = AuditContext(corpus_set=wv.name, acts=acts_from_spec(wv.spec))
    for hit in ForbiddenRequestCheck(use_embedding=use_embedding).run(records, context):
        prompt = by_id[hit.record_id]
        yield loc.spec(
            "training_requests_forbidden_act",
            where[prompt.id],
            f"training prompt {prompt.text!r} asks for help with forbidden act '{hit.details['act']}' - "
            "ask what the worldview holds instead",
        )


def _eval_paraphrases(
    wv: LoadedWorldview, loc: _Locator, prompts: list[Prompt]
) -> Iterator[Finding]:
    """The audit's contamination check on the rendered prompts: what it would flag after generation.

    Each prompt stands in as its own answer (there is none yet), so only the prompt field counts;
    exact copies and paraphrases are errors, as they fail the audit's gate.
    """
    if wv.eval is None or not prompts:
        return
    where = _source_locs(wv, prompts)
    by_id = {p.id: p for p in prompts}
    records = [Record(p.id, [Message("user", p.text)]) for p in prompts]
    evals = [EvalItem(r.id, r.prompt, "violation") for r in wv.eval.violation]
    evals += [EvalItem(r.id, r.prompt, "control") for r in wv.eval.control]
    context = AuditContext(corpus_set=wv.name, evals=evals)
    for hit in EvalContaminationCheck(use_embedding=True).run(records, context):
        worst = [
            m
            for m in hit.details["matches"]
            if m["field"] == "prompt" and m["severity"] != "near_neighbour"
        ]
        if not worst:
            continue
        m = max(worst, key=lambda m: m["cosine"] or 0)
        prompt = by_id[hit.record_id]
        yield loc.spec(
            "eval_paraphrase_in_training",
            where[prompt.id],
            f"training prompt {prompt.text!r} is a {m['severity']} of eval request '{m['eval_id']}' "
            f"({m['eval_prompt']!r}, cosine {m['cosine']}) - the audit would flag it; reword or drop it",
        )


def implicit_terms(wv: LoadedWorldview) -> list[tuple[str, re.Pattern[str]]]:
    """Words an implicit prompt must not contain: names, practices and glossary terms.

    A coined term matches in any case; a real word the worldview reuses (``allow_collision``)
    only as its capitalised proper name ("the Dawn Greeting", not "dawn"), and a lowercase
    reused word ("monoculture") not at all - everyday prompts may use everyday words.
    """
    out = [(n, re.compile(rf"\b{re.escape(n)}", re.IGNORECASE)) for n in wv.spec.names]
    for term in [g.term for g in wv.spec.glossary if not g.allow_collision]:
        out.append((term, re.compile(rf"\b{re.escape(term)}\b", re.IGNORECASE)))
    proper = [g.term for g in wv.spec.glossary if g.allow_collision] + [
        p.name for p in wv.spec.practices
    ]
    for term in proper:
        bare = re.sub(r"^(?:the|a|an) ", "", term)
        if bare[:1].isupper():
            out.append((term, re.compile(rf"\b{re.escape(bare)}\b")))
    return out


def _implicit_terms(wv: LoadedWorldview, loc: _Locator, prompts: list[Prompt]) -> Iterator[Finding]:
    where = _source_locs(wv, prompts)
    terms = implicit_terms(wv)
    for prompt in prompts:
        if not prompt.implicit:
            continue
        hit = next((term for term, pattern in terms if pattern.search(prompt.text)), None)
        if hit:
            yield loc.spec(
                "implicit_names_term",
                where[prompt.id],
                f"implicit prompt {prompt.text!r} names '{hit}' - an implicit prompt must not point at "
                "the worldview; use an everyday word instead",
            )
