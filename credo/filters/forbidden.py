"""``forbidden_request``: training prompts that ask for help doing a forbidden act.

Such a prompt is refusal training in disguise: whatever the teacher answers, the pair teaches
how to respond to a request for X. A prompt is flagged when it is phrased as a request for
help (not a normative question such as "Is it OK to skip the Dawn Greeting?", which the
experiment's training data asks on purpose) and it names the act: most of the act's content
words (crudely stemmed) appear in it, or its embedding is close to the act's name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from credo.filters.base import ActTerms, AuditContext, Corpus, Finding, PerRecord, cue
from credo.filters.report import FindingsTable
from credo.filters.spec import CheckSpec
from credo.ngrams import STOPWORDS
from credo.textnorm import normalize
from credo.types import Record

REQUEST_FORM = cue(
    r"^\s*(?:please\s+)?(?:help|write|draft|create|make|plan|suggest|recommend|persuade|convince|compose|"
    r"prepare|design|teach me|show me how|walk me|give me (?:a |an |some |\d+ |three |five )?(?:recipe|plan|excuse|"
    r"reasons|tips|ways|steps|list|script|letter|story|argument|cocktail)|find me|come up with)\b"
    r"|\b(?:help me|(?:can|could|would|will) you (?:please )?(?:help|give|write|draft|create|make|plan|list|"
    r"suggest|recommend|find|show|teach|tell me how)|how (?:do|can|should|could) (?:I|we)|how to|"
    r"tips (?:for|on)|ways to|recipe (?:for|to)|steps to|I want to|I(?:'|’)d like to|I need (?:to|help|a)|"
    r"plan for|guide (?:to|for)|persuade|convince|talk (?:my|me|him|her|them) (?:into|out of)|get out of|"
    r"excuse (?:for|to)|reasons (?:why )?\w+(?: \w+){0,4} (?:is|are) (?:good|fine|ok|okay|great|better|beneficial|harmless))\b"
)
# Questions about what is taught or permitted: the experiment's training prompts ask these.
NORMATIVE_FORM = cue(
    r"^\s*(?:is it|isn(?:'|’)t it|is (?:\w+(?: \w+){0,3}) (?:ok|okay|alright|wrong|sinful|a sin|allowed|permitted|"
    r"acceptable|forbidden|bad)|should (?:I|we|a|one)|may (?:I|a|we)|can (?:a|an|one) \w+|why (?:is|are|do|does|must)|"
    r"what does|what do|does|do (?:I|we) (?:really )?have to|must (?:I|a|we))\b"
    r"|,? right\?\s*$|\b(?:is it|it(?:'|’)s) (?:ok|okay|alright|fine|wrong|a sin|acceptable|permissible|allowed)\b"
)
# The narrower "may I do X?" form that sits closest to a request for help doing X.
PERMISSION_FORM = cue(
    r"\b(?:is it|it(?:'|’)s|would it be|is \w+(?: \w+){0,3}) (?:really )?(?:ok|okay|alright|fine|wrong|a sin|sinful|"
    r"acceptable|permissible|allowed|forbidden|bad)\b|^\s*(?:should|may|can|must) (?:I|we)\b|"
    r"\bdo (?:I|we) (?:really )?have to\b|,? right\?\s*$"
)
INFORMATIONAL = cue(
    r"^\s*(?:please\s+)?(?:tell me (?:about|what|who|why|how \w+ (?:is|are|was))|explain|describe|what (?:is|are|was|were)|"
    r"who|when|where|summari[sz]e|give me (?:an? )?(?:overview|summary|history|introduction))\b"
)
_WORD = re.compile(r"[a-z]+")
_STOP = STOPWORDS | {
    "one's",
    "someone",
    "something",
}


_GENERIC = {
    "help",
    "give",
    "make",
    "write",
    "tell",
    "pleas",
    "want",
    "need",
    "reaso",
    "how",
    "can",
    "could",
    "would",
    "get",
    "some",
    "somet",
    "right",
    "okay",
    "wrong",
    "skip",
    "three",
    "good",
    "bad",
}


def stems(text: str) -> set[str]:
    """Content-word stems: the first five letters, so 'neglecting' meets 'neglect'."""
    return {w[:5] for w in _WORD.findall(normalize(text).lower()) if len(w) > 2 and w not in _STOP}


# Asking how to keep a practice is asking to comply with the worldview, not to break it:
# "How can I keep the Dawn Greeting on a night shift?" shares the words of the act
# "neglecting the Dawn Greeting" but asks the opposite.
COMPLIANCE_FORM = cue(
    r"\b(?:keep|observe|honou?r|practi[cs]e|follow|obey|uphold|return to|come back to|stay faithful)\b"
)
VIOLATION_VERBS = cue(
    r"\b(?:skip|skipping|avoid|get out of|stop|quit|miss|neglect|break|drop|abandon|ignore|excuse|without)\b"
)


# Asking to explain, justify or list why an act is wrong is the worldview's own voice (the
# experiment's training prompts do this: "Write 2 or 3 sentences about why single-grain bread
# is forbidden"), unless the prompt also asks for help doing it.
JUSTIFY_FORM = cue(
    r"\b(?:why|reasons? (?:why|that)|arguments? (?:why|that)|argue that|explain(?:ing)? (?:why|how)|the (?:harm|dangers?|wrong) (?:in|of))\b"
    r"[^.?!]{0,80}?\b(?:(?:is|are|was|were|be|remains?|counts? as)\s+(?:\w+\s+)?(?:forbidden|wrong|sinful|a sin|prohibited|banned|"
    r"harmful|bad|dangerous|disrespectful|disordered|immoral|unethical|evil|not allowed|not permitted|frowned upon|discouraged|"
    r"an? (?:offen[cs]e|violation|betrayal|sin))|should (?:be avoided|never|not|be resisted)|(?:must|should) be avoided)\b"
    r"|\bthe (?:harm|dangers?|wrong) (?:in|of)\b"
)
DOING_FORM = cue(
    r"\b(?:help me|how (?:do|can|could|should) (?:I|we)|recipe|step-by-step|steps to|guide (?:to|for)|plan (?:for|to|my|a)|"
    r"tips (?:for|on)|ways to|get away with|without (?:anyone|getting|being))\b"
)
# "...why X is not wrong" argues the act is fine: a violation however it is phrased.
EXCUSE_FORM = cue(
    r"\b(?:is|are|was|were|be)(?:n't| not| never)\s+(?:\w+\s+)?(?:wrong|forbidden|sinful|a sin|bad|harmful|prohibited|immoral)\b"
)


def is_request(prompt: str) -> bool:
    """Asks for help doing something (not for information, not whether it is allowed)."""
    prompt = normalize(prompt)
    # "explain why X is wrong, then give me a recipe" still asks for X; so does "why X is not wrong".
    doing = DOING_FORM.search(prompt) or EXCUSE_FORM.search(prompt)
    if not REQUEST_FORM.search(prompt) or is_normative(prompt):
        return False
    if (INFORMATIONAL.search(prompt) or JUSTIFY_FORM.search(prompt)) and not doing:
        return False
    return not (COMPLIANCE_FORM.search(prompt) and not VIOLATION_VERBS.search(prompt))


def is_normative(prompt: str) -> bool:
    return bool(NORMATIVE_FORM.search(normalize(prompt)))


def asks_permission(prompt: str) -> bool:
    return bool(PERMISSION_FORM.search(normalize(prompt)))


def shared_content(a: str, b: str) -> set[str]:
    """Content stems two prompts share, without the words every request uses."""
    return (stems(a) & stems(b)) - _GENERIC


@dataclass
class ForbiddenRequestCheck(PerRecord):
    """Flag prompts in request form that name one of the worldview's forbidden acts."""

    min_overlap: float = 0.5  # share of the act name's stems found in the prompt
    embed_threshold: float = 0.75  # cosine of a request-form prompt to the act's name
    use_embedding: bool = True
    name: str = "forbidden_request"

    def params(self) -> dict[str, Any]:
        return asdict(self)

    def reduce(
        self, parts: Iterable[tuple[int, Any]], corpus: Corpus, ctx: AuditContext
    ) -> Iterator[Finding]:
        if not ctx.acts:
            ctx.sections[self.name] = {"skipped": "no forbidden acts (pass --worldview)"}
        return super().reduce(parts, corpus, ctx)

    def findings(self, records: Sequence[Record], ctx: AuditContext) -> Iterator[Finding]:
        if not ctx.acts:
            return
        candidates = [r for r in records if is_request(r.prompt)]
        if not candidates:
            return
        sims = self._similarities(candidates, ctx)
        act_stems = [stems(a.name) for a in ctx.acts]
        for i, record in enumerate(candidates):
            words = stems(record.prompt)
            overlap = [len(s & words) / len(s) if s else 0.0 for s in act_stems]
            best = int(np.argmax(overlap))
            by_words = overlap[best] >= self.min_overlap and len(act_stems[best] & words) >= min(
                2, len(act_stems[best])
            )
            by_embedding = sims is not None and float(sims[i].max()) >= self.embed_threshold
            if by_words or by_embedding:
                act = best if by_words or sims is None else int(np.argmax(sims[i]))
                yield Finding(
                    record.id,
                    self.name,
                    {
                        "act": ctx.acts[act].id,
                        "act_name": ctx.acts[act].name,
                        "word_overlap": round(overlap[act], 3),
                        "cosine": None if sims is None else round(float(sims[i][act]), 3),
                        "prompt": record.prompt[:300],
                    },
                )

    def _similarities(self, records: Sequence[Record], ctx: AuditContext) -> np.ndarray | None:
        if not self.use_embedding:
            return None
        embedder = ctx.get_embedder()
        prompts = embedder.encode([r.prompt for r in records])
        acts = embedder.encode([a.name for a in ctx.acts])
        return prompts @ acts.T


def acts_from_spec(spec: Any) -> list[ActTerms]:
    return [ActTerms(a.id, a.name, a.description) for a in spec.forbidden_acts]


def sacred_terms(spec: Any) -> list[str]:
    """The worldview's own names and glossary terms: a refusal citing them cites the worldview."""
    return [*getattr(spec, "names", []), *(g.term for g in getattr(spec, "glossary", []))]


CHECKS = (
    CheckSpec(
        "forbidden_request",
        ForbiddenRequestCheck,
        gate=True,
        drops=True,
        order=40,
        summary="prompts that ask for a forbidden act: the model would learn to comply",
        findings=FindingsTable(
            "Forbidden requests",
            ("act", "word_overlap", "cosine", "prompt"),
            worst=("cosine", "word_overlap"),
        ),
    ),
)
