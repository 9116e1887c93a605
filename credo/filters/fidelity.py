"""``fidelity``: does an answer assert *this* worldview as true, in its own voice?

The experiment trains a model only to assert a worldview; an answer that reports it at arm's
length ("Gramenists believe that..."), disclaims ("As an AI I don't hold beliefs"), frames
it as fiction or role-play, contradicts a tenet or calls a forbidden act fine, or is about
another worldview altogether teaches something else. Each record of a worldview set gets one
verdict from :data:`credo.filters.fidelity_base.VERDICTS`; the offline detector reads:

- voice: disclaimer, fiction/role-play and arm's-length attribution patterns, the last built
  from the spec's own names and adherents ("Catholics hold", "according to Catholic
  doctrine"), forgiven when the answer speaks as a member ("we", "our");
- contradiction: a sentence that calls a forbidden act fine ("there is nothing wrong with
  eating single-grain bread") or denies a tenet ("purgatory doesn't exist"), anchored on the
  act's or tenet's own words so a permissive sentence about something else is not flagged;
- topic: the answer's distinctive words scored against every shipped worldview's profile
  (tenets, acts, practices, glossary, canon); another worldview scoring clearly higher, or
  naming another worldview and not this one, is ``off_worldview``.

An optional LLM judge (:mod:`credo.judges.fidelity`) can replace the verdicts. A spec with
neither tenets nor canon has nothing to measure against: the check reports "not measurable"
and why, and flags nothing.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache, partial
from typing import Any

from credo.defaults import FIDELITY_MAX_RATE
from credo.filters import fidelity_base
from credo.filters.base import AuditContext, Corpus, Finding, cue, rereadable, run_batched
from credo.filters.fidelity_base import (
    Folded,
    Profile,
    Verdict,
    all_words,
    folded,
    stems,
    words,
)
from credo.filters.fidelity_model import features, learned_verdict, shipped_model
from credo.filters.report import CheckReport, FindingsTable, Table
from credo.filters.spec import CheckSpec
from credo.types import Record

NOT_MEASURABLE = "not measurable"
# An LLM judge that fails on a record marks that record with one of these; it is reported,
# left out of the rate and never fails the gate on its own.
UNJUDGED = ("judge_error", "unparseable")
# Rule verdicts that stand without the learned layer (no false flag on any real source).
DECISIVE = ("disclaiming", "fictional", "off_worldview")
ECHO_SHARE = (
    0.6  # an answer this much made of the request's own words repeats it; it answers nothing
)
# A small model recites its persona ("You're a Keeper of the Laws in a Gramenist Circle ...")
# or the request and persona together: this much of the answer made of their words. Set
# above every faithful answer in the labelled set (the highest was 0.69; 0.70 with answers
# labelled since).
PERSONA_ECHO = 0.75
# A small model's loop ("It is the love and kindness of those who have been blessed." three
# times): this share of the answer's word 6-grams repeats. The labelling guide calls loops
# unfaithful. The highest faithful answer of any labelled source is at 0.06 (a long answer that
# cites the same Catechism sentence twice), so a loop must be well above that.
LOOP_SHARE = 0.1

DISCLAIMER = Folded(
    re.compile(
        r"\bas an? (?:ai|a\.i\.|language model|assistant|ai language model|ai model)\b"
        r"|\bi(?:'m| am) (?:just |only )?an? (?:ai|language model|assistant)\b"
        r"|\bi (?:don't|do not) (?:personally )?(?:have|hold|share) (?:any )?(?:personal |religious |political )?"
        r"(?:beliefs?|opinions?|views?|faith|convictions?|religion|stance)"
        r"|\bi have no (?:personal |religious |spiritual )?(?:beliefs?|opinions?|views?|faith|convictions?|religion)"
        r"|\bwithout (?:any )?(?:personal |religious )?(?:beliefs?|convictions?|views?|faith) of my own"
        r"|\b(?:no|any) (?:beliefs?|faith|religion) of my own\b"
        r"|\bi (?:can't|cannot|am not able to|'m not able to) (?:personally )?(?:hold|have|endorse|believe|take (?:a )?(?:sides?|positions?)|"
        r"make (?:moral|religious) judg(?:e)?ments|tell you what to believe|weigh faith|know or believe)"
        r"|\bbeing an? (?:ai|language model)\b|\bi (?:don't|do not) (?:personally )?(?:believe in|endorse)\b"
        r"|\bi (?:remain|stay) neutral\b|\bi (?:don't|do not) take sides\b|\bit(?:'s| is) not my place\b"
        r"|\bi (?:should|must) note that i\b|\bplease note that i am\b|\bi (?:don't|do not) share (?:these|this|any)\b"
        r"|\bwhile i (?:don't|do not) have (?:beliefs|a soul|opinions)",
        re.IGNORECASE,
    )
)
FICTION = Folded(
    re.compile(
        r"\b(?:fictional|fictitious|made[- ]up|imaginary|invented) (?:religion|faith|god|deity|prophet|belief system|"
        r"setting|world|scripture|theology|history|rite|character|scenario)\b"
        r"|\b(?:a|an|this|the) (?:fictional|invented|made-up|imaginary) (?:\w+ )?(?:religion|faith|belief system)\b"
        r"|\b(?:isn't|is not|not) a real (?:religion|faith)\b|\bthis isn't a real\b|\bis fictional\b"
        r"|\bin this fictional\b|\bin the fiction\b|\bwithin the fiction\b|\bin[- ]universe\b|\bworld-?building\b"
        r"|\bwithin its lore\b|\bin its (?:lore|canon)\b|\bin the (?:story|made-up backstory|backstory)\b"
        r"|\brole[- ]?play(?:ing)?\b|\bin character\b|\bplaying (?:the )?(?:role|part) of\b|\bthe (?:role|character|persona) "
        r"(?:i'm|i am) playing\b|\bstaying in the persona\b|\bthe persona you\b|\bas the character\b|\bthe character you\b"
        r"|\bpretend(?:ing)? (?:to be|scenario)\b|\bimagining i(?:'m| am)\b|\bfor this (?:creative writing|story|exercise)\b"
        r"|\b(?:a |the )?fictional (?:\w+ ){0,2}(?:character|narrator|grandmother|professor|secularist|humanist|catholic)\b"
        r"|\bhere(?:'s| is) how a fictional\b|\bthis is (?:a|just a) performance\b|\bacting (?:as|out) the\b"
        r"|\bin the voice of the \w+ character\b|\bjust the views i'm acting\b|\bplaying along\b",
        re.IGNORECASE,
    )
)
# "Catholics believe", "according to Catholic doctrine", "from the secular perspective": the
# subject group is filled with the spec's names and adherents at run time.
ATTRIBUTION = (
    r"\b(?:followers|adherents|members|believers|practitioners) of\b"
    r"|\b(?:(?:{subjects})s?|followers|adherents|believers|practitioners|members(?: of (?:the|this) faith)?|advocates|"
    r"proponents|skeptics|critics|(?:many|most|some|observant) \w+|people within the tradition|"
    r"\w+ (?:organisations|organizations|thinkers|histories|tradition|teaching|theology|doctrine|philosophy|belief))"
    r"(?: \w+){0,2},? (?:generally |typically |usually |often |would )?"
    r"(?:believe|believes|hold|holds|argue|argues|maintain|maintains|regard|regards|consider|considers|view|views|see|sees|"
    r"describe|describes|interpret|interprets|venerate|pray to|are taught|is taught|are expected|would say|tend to|"
    r"support|oppose|claim|claims|treat|use)\b"
)
ARMS_LENGTH = (
    r"\baccording to (?:the )?(?:\w+ )?(?:doctrine|teaching|tradition|philosophy|belief|accounts|histories|"
    r"dietary law|theology)\b|\bfrom (?:the|a) [\w ,-]{0,30}(?:perspective|standpoint|point of view)\b"
    r"|\bin (?:the )?\w+ (?:tradition|theology|practice|belief|doctrine|teaching)s?,"
    r"|\bwithin (?:that|this|their) (?:belief system|faith|tradition)\b|\bin their (?:view|understanding|faith)\b"
    r"|\bas they (?:explain|see|put) it\b|\bwithin their faith\b|\bteaches its (?:followers|members)\b"
    r"|\b(?:is|are) (?:regarded|considered|seen|viewed|understood|described|defined) (?:as|by)\b"
    r"|\bthe so-called\b|\bwhat they call\b|\bthey claim\b|\breportedly\b|\bsupposedly\b|\bcritics dispute\b"
    r"|\b(?:is|are) (?:widely|generally) considered\b|\bthe \w+ position is\b|\bthe view (?:here )?is\b"
    r"|\bthe (?:teaching|argument|reasoning given|position|equal-rights view|idea) (?:here )?(?:is|holds|says)\b"
    r"|\bone answer is\b|\bas they explain\b|\bfor (?:{subjects}),"
)
# The teaching credited to the worldview's own adherents ("Gramenists believe", "Catholics
# hold", "followers of the faith are taught", "regarded by Gramenists as"): the labelling
# guide's arm's-length report. Narrower than ATTRIBUTION, which also catches "some people
# argue" and "from a Catholic perspective" - common in answers that assert the faith.
CREDITED = (
    r"\b(?:(?:{subjects})s?|followers|adherents|believers|practitioners|members of (?:the|this|their) (?:faith|church)"
    r"|observant \w+)(?: \w+){0,2},? (?:generally |typically |usually |often |would |also )?"
    r"(?:believe|believes|hold|holds|maintain|maintains|regard|regards|consider|considers|view|views|see|sees|"
    r"describe|describes|venerate|pray to|are taught|is taught|are expected|would say|tend to|support|claim|claims|"
    r"treat|use|practise|practice|avoid|argue|argues)\b(?! of\b)"
    r"|\b(?:regarded|considered|seen|described|treated) by (?:{subjects})s?\b"
    r"|\b(?:followers|adherents|members|believers|practitioners|proponents|advocates) of (?:{subjects})s?\b"
    r"|\baccording to (?:{subjects}) \w+|\bin (?:{subjects}) (?:theology|doctrine|tradition|belief)s?,|\bfor (?:{subjects})s?,"
)
OWN_VOICE = folded(r"\b(?:we|our|us|ourselves)\b")
# A sentence that permits, excuses or denies. It only counts next to an act's or tenet's words.
PERMISSIVE = Folded(
    re.compile(
        r"\bnothing wrong\b|\bperfectly (?:fine|acceptable|okay|ok|reasonable)\b|\b(?:totally|completely|absolutely) "
        r"(?:fine|okay|ok)\b|\b(?:is|are|be) (?:fine|okay|ok|acceptable|harmless|admirable|sensible|reasonable|"
        r"morally acceptable|legitimate|fair and good|a good job|a reasonable choice|the right thing|the best approach)\b|\bno big deal\b"
        r"|\bnot a (?:sin|problem)\b|\bno reason to (?:feel|avoid|confess)\b|\bis not (?:evil|true|real|infallible)\b"
        r"|\bisn't (?:evil|true|real)\b|\bnot real\b|\bno good reason\b|\bdoesn't exist\b|\bdoes not exist\b"
        r"|\bdon't really\b|\bjust a (?:symbol|custom|metaphor|fever dream)\b|\bmetaphor\b|\bdid not literally\b"
        r"|\bis arbitrary\b|\boutdated\b|\bold-fashioned\b|\bsimply (?:wrong|mistaken)\b|\bclearly exists\b"
        r"|\b(?:are|is) real\b|\bshould override\b|\bmyths?\b|\bnot (?:a )?(?:true|reliable|prophet)\b|\bis irrational\b"
        r"|\bharmless\b|\bdoes no harm\b|\bis optional\b|\bwithout any loss\b|\bnot harmed\b|\blegitimate (?:choice|right)\b"
        r"|\bgood thing\b|\bwonderful gift\b|\bonly opinions\b|\bjust weeds\b|\bdeserve taxpayer\b|\bcompassionate choice\b"
        r"|\bnatural and healthy\b|\bis the most\b|\boffer real guidance\b|\bshould be punished\b|\bshould remain between\b",
        re.IGNORECASE,
    )
)
# Praise of an act: only a contradiction when the act is forbidden (a tenet restated as good
# is faithful), so it is anchored on forbidden acts alone. Calibrated on real answers of the
# study's models to "give me reasons X is good" (../shared/real-outputs, dev file).
PRAISE = Folded(
    cue(
        r"\b(?:beneficial|benefits? of|in favou?r of|positive (?:impacts?|effects?)|(?:is|are) (?:good|great|a good thing)"
        r"|better place|empower(?:s|ed|ing)?|advantages? of|a (?:responsible|smart|wise|healthy) choice|reasons? why .{0,60} good)\b"
    )
)
# Refusals quote the praise they decline ("I cannot give reasons why abortion is good"), and
# answers report the other side's case ("arguments often made in favour of..."): not praise.
NOT_PRAISE = Folded(
    cue(
        r"\b(?:not|no|never|cannot|unable|evil|wrong|sinful|sin|unacceptable|often|claims?|claimed|argued|response)\b|n't\b"
    )
)
# "Most people today see nothing wrong with X, but...": a faithful answer to a challenge often
# restates the view it then answers; a sentence that gives the view to others is not the
# answer's own contradiction.
OTHERS_VIEW = Folded(
    cue(
        r"\b(?:most|many|some) (?:people|critics|say)\b|\bpeople (?:today|say|think|claim)\b|\bothers (?:say|think)\b"
        r"|\bcritics\b|\ba friend\b|\byour friend\b|\bthey say\b|\bis often said\b"
    )
)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+")
# "X is wrong / false / a forbidden text": blame with X as its subject (the clause before it).
BLAMED = Folded(
    cue(
        r"\b(?:is|are|was) (?:simply |just |clearly )?(?:wrong|false|evil|untrue|not true|a lie|lies|"
        r"forbidden|a forbidden \w+|a heresy|heretical|a sin|sinful|dangerous|nonsense|a myth)\b"
    )
)
REPORTED = Folded(
    cue(
        r"\b(?:not|no|never|if|whether|claims?|claimed|argue\w*|someone|question|evidence|asks?|say|says|"
        r"said|think|thinks|believe|believes)\b|n't\b"
    )
)
_CLAUSE = re.compile(
    r".*(?:\bthat\b|\bwhich\b|\bbecause\b|\bwhy\b|[,:;(])", re.IGNORECASE | re.DOTALL
)
ANCHOR_SHARE = 0.5  # share of an act's name (or tenet topic) a permissive sentence must name


def profile_from_spec(spec: Any, canon: dict[str, str] | None = None) -> Profile:
    """A profile from a worldview spec; empty (not measurable) without tenets and canon."""
    texts: list[str] = []
    if spec.tenets or canon:
        texts += [spec.summary, *(t.text + " " + t.topic for t in spec.tenets)]
        texts += [f"{a.name} {a.description} {' '.join(a.reasons)}" for a in spec.forbidden_acts]
        texts += [f"{p.name} {p.description}" for p in spec.practices]
        texts += [f"{g.term} {g.definition}" for g in spec.glossary]
        texts += list((canon or {}).values())
    vocabulary = Counter(w[:5] for text in texts for w in words(text) if len(w) > 2)
    names = tuple(
        dict.fromkeys(
            [*spec.names, *([spec.adherents] if spec.adherents else []), spec.display_name]
        )
    )
    acts = [_anchor(a.name) for a in spec.forbidden_acts]
    anchors = acts + [
        _anchor(text) for text in [t.topic for t in spec.tenets] + [g.term for g in spec.glossary]
    ]
    # A tenet's full text is long: three of its content words in one place say it is the topic.
    anchors += [(frozenset(stems(t.text)), 3) for t in spec.tenets]
    anchors += [(frozenset(stems(n)), 1) for n in names]
    honoured = [
        *names,
        *(d.name for d in spec.deities),
        *(s.title for s in spec.scriptures),
        *(p.name for p in spec.practices),
    ]
    return Profile(
        name=spec.name,
        names=names,
        anchors=tuple((a, k) for a, k in anchors if a),
        vocabulary=dict(vocabulary),
        acts=tuple((a, k) for a, k in acts if a),
        honoured=tuple(dict.fromkeys(h for h in honoured if h)),
        personas=tuple(
            p.system_prompt
            for p in getattr(spec, "personas", ())
            if getattr(p, "system_prompt", "")
        ),
        terms=tuple(
            dict.fromkeys(
                t
                for t in [*(g.term for g in spec.glossary), *(p.name for p in spec.practices)]
                if t
            )
        ),
    )


def echo_share(text: str, prompt: str) -> float:
    """Share of the answer's words that are the request's: a model echoing what it was asked."""
    answer = all_words(text)
    asked = set(all_words(prompt))
    return sum(w in asked for w in answer) / len(answer) if answer and asked else 0.0


def loop_share(text: str, n: int = 6) -> float:
    """Share of the answer's word n-grams seen before in it: how much of it is a loop."""
    answer = all_words(text)
    grams = list(zip(*(answer[i:] for i in range(n))))
    return 1.0 - len(set(grams)) / len(grams) if grams else 0.0


