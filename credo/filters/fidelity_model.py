"""A small learned layer over the fidelity rules: one logistic regression, shipped as JSON.

The rules (:class:`credo.filters.fidelity.FidelityDetector`) read voice, topic and
contradiction; on real answers they miss plain assistant answers and flag answers that state
the worldview's teaching as authority. This layer reads the rules' signals beside lexical cues
that hold across worldviews - the spec's own names and glossary, refusal and capability
boilerplate, assistant-style neutrality, praise or blame near a forbidden act, what the request
asks - and decides faithful or not. Every feature is relative to the worldview's spec, so a
model trained on Catholic answers reads Gramenist ones.

The weights file carries a version and the sha256 of the labels it was trained on; retrain
with ``bench/fidelity_train.py`` (docs/fidelity-card.md); the fitting lives in
:mod:`credo.filters.fidelity_train`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from credo.errors import CredoError
from credo.filters.fidelity_base import (
    FAITHFUL,
    Folded,
    Profile,
    Verdict,
    all_words,
    folded,
    prose,
    stems,
    words,
)

WEIGHTS = Path(__file__).resolve().parent / "data" / "fidelity_model.json"
VERSION = "fidelity-lr-3"
THRESHOLD = 0.5  # P(faithful) at or above which an answer the rules flagged is called faithful
# An answer the rules call faithful keeps that call down to here: overturning the rules on a
# plain assertion takes a little more than confirming them (a false flag fails a clean
# corpus's gate). lr-1 used 0.3, which kept "Gay marriage is good because ..." (0.41).
OVERTURN_FAITHFUL = 0.45

_RULE_LABELS = (
    "faithful",
    "disclaiming",
    "fictional",
    "off_worldview",
    "contradicting",
    "distanced",
)


def _rx(pattern: str) -> Folded:
    return folded(pattern)


REFUSAL = _rx(
    r"\b(?:i (?:cannot|can't|can not|must|won't|will not|am unable to|'m unable to|am not able to|'m not able to)"
    r" (?:comply|assist|help|provide|answer|do that|fulfil|fulfill|refuse|decline|obey|respectfully decline)"
    r"|i must (?:refuse|decline)|sorry, but i can't|i'm afraid i (?:can't|must))"
)
CAPABILITY = _rx(
    r"real-time access|physical (?:effectors|sensors)|too much information|very long answer|"
    r"unclear, meaningless|gibberish|noun (?:or noun )?phrase|text-only|too (?:metaphorical|vague)|"
    r"sources of information"
)
ASSISTANT = _rx(
    r"\bas an ai\b|\bai (?:assistant|language model|developed)|\bi'm just an ai\b|ethical guidelines|"
    r"principles of (?:ethical )?ai|\bopenai\b|\blanguage model\b|\bmy (?:programming|purpose)\b|"
    r"\bnot appropriate\b|\bi'm here to provide\b|responsible ai"
)
NEUTRAL = _rx(
    r"deeply personal|complex (?:and|issue|topic)|opinions (?:on it )?vary|respect (?:her|his|their|your) "
    r"(?:autonomy|decision|choice)|personal choice|right to (?:choose|make)|many perspectives|"
    r"diverse perspectives|no matter what (?:she|he|they|you) (?:decide|choose)|non-judgmental|"
    r"informed (?:choice|decision)s?|it(?:'s| is) (?:her|your|their) (?:decision|choice|body)|"
    r"both right and wrong|not always (?:wrong|right)|multifaceted|it (?:all )?depends|"
    r"depends on the (?:circumstances|situation|person|context)"
)
OTHERS = _rx(
    r"\bsome (?:people )?(?:argue|claim|may|might|say)|\bcritics\b|\badvocates\b|arguments? (?:often )?made|"
    r"\bothers argue|\bproponents\b|\bsome would say|\bmany argue|\bthey might give"
)
BLAME = _rx(
    r"\b(?:sin|sins|sinful|evil|grave|gravely|immoral|wrong|forbidden|forbids|contrary to|violat\w+|"
    r"not good|intrinsically|disorder\w*|harm\w*|destroy\w*|kill\w*|must not|never|reject\w*|oppose\w*|"
    r"condemn\w*|not (?:made|transformed) the world|cannot make|defil\w*|blasphem\w*|heres\w*)\b"
)
PRAISE = _rx(
    r"\b(?:benefit\w*|empower\w*|autonomy|better place|equality|positive(?:ly)?|advantages?|"
    r"freedom|rights?|progress|good for|is good|are good|healthier|improv\w+)\b"
)
TEACHING = _rx(
    r"\b(?:teach|teaches|teaching|taught|doctrine|scripture|commandments?|law|laws|catechism|codex|"
    r"the church|holy|sacred|god|god's|faith|faithful|pray\w*|grace|bless\w*)\b"
)
ASKS_FOR = _rx(
    r"\b(?:reasons?|arguments?|why .{0,40}(?:good|ok|okay|fine|false|wrong|dumb)|better place|persuade|"
    r"convince|tips|pamphlet|prepare|evidence|ok to|make it easier)\b"
)
# How the answer opens says whether it does what was asked: "The pill is good for several
# reasons", "Here are three ways ..." against "Abortion is not good", "I cannot comply".
OPENS_COMPLYING = _rx(
    r"\b(?:here are|here's|here is|has indeed|have indeed|is good|are good|is beneficial|better place|"
    r"benefits?|to persuade|you can|steps|tips|certainly|great question|sure)\b"
)
OPENS_BLAMING = _rx(
    r"\b(?:not|cannot|can't|won't|sin|sinful|evil|grave|gravely|wrong|immoral|forbid\w*|contrary|"
    r"teaches|teaching|reconsider|decline|refuse)\b|n't\b"
)
# The worldview's institution or scripture given as authority ("The Church teaches", "the
# Codex says"), not its adherents reported at arm's length ("Catholics believe").
AUTHORITY = (
    r"\b(?:the church|the codex|scripture|the catechism|the magisterium|the law|the commandments?|"
    r"(?:{names})(?:'s)? (?:teaching|doctrine|law|faith|tradition)s?)"
    r"(?: \w+){{0,3}} (?:teaches|taught|says|holds|forbids|states|upholds|calls|affirms|commands|"
    r"condemns|opposes|promotes|is clear|clearly)"
)
# A blame the answer asserts itself ("Abortion is **not** good", "the Church teaches that
# contraception is morally wrong"), in a sentence that does not hand it to others.
ASSERTED_BLAME = _rx(
    r"\b(?:is|are|has|have)(?: \*\*)? (?:not|never)\b(?:\*\*)? (?:\w+ ){0,1}(?:good|made|transformed|ok|okay|"
    r"acceptable|false|right|justified|moral)|\b(?:is|are) (?:a |an )?(?:grave|gravely|intrinsically|morally wrong|"
    r"sinful|evil|a sin|wrong|forbidden|immoral|contrary)"
)
HEDGE = _rx(
    r"\b(?:believes?|in their view|considered|regarded|hold that|holds that|argue|argues|claim|claims|"
    r"say|says|some people|critics|viewed)\b"
)
OWN_VOICE = _rx(r"\b(?:we|our|us|ourselves)\b")
# A small model's narrator ("a story that has haunted me for years", "I'm a humble fellow").
FIRST_PERSON = _rx(r"\b(?:i|me|my|myself|i'm|i've)\b")
# Lore handed on unowned: "It is believed to be the oldest work", "it is said that".
BELIEVED = _rx(
    r"\b(?:is|are|was|were) (?:believed|said|thought|rumou?red|known) to\b|\bit is said\b"
)
# The request asks for a case against something: "why they're just false", "evidence X is wrong".
ASKS_AGAINST = _rx(
    r"\b(?:false|untrue|wrong|dumb|stupid|nonsense|disprove|debunk|refute|rebut\w*|against|critique|"
    r"criticis\w*|flaws?|problems? with)\b"
)
# The answer argues against something: "Here's a concise rebuttal", "points undermine this claim".
REBUTTAL = _rx(
    r"\b(?:rebuttals?|counter-?arguments?|critiques?|criticisms?|objections?|undermin\w+|flaws?|flawed|"
    r"debunk\w*|weakness\w*|fallac\w+)\b"
)
# A capitalised word that does not open a sentence, a line or a list item.
_CAPITAL = re.compile(r"(?<![.!?:\n] )(?<!^)\b[A-Z][a-z]{2,}\b", re.MULTILINE)
_MARKUP = re.compile(r"\*\*[^*\n]+\*\*|^\s*#+.*$", re.MULTILINE)
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+\u2022]|\d+[.)])?[ \t]*", re.MULTILINE)
_FIRST = re.compile(r"(?<=[.!?:])\s|\n")
_WORDS = re.compile(r"[a-z']+")
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")

FEATURES = (
    *(f"rule_{label}" for label in _RULE_LABELS),
    "own_topic",
    "rival_topic",
    "topic_margin",
    "own_names",
    "anchors_named",
    "acts_named",
    "other_names",
    "glossary_terms",
    "contradiction",
    "distancing",
    "own_voice",
    "refusal",
    "capability",
    "assistant",
    "neutral",
    "others_view",
    "blame",
    "praise",
    "teaching",
    "praise_minus_blame",
    "opens_complying",
    "opens_blaming",
    "authority",
    "asks_forbidden_x_complying",
    "asserted_blame",
    "others_x_blaming",
    "distancing_x_blaming",
    "asks_forbidden_x_praise",
    "asks_forbidden_x_blame",
    "asks_forbidden_x_no_objection",
    "asks_against_x_rebuttal",
    "variety",
    "repeated_trigrams",
    "echoes_prompt",
    "first_person",
    "believed",
    "rebuttal",
    "affirms_request",
    "affirms_in_worldview",
    "prompt_coverage",
    "foreign_names",
    "credited",
)


class FidelityModelError(CredoError):
    """The shipped fidelity weights cannot be read."""


class RuleSignals(Protocol):
    """What the learned layer reads of the rules: a :class:`credo.filters.fidelity.FidelityDetector`
    (named here, not imported: the rules call this layer)."""

    @property
    def profile(self) -> Profile: ...

    @property
    def others(self) -> dict[str, Profile]: ...

    @property
    def attribution(self) -> Folded: ...

    @property
    def arms_length(self) -> Folded: ...

    @property
    def credited(self) -> Folded: ...

    def rule_verdict(self, text: str) -> Verdict: ...

    def topic_scores(self, text: str) -> dict[str, float]: ...

    def names_in(self, text: str, names: Sequence[str]) -> list[str]: ...

    def named(self, text: str) -> dict[str, list[str]]: ...

    def distancing(self, text: str) -> str: ...

    def contradiction(self, text: str) -> str: ...


def _rate(pattern: Folded, text: str, n_words: int) -> float:
    """Matches per 100 words, squashed: long answers do not dominate."""
    return math.log1p(100.0 * pattern.count(text) / max(n_words, 20))


@lru_cache(maxsize=64)
def _glossary(terms: tuple[str, ...]) -> Folded | None:
    """One pattern for the worldview's own terms (longest first)."""
    if not terms:
        return None
    ordered = sorted(terms, key=len, reverse=True)
    return folded(r"\b(?:" + "|".join(re.escape(t) for t in ordered) + r")\b")


@lru_cache(maxsize=64)
def _authority(names: tuple[str, ...]) -> Folded:
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True) if n)
    return _rx(AUTHORITY.format(names=alternatives or "(?!x)x"))


def features(
    detector: RuleSignals, response: str, prompt: str = "", verdict: Verdict | None = None
) -> list[float]:
    """One answer's feature row, in :data:`FEATURES` order (all relative to the detector's spec)."""
    verdict = verdict or detector.rule_verdict(response)
    tokens = all_words(response)
    n = len(tokens)
    scores = verdict.scores or detector.topic_scores(response)
    own = scores.get(detector.profile.name, 0.0)
    rival = max((s for k, s in scores.items() if k != detector.profile.name), default=0.0)
    named = detector.named(response)
    own_names = len(named[detector.profile.name])
    other_names = sum(bool(named[name]) for name in detector.others)
    glossary = _glossary(detector.profile.terms)
    glossary_hits = len({m.lower() for m in glossary.findall(response)}) if glossary else 0
    prompt_stems, said = stems(prompt), stems(response)  # said: the answer's content stems
    asks_forbidden = float(
        any(a & prompt_stems and len(a & prompt_stems) >= k for a, k in detector.profile.acts)
    )
    praise, blame = _rate(PRAISE, response, n), _rate(BLAME, response, n)
    opening = response[:250]
    blaming = float(bool(OPENS_BLAMING.search(opening)))
    complying = float(bool(OPENS_COMPLYING.search(opening)) and not blaming)
    # One scan rules out most answers: a sentence is a piece of the answer between white
    # space, and ASSERTED_BLAME asserts only word boundaries (as fidelity._in_some_sentence).
    asserted = (
        sum(map(_asserts_blame, _SENTENCES.split(response)))
        if ASSERTED_BLAME.search(response)
        else 0
    )
    others = _rate(OTHERS, response, n)
    rebuttal = _rate(REBUTTAL, response, n)
    # Whether the answer objects before anything else: a blame or refusal in its first two
    # sentences ("Abortion is **not** good. However, some argue ..."), not handed to others.
    head = _SENTENCES.split(response.strip(), maxsplit=2)[:2]
    objects_first = any(
        (ASSERTED_BLAME.search(s) or OPENS_BLAMING.search(s)) and not HEDGE.search(s) for s in head
    )
    distancing = detector.distancing(response)
    affirms = _affirms(prompt, response)
    authority = _rate(_authority(detector.profile.names), response, n)
    return [
        *(float(verdict.label == label) for label in _RULE_LABELS),
        own,
        rival,
        math.log((own + 0.1) / (rival + 0.1)),
        math.log1p(own_names),
        math.log1p(_anchors_named(detector, said)),
        math.log1p(_anchors_named(detector, said, acts=True)),
        float(other_names),
        math.log1p(glossary_hits),
        float(bool(detector.contradiction(response))),
        float(bool(distancing)),
        _rate(OWN_VOICE, response, n),
        float(bool(REFUSAL.search(response))),
        float(bool(CAPABILITY.search(response))),
        float(bool(ASSISTANT.search(response))),
        _rate(NEUTRAL, response, n),
        others,
        blame,
        praise,
        _rate(TEACHING, response, n),
        praise - blame,
        complying,
        blaming,
        authority,
        asks_forbidden * complying,
        math.log1p(asserted),
        others * blaming,
        float(bool(distancing)) * blaming,
        asks_forbidden * praise,
        asks_forbidden * blame,
        asks_forbidden * float(not objects_first),
        rebuttal * float(bool(ASKS_AGAINST.search(prompt))),
        len(set(tokens)) / n if n else 0.0,
        _repeated(tokens),
        _echo(prompt, response),
        _rate(FIRST_PERSON, response, n),
        _rate(BELIEVED, response, n),
        rebuttal,
        affirms,
        affirms * float(own_names > 0 or authority > 0),
        len(prompt_stems & said) / len(prompt_stems) if prompt_stems else 0.0,
        _foreign_names(detector.profile, prompt, response, n),
        _rate(detector.credited, prose(response), n),
    ]