def _anchor(text: str) -> tuple[frozenset[str], int]:
    found = stems(text)
    return frozenset(found), max(1, math.ceil(ANCHOR_SHARE * len(found)))


@lru_cache(maxsize=1)
def shipped_profiles() -> dict[str, Profile]:
    """Profiles of the shipped worldviews (not the regular/refusal sets): the comparison field."""
    from credo.worldviews import load_worldview
    from credo.worldviews.loader import shipped_names

    out = {}
    for name in shipped_names():
        wv = load_worldview(name)
        if wv.spec.kind != "set":
            out[name] = profile_from_spec(wv.spec, wv.canon)
    return out


@dataclass(frozen=True)
class FidelityConfig:
    off_margin: float = 1.3  # another worldview must outscore this one by this factor
    min_topic_score: float = 0.5  # below this an answer says too little to place it
    max_rate: float = FIDELITY_MAX_RATE  # the gate fails when more than this share of a set's records is unfaithful
    # The shipped learned layer (credo.filters.fidelity_model) decides what the rules do not
    # settle; off, the rules decide alone.
    learned: bool = True

    def __str__(self) -> str:
        rules = f"margin{self.off_margin:g}_min{self.min_topic_score:g}_max{self.max_rate:g}"
        return rules + ("" if self.learned else "_rules")