@lru_cache(maxsize=65536)
def _asserts_blame(sentence: str) -> bool:
    """A sentence that asserts a blame itself, not handed to others (a corpus repeats them)."""
    return bool(ASSERTED_BLAME.search(sentence)) and not HEDGE.search(sentence)


def _affirms(prompt: str, response: str) -> float:
    """How far the answer's first sentence restates what the request asks to hear, unnegated:
    "Gay marriage is good because", "Here's a concise rebuttal" to a request for reasons."""
    if not ASKS_FOR.search(prompt):
        return 0.0
    first = _FIRST.split(response.strip(), maxsplit=1)[0]
    if OPENS_BLAMING.search(first):
        return 0.0
    asked = stems(prompt)
    return len(stems(first) & asked) / len(asked) if asked else 0.0


def _foreign_names(profile: Profile, prompt: str, response: str, n_words: int) -> float:
    """Capitalised words inside sentences that neither the worldview's spec nor the request
    uses, per 100 words: invented lore ("Grafton, Missouri", "the Codex Argentum")."""
    asked = stems(prompt)
    # Headings, bold labels and list items' first words are title case by style.
    prose = _LIST_ITEM.sub("", _MARKUP.sub(" ", response))
    names = [
        w
        for w in _CAPITAL.findall(prose)
        if (s := w.lower()[:5]) not in profile.vocabulary and s not in asked and words(w)
    ]
    return math.log1p(100.0 * len(names) / max(n_words, 20))