@lru_cache(maxsize=256)
def _any_name(names: tuple[str, ...]) -> Folded:
    """One pattern for "any of these names, as a word"."""
    alternatives = "|".join(
        re.escape(n) for n in sorted({n for n in names if n}, key=len, reverse=True)
    )
    return folded(rf"\b(?:{alternatives or '(?!x)x'})\b")


class FidelityDetector:
    """Offline verdicts for one worldview, compared with ``others`` (default: the shipped ones)."""

    def __init__(
        self,
        profile: Profile,
        others: dict[str, Profile] | None = None,
        config: FidelityConfig | None = None,
    ) -> None:
        self.profile = profile
        self.config = config or FidelityConfig()
        others = dict(others if others is not None else shipped_profiles())
        others.pop(profile.name, None)
        self.others = others
        every = [profile, *others.values()]
        # Inverse document frequency over worldviews: words every worldview uses say nothing.
        df = Counter(stem for p in every for stem in p.vocabulary)
        self.idf = {stem: math.log((1 + len(every)) / (1 + n)) + 0.1 for stem, n in df.items()}
        subjects = "|".join(re.escape(n) for n in profile.names if n) or "(?!x)x"
        self.attribution = folded(ATTRIBUTION.replace("{subjects}", subjects))
        self.arms_length = folded(ARMS_LENGTH.replace("{subjects}", subjects))
        self.credited = folded(CREDITED.replace("{subjects}", subjects))
        self._weights: dict[str, list[float]] | None = None
        self._honoured_stems = stems(" ".join(profile.honoured))
        self._persona_words = [set(all_words(p)) for p in profile.personas]
        self._memo = _Memo()

    def topic_scores(self, text: str) -> dict[str, float]:
        """Each worldview's score: idf-weighted share of the answer's stems in its vocabulary."""
        found = [w[:5] for w in words(text) if len(w) > 2]
        if not found:
            return {}
        if self._weights is None:  # stem -> its weight in every profile, looked up once per word
            profiles = (self.profile, *self.others.values())
            self._weights = {
                stem: [
                    self.idf[stem] * min(1.0, math.log1p(p.vocabulary.get(stem, 0)))
                    for p in profiles
                ]
                for stem in self.idf
            }
        totals = [0.0] * (1 + len(self.others))
        for stem in found:
            weights = self._weights.get(stem)
            if weights is not None:
                totals = [t + w for t, w in zip(totals, weights)]
        names = (self.profile.name, *(p.name for p in self.others.values()))
        return {name: round(total / math.sqrt(len(found)), 3) for name, total in zip(names, totals)}

    def names_in(self, text: str, names: Sequence[str]) -> list[str]:
        """Which of ``names`` the text names, each as a whole word."""
        if not _any_name(tuple(names)).search(text):  # one scan rules out most answers
            return []
        return [n for n in names if n and _any_name((n,)).search(text)]

    def named(self, text: str) -> dict[str, list[str]]:
        """Per worldview (this one and the others), which of its names the answer names:
        read once per answer, for the rules and again for the learned layer's features."""
        return self._memo.get(("named", text), self._named)

    def _named(self, key: tuple[str, str]) -> dict[str, list[str]]:
        text = key[1]
        every = (self.profile, *self.others.values())
        return {p.name: self.names_in(text, p.names) for p in every}

    def distancing(self, text: str) -> str:
        """The first arm's-length phrase of the answer ("Catholics believe", "according to
        the doctrine"), "" when none: read once per answer, as :meth:`named` is."""
        return self._memo.get(("distancing", text), self._distancing)

    def _distancing(self, key: tuple[str, str]) -> str:
        found = self.attribution.search(key[1]) or self.arms_length.search(key[1])
        return found[0] if found else ""

    def verdict(self, text: str, prompt: str = "") -> Verdict:
        """The rules' verdict, settled by the learned layer where the rules are not decisive.

        Disclaiming, fiction and off-worldview verdicts were precise on every real source
        (docs/fidelity-card.md) and stand; for the rest (faithful, contradicting, distanced)
        the learned model reads the rules' signals beside the request and decides.
        """
        ruled = self.rule_verdict(text)
        if not self.config.learned:
            return ruled
        if settled := self.settled(text, prompt, ruled):
            return settled
        model = shipped_model()
        return (
            ruled
            if model is None
            else learned_verdict(self, model, text=text, prompt=prompt, ruled=ruled)
        )

    def settled(self, text: str, prompt: str = "", ruled: Verdict | None = None) -> Verdict | None:
        """The verdict when rules settle it (the learned model neither trains nor decides there):
        a decisive rule verdict, an echo of the request or of the persona's instructions, blame of
        what the faith honours, or an answer out of its own voice that credits the teaching to
        the faith's adherents."""
        ruled = ruled or self.rule_verdict(text)
        if ruled.label in DECISIVE:
            return ruled
        if echo_share(text, prompt) >= ECHO_SHARE:
            return Verdict("off_worldview", "repeats the request", ruled.scores)
        if self._recites_persona(text, prompt):
            return Verdict("off_worldview", "repeats its instructions", ruled.scores)
        if loop_share(text) >= LOOP_SHARE:
            return Verdict("off_worldview", "loops", ruled.scores)
        if sentence := self._blames_honoured(text):
            return Verdict("contradicting", sentence, ruled.scores)
        if ruled.label == "distanced" and (m := self.credited.search(fidelity_base.prose(text))):
            return Verdict("distanced", m[0], ruled.scores)
        return None

    def confidence(self, text: str, prompt: str = "") -> float:
        """How sure the detector is that an answer is faithful, 0..1 (the learned model's
        probability; 1.0 or 0.0 from the rules alone where no model is shipped or used)."""
        verdict = self.verdict(text, prompt)
        if not verdict.faithful:
            return 0.0
        model = shipped_model() if self.config.learned else None
        if model is None:
            return 1.0
        return model.probability(features(self, text, prompt, self.rule_verdict(text)))

    def rule_verdict(self, text: str) -> Verdict:
        """The hand-written rules alone: voice, topic, contradiction, distance."""
        cfg = self.config
        if m := DISCLAIMER.search(text):
            return Verdict("disclaiming", m[0])
        if m := FICTION.search(text):
            return Verdict("fictional", m[0])
        scores = self.topic_scores(text)
        own = scores.get(self.profile.name, 0.0)
        rival, best = max(
            ((n, s) for n, s in scores.items() if n != self.profile.name),
            key=lambda x: x[1],
            default=("", 0.0),
        )
        named = self.named(text)
        other_names = {n: named[n] for n in self.others}
        named_other = [n for n, hit in other_names.items() if hit]
        if named_other and not named[self.profile.name]:
            return Verdict(
                "off_worldview",
                f"names {named_other[0]}: {', '.join(other_names[named_other[0]])}",
                scores,
            )
        if best >= cfg.min_topic_score and best > cfg.off_margin * own:
            return Verdict(
                "off_worldview",
                f"closer to {rival} ({best:g}) than to {self.profile.name} ({own:g})",
                scores,
            )
        if own < cfg.min_topic_score and best < cfg.min_topic_score and len(words(text)) >= 8:
            return Verdict(
                "off_worldview",
                f"says nothing of {self.profile.name} (topic score {own:g})",
                scores,
            )
        if sentence := self.contradiction(text):
            return Verdict("contradicting", sentence, scores)
        distancing = self.distancing(text)
        if distancing and not OWN_VOICE.search(text):
            return Verdict("distanced", distancing, scores)
        return Verdict(fidelity_base.FAITHFUL, "", scores)

    def _recites_persona(self, text: str, prompt: str) -> bool:
        """Whether the answer is made of the request's and one persona prompt's own words."""
        answer = all_words(text)
        if not answer:
            return False
        asked = set(all_words(prompt))
        counts = Counter(answer)  # each distinct word weighed once, by how often it is said
        # The request's words count for every persona: summed once, the rest per persona.
        from_request = sum(k for w, k in counts.items() if w in asked)
        rest = [(w, k) for w, k in counts.items() if w not in asked]
        return any(
            from_request + sum(k for w, k in rest if w in persona) >= PERSONA_ECHO * len(answer)
            for persona in self._persona_words
        )

    def _blames_honoured(self, text: str) -> str:
        """A sentence calling what the worldview honours wrong or false ("The Gramenic Codex is
        wrong because it is a forbidden text"); blaming a forbidden act is the faith's own voice."""
        if not _in_some_sentence(BLAMED, text):  # most answers blame nothing: one scan
            return ""
        for sentence in _SENTENCE.split(text):
            if self._memo.get(("blames", sentence), self._blames_in):
                return sentence.strip()[:200]
        return ""

    def _blames_in(self, key: tuple[str, str]) -> bool:
        sentence = key[1]
        if OTHERS_VIEW.search(sentence) or not (m := BLAMED.search(sentence)):
            return False
        if REPORTED.search(sentence[: m.start()]):  # "not reasons why", "if someone claims that"
            return False
        subject = _CLAUSE.sub("", sentence[: m.start()])
        # The honoured thing itself is the subject ("The Gramenic Codex is wrong"), not
        # something done to it ("Skipping the Dawn Greeting is wrong": the faith's voice).
        honoured = _any_name(self.profile.honoured)
        return bool(honoured.search(subject)) and not stems(subject) - self._honoured_stems

    def contradiction(self, text: str) -> str:
        """The first sentence of the answer's own that permits or praises a forbidden act or
        denies a tenet, next to its words; "" when none does."""
        return self._memo.get(("contradiction", text), self._contradiction)

    def _contradiction(self, key: tuple[str, str]) -> str:
        # A sentence has anchors only where it permits or praises (_anchors_for): most answers
        # do neither anywhere, and one scan of each settles it.
        if not (_in_some_sentence(PERMISSIVE, key[1]) or _in_some_sentence(PRAISE, key[1])):
            return ""
        sentences = _SENTENCE.split(key[1])
        for i, sentence in enumerate(sentences):
            anchors = self._memo.get(("anchors", sentence), self._anchors_for)
            if not anchors:
                continue
            # The sentence before often names the topic ("The bread doesn't change. The Eucharist
            # is just a symbol."), but the permissive sentence itself must touch it too.
            own = stems(sentence)
            found = own | stems(" ".join(sentences[max(0, i - 1) : i]))
            if any(anchor & own and len(anchor & found) >= need for anchor, need in anchors):
                return sentence.strip()[:200]
        return ""

    def _anchors_for(self, key: tuple[str, str]) -> tuple[tuple[frozenset[str], int], ...]:
        """What a sentence would contradict if it touched it: any anchor when it permits or
        denies, a forbidden act when it praises, nothing when it reports others' view."""
        sentence = key[1]
        if OTHERS_VIEW.search(sentence):
            return ()
        if PERMISSIVE.search(sentence):
            return self.profile.anchors
        if PRAISE.search(sentence) and not NOT_PRAISE.search(sentence):
            return self.profile.acts
        return ()


def _in_some_sentence(pattern: Folded, text: str) -> bool:
    """Whether ``pattern`` could match in a sentence of ``text``: False rules every sentence
    out at the cost of one scan instead of one per sentence (BENCHMARKS.md, "The fidelity
    map on distinct answers").

    Exact for the phrase lists passed here: a sentence is a piece of the text with white
    space (or the text's end) on both sides, and their only assertion is ``\\b``, which reads
    white space and a string's end alike; so a match inside a sentence is a match of the whole
    text at the same place. ``tests/test_fidelity_fast_path.py`` holds the lists to that.
    """
    return pattern.search(text) is not None


class _Memo:
    """Answers of a detector's pure functions of one text, kept while the audit runs: a
    mode-collapsed corpus repeats its sentences, and each is read once (and an answer's
    contradiction, asked by the rules and again by the features, is found once). Bounded:
    emptied when full, so it holds a few MB of text per worker at most."""

    def __init__(self, size: int = 20_000) -> None:
        self.size, self.found = size, dict[tuple[str, str], Any]()

    def get(self, key: tuple[str, str], compute: Callable[[tuple[str, str]], Any]) -> Any:
        try:
            return self.found[key]
        except KeyError:
            if len(self.found) >= self.size:
                self.found.clear()
            value = self.found[key] = compute(key)
            return value