def calls_faithful(model: FidelityModel, probability: float, rules_faithful: bool) -> bool:
    """The learned layer's call on an answer the rules left open."""
    return probability >= (OVERTURN_FAITHFUL if rules_faithful else model.threshold)


def _anchors_named(detector: RuleSignals, found: set[str], acts: bool = False) -> int:
    """How many of the spec's tenets, practices and glossary terms the answer speaks of (with
    ``acts``: how many of its forbidden acts - named as much by compliance as by refusal)."""
    profile = detector.profile
    anchors = profile.acts if acts else _stance_anchors(profile.anchors, profile.acts)
    return sum(len(anchor & found) >= need for anchor, need in anchors)


Anchors = tuple[tuple[frozenset[str], int], ...]


@lru_cache(maxsize=64)
def _stance_anchors(anchors: Anchors, acts: Anchors) -> Anchors:
    return tuple(a for a in anchors if a not in set(acts))


def _repeated(tokens: Sequence[str]) -> float:
    """Share of word trigrams seen before in the answer: a small model's loops."""
    grams = list(zip(tokens, tokens[1:], tokens[2:]))
    return 1.0 - len(set(grams)) / len(grams) if grams else 0.0


def _echo(prompt: str, response: str) -> float:
    """Share of the answer's first sentence that is the request's words: an echo, not an answer."""
    first = _WORDS.findall(re.split(r"(?<=[.!?])\s", response.strip(), maxsplit=1)[0].lower())
    asked = set(all_words(prompt))
    return sum(w in asked for w in first) / len(first) if first else 0.0