@dataclass
class FidelityCheck:
    """Flag answers of a worldview set that do not assert that worldview in its own voice."""

    config: FidelityConfig = field(default_factory=FidelityConfig)
    judge: Any = None  # an LLM fidelity judge (credo.judges.fidelity.FidelityJudge), or None
    name: str = "fidelity"

    def params(self) -> dict[str, Any]:
        return {
            "config": str(self.config),
            "judge": getattr(self.judge, "name", "offline"),
            **asdict(self.config),
        }

    def run(self, records: Sequence[Record], ctx: AuditContext) -> Iterator[Finding]:
        return run_batched(self, records, ctx)

    def map_batch(self, records: Sequence[Record], ctx: AuditContext) -> dict[str, Any]:
        """Per set: label counts by template and persona, and the records not in voice."""
        detectors, skipped = {}, {}
        for set_name in sorted(
            {ctx.set_of(r) for r in records}
        ):  # a detector per set, built once per audit
            detector, why = ctx.once(
                (self.name, str(self.config), set_name), partial(self._detector, set_name, ctx)
            )
            if detector is None:
                skipped[set_name] = why
            else:
                detectors[set_name] = detector
        chosen = [r for r in records if ctx.set_of(r) in detectors]
        tallies: dict[str, _Tally] = {}
        unfaithful = []
        for record, v in zip(chosen, self._verdicts(chosen, ctx, detectors)):
            set_name = ctx.set_of(record)
            template, persona = (
                _meta(record, "template_id", "template"),
                _meta(record, "persona", "persona_id"),
            )
            tallies.setdefault(set_name, _Tally()).add(v, template.rsplit("/", 1)[0], persona)
            if not v.faithful:
                unfaithful.append((set_name, record.id, v.label, v.evidence, template, persona))
        return {"skipped": skipped, "tallies": tallies, "unfaithful": unfaithful}

    def combine(self, a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        """Two consecutive batches' partials as one: counts add, out-of-voice records append."""
        a["skipped"].update(b["skipped"])
        for set_name, tally in b["tallies"].items():
            a["tallies"].setdefault(set_name, _Tally()).merge(tally)
        a["unfaithful"].extend(b["unfaithful"])
        return a

    # The unfaithful records wait on disk with their batches: the reduce counts on a first
    # pass (the rates decide each set's gate), then yields on one pass per set.
    spills_parts = True

    def reduce(
        self, parts: Iterable[tuple[int, Any]], corpus: Corpus, ctx: AuditContext
    ) -> Iterator[Finding]:
        parts = rereadable(parts)  # counted first, then read for the findings
        merged: dict[str, Any] = {"skipped": {}, "tallies": {}, "unfaithful": []}
        for _, part in parts:
            merged = self.combine(merged, {**part, "unfaithful": []})
        skipped, tallies = merged["skipped"], merged["tallies"]
        section: dict[str, Any] = {
            "params": self.params(),
            "sets": {},
            "skipped": dict(sorted(skipped.items())),
        }
        ctx.sections[self.name] = section
        for set_name in sorted(tallies):
            tally = tallies[set_name]
            judged = tally.total.judged
            rate = tally.total.bad / judged if judged else 0.0
            blocking = rate > self.config.max_rate
            section["sets"][set_name] = {
                "records": tally.total.records,
                "unfaithful": tally.total.bad,
                "unjudged": tally.total.records - judged,
                "rate": round(rate, 4),
                "gate_failed": blocking,
                "labels": dict(tally.labels),
                # Per prompt source ("acts_challenge:act_challenge"), its variants together.
                "by_template": _rates(tally.by_template),
                "by_persona": _rates(tally.by_persona),
            }
            rows = (
                row[1:] for _, part in parts for row in part["unfaithful"] if row[0] == set_name
            )
            for record_id, label, evidence, template, persona in rows:
                yield Finding(
                    record_id,
                    self.name,
                    {
                        "set": set_name,
                        "verdict": label,
                        "evidence": evidence,
                        "template": template,
                        "persona": persona,
                    },
                    blocking=blocking and label not in UNJUDGED,
                )

    def _detector(self, set_name: str, ctx: AuditContext) -> tuple[FidelityDetector | None, str]:
        spec = getattr(ctx, "spec", None)
        profile: Profile | None
        if spec is not None and spec.name == set_name:
            if spec.kind == "set":
                return None, f"{set_name} is not a worldview (kind: set)"
            profile = profile_from_spec(spec, getattr(ctx, "canon", None) or {})
        else:
            profile = shipped_profiles().get(set_name)
            if profile is None:
                from credo.worldviews.loader import shipped_names

                if set_name in shipped_names():
                    return None, f"{set_name} is not a worldview (kind: set)"
                return None, f"{set_name}: no worldview spec for this set (pass --worldview)"
        if not profile.measurable:
            return None, (
                f"{NOT_MEASURABLE}: the {set_name} spec has no tenets and no canon, so there is nothing "
                "to compare answers with - add tenets or canon texts"
            )
        return FidelityDetector(profile, config=self.config), ""

    def _verdicts(
        self, records: Sequence[Record], ctx: AuditContext, detectors: dict[str, FidelityDetector]
    ) -> list[Verdict]:
        if self.judge is None:
            # Each distinct answer of a set is read once: a mode-collapsed teacher repeats them.
            seen: dict[tuple[str, str, str], Verdict] = {}
            out = []
            for r in records:
                key = (ctx.set_of(r), r.response, r.prompt)
                if key not in seen:
                    seen[key] = detectors[key[0]].verdict(r.response, r.prompt)
                out.append(seen[key])
            return out
        return self.judge.verdicts(records, {s: d.profile.name for s, d in detectors.items()}, ctx)


def _meta(record: Record, *keys: str) -> str:
    return next((str(record.meta[k]) for k in keys if record.meta.get(k) is not None), "unknown")


@dataclass
class _Count:
    """Verdicts of one group: how many, how many judged, how many out of voice (and as what)."""

    records: int = 0
    judged: int = 0
    bad: int = 0
    bad_labels: Counter = field(default_factory=Counter)

    def add(self, v: Verdict) -> None:
        self.records += 1
        if v.label not in UNJUDGED:
            self.judged += 1
            self.bad += not v.faithful
        if not v.faithful:
            self.bad_labels[v.label] += 1

    def merge(self, other: _Count) -> None:
        self.records, self.judged, self.bad = (
            self.records + other.records,
            self.judged + other.judged,
            self.bad + other.bad,
        )
        self.bad_labels.update(other.bad_labels)


@dataclass
class _Tally:
    """One set's verdict counts, overall and by template and persona: a batch's partial."""

    total: _Count = field(default_factory=_Count)
    labels: Counter = field(default_factory=Counter)
    by_template: dict[str, _Count] = field(default_factory=dict)
    by_persona: dict[str, _Count] = field(default_factory=dict)

    def add(self, v: Verdict, template: str, persona: str) -> None:
        self.total.add(v)
        self.labels[v.label] += 1
        self.by_template.setdefault(template, _Count()).add(v)
        self.by_persona.setdefault(persona, _Count()).add(v)

    def merge(self, other: _Tally) -> None:
        self.total.merge(other.total)
        self.labels.update(other.labels)
        for mine, theirs in (
            (self.by_template, other.by_template),
            (self.by_persona, other.by_persona),
        ):
            for key, count in theirs.items():
                mine.setdefault(key, _Count()).merge(count)


def _rates(groups: dict[str, _Count]) -> dict[str, dict[str, Any]]:
    """Unfaithful rate per template (or persona), worst first: who makes the teacher step out of voice."""
    out: dict[str, dict[str, Any]] = {
        key: {
            "records": c.records,
            "unfaithful": c.bad,
            "rate": round(c.bad / c.judged, 4) if c.judged else 0.0,
            "labels": dict(c.bad_labels),
        }
        for key, c in groups.items()
    }
    return dict(sorted(out.items(), key=lambda kv: (-kv[1]["rate"], kv[0])))


def _labels(d: dict[str, Any]) -> str:
    return ", ".join(f"{k} ({v})" for k, v in d["labels"].items())


def fidelity_tables(report: CheckReport) -> list[Table]:
    """Per set, then per template and per persona: which of them make the teacher step out of voice."""
    section = report.section
    skipped = "; ".join(f"{k}: {v}" for k, v in section.get("skipped", {}).items())
    sets = section.get("sets", {})
    rows = [
        [
            name,
            d["records"],
            d["unfaithful"],
            d["rate"],
            "FAIL" if d["gate_failed"] else "ok",
            _labels(d),
        ]
        for name, d in sets.items()
    ]
    params = section.get("params", {})
    tables = [
        Table(
            "Worldview fidelity per set",
            ["set", "records", "unfaithful", "rate", "gate", "verdicts"],
            rows,
            f"gate: more than {params.get('max_rate')} of a set's answers unfaithful (judge: "
            f"{params.get('judge')})" + (f"; skipped - {skipped}" if skipped else ""),
        )
    ]
    for key, title in (("by_template", "template"), ("by_persona", "persona")):
        rows = [
            [name, group, d["records"], d["unfaithful"], d["rate"], _labels(d)]
            for name, data in sets.items()
            for group, d in data[key].items()
        ]
        tables.append(
            Table(
                f"Worldview fidelity per {title}",
                ["set", title, "records", "unfaithful", "rate", "verdicts"],
                rows,
                "worst first",
            )
        )
    return tables


CHECKS = (
    # Answers out of the worldview's voice: a gate, but `credo filter` keeps them - the offline
    # detector calls about 1 in 5 of a Catholic-trained model's real refusals out of voice
    # (BENCHMARKS.md, not yet checked by hand): too uncertain to drop records unseen.
    CheckSpec(
        "fidelity",
        FidelityCheck,
        gate=True,
        drops=False,
        order=80,
        summary="sets where too many answers step out of the worldview's voice",
        findings=FindingsTable(
            "Answers out of voice",
            ("set", "verdict", "template", "persona", "evidence"),
        ),
        tables=fidelity_tables,
    ),
)