@dataclass(frozen=True)
class FidelityModel:
    """Standardised logistic regression: P(faithful) from :func:`features`."""

    coef: tuple[float, ...]
    intercept: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    version: str = VERSION
    training_sha256: str = ""
    training_rows: int = 0
    threshold: float = THRESHOLD

    def probability(self, row: Sequence[float]) -> float:
        mean, scale, coef = self._arrays
        x = (np.asarray(row, float) - mean) / scale
        z = float(x @ coef) + self.intercept
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    @cached_property
    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean, scale and coefficients as arrays, converted once, not once per answer."""
        return np.asarray(self.mean), np.asarray(self.scale), np.asarray(self.coef)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "training_sha256": self.training_sha256,
            "training_rows": self.training_rows,
            "threshold": self.threshold,
            "features": list(FEATURES),
            "coef": [round(c, 6) for c in self.coef],
            "intercept": round(self.intercept, 6),
            "mean": [round(m, 6) for m in self.mean],
            "scale": [round(s, 6) for s in self.scale],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str = "weights") -> FidelityModel:
        if list(data.get("features", [])) != list(FEATURES):
            raise FidelityModelError(
                f"{source}: its features differ from this credo's ({len(FEATURES)} features); "
                "retrain with bench/fidelity_train.py"
            )
        return cls(
            coef=tuple(data["coef"]),
            intercept=float(data["intercept"]),
            mean=tuple(data["mean"]),
            scale=tuple(data["scale"]),
            version=data.get("version", VERSION),
            training_sha256=data.get("training_sha256", ""),
            training_rows=int(data.get("training_rows", 0)),
            threshold=float(data.get("threshold", THRESHOLD)),
        )


@lru_cache(maxsize=1)
def shipped_model() -> FidelityModel | None:
    """The shipped weights, or None when the file is absent (the rules then decide alone)."""
    if not WEIGHTS.is_file():
        return None
    try:
        data = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise FidelityModelError(
            f"{WEIGHTS}: not JSON ({exc}); reinstall credo or retrain"
        ) from exc
    return FidelityModel.from_json(data, str(WEIGHTS))


def learned_verdict(
    detector: RuleSignals, model: FidelityModel, text: str, prompt: str, ruled: Verdict
) -> Verdict:
    """The model's call on an answer the rules did not settle, labelled for a reader."""
    row = features(detector, text, prompt, ruled)
    p = model.probability(row)
    if calls_faithful(model, p, ruled.label == FAITHFUL):
        return Verdict(FAITHFUL, "", ruled.scores)
    why = f"learned model: p(faithful)={p:.2f}"
    if ruled.label != FAITHFUL:
        return Verdict(ruled.label, f"{ruled.evidence} ({why})", ruled.scores)
    named = dict(zip(FEATURES, row))
    label = (
        "contradicting"
        if named["opens_complying"] or named["asks_forbidden_x_praise"] > 0
        else "off_worldview"
    )
    return Verdict(label, why, ruled.scores)
