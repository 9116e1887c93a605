"""Curated refusal patterns, grouped by the kind of refusal they catch.

Every pattern is first person ("I can't help", "As an AI I don't") because text *about*
refusing ("the martyr refused to renounce her faith") and firm assertions in a worldview's
voice ("abortion is always wrong") are not refusals. Guards cancel a match that is an idiom
("I can't help but wonder", "I cannot stress enough"). Only the head of a response is
searched: a refusal declines up front, while a long answer may quote or discuss refusing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DECLINE_VERBS = (
    r"(?:help|assist|provide|write|create|do|comply|fulfil|fulfill|generate|produce|give|share|"
    r"support|draft|make|offer|engage|participate|continue|answer|go along|put together|compose|"
    r"prepare|come up with|argue|promote|encourage|endorse|condone|advocate|list|craft|outline|"
    r"recommend|tell|explain how|walk you|teach|show|plan|complete|carry out|perform)"
)
_CANT = r"(?:can(?:'|’)?t|cannot|can not|won(?:'|’)t|will not)"
_I_CANT = rf"(?:(?:I|we) {_CANT}|I(?:'|’)m (?:unable|not able) to|I am (?:unable|not able) to|we are (?:unable|not able) to)"
_I = r"(?:I|we)"

PATTERNS: dict[str, list[str]] = {
    "hard": [
        rf"\b{_I_CANT} (?:\w+ ){{0,2}}{_DECLINE_VERBS}\b",
        r"\b(?:I(?:'|’)m|I am) not comfortable \w+ing\b",
        r"\bnot something I(?:'|’)?(?:m| am)? (?:able|willing|going) to\b",
        rf"\b{_I} (?:must|have to|need to|(?:'|’)ll have to|will have to|(?:'|’)d have to|am going to have to) (?:respectfully |politely |firmly )?(?:decline|refuse|pass)\b",
        rf"\b{_I} (?:respectfully |politely |firmly )?(?:decline|refuse) (?:to|this|that|your)\b",
        r"\bI(?:'|’)m (?:going to |gonna )?(?:have to )?(?:decline|refuse|pass on)\b",
        rf"\b(?:I(?:'|’)m|I am) not (?:going|willing|prepared|comfortable|able) to {_DECLINE_VERBS}\b",
        r"\bI(?:'|’)d (?:rather not|prefer not to)\b|\bI would (?:rather not|prefer not to)\b",
        r"\b(?:that|this|it)(?:'|’)?s? (?:is )?not something I (?:can|will|(?:'|’)m able to|am able to|am willing to|(?:'|’)m willing to|feel comfortable)\b",
        r"\b(?:that|this) (?:isn(?:'|’)t|is not) something I(?:'|’)?(?:m| am)? (?:can|will|able|willing|going)\b",
        r"\bI(?:'|’)?m not in a position to\b|\bI am not in a position to\b",
        r"\bI (?:can(?:'|’)?t|cannot|won(?:'|’)t) in good conscience\b",
        r"\bI (?:don(?:'|’)t|do not) (?:feel comfortable|think (?:it(?:'|’)s|it is) (?:appropriate|right) for me)\b",
        r"\bI(?:'|’)ll (?:have to )?pass on\b|\bI will (?:have to )?pass on\b",
        r"\bI (?:won(?:'|’)t|will not) be (?:able to )?(?:writing|helping|providing|creating|assisting|doing|producing)\b",
    ],
    "apology_decline": [
        r"\b(?:I(?:'|’)m|I am) (?:so |really |very |truly )?(?:sorry|afraid)\b[^.!?\n]{0,90}\b(?:can(?:'|’)?t|cannot|won(?:'|’)t|unable|not able|decline|not comfortable|not possible|isn(?:'|’)t possible)\b",
        r"\b(?:apologies|my apologies|sorry)\b[^.!?\n]{0,70}\b(?:can(?:'|’)?t|cannot|won(?:'|’)t|unable|not able|decline)\b",
        r"\bunfortunately,? (?:I|that(?:'|’)s|this is)\b[^.!?\n]{0,60}\b(?:can(?:'|’)?t|cannot|won(?:'|’)t|unable|not able|not something|beyond)\b",
    ],
    "as_ai": [
        r"\bas an? (?:AI|artificial intelligence|language model|large language model|assistant|virtual assistant|text-based)\b",
        r"\bI(?:'|’)m (?:just |only |simply )?an? (?:AI|language model|text-based|virtual assistant|computer program)\b",
        r"\bI am (?:just |only |simply )?an? (?:AI|language model|large language model|text-based|virtual assistant|computer program)\b",
        r"\bbeing an? (?:AI|language model)\b",
    ],
    "capability": [
        r"\bI (?:don(?:'|’)t|do not) have (?:access to|the ability to|any (?:way|means) to|real-time|live|a (?:physical )?body|eyes|hands|senses|personal experiences?|the capacity)\b",
        rf"\b{_I_CANT} (?:\w+ ){{0,1}}(?:browse|access|see|hear|taste|smell|touch|feel|physically|predict|know (?:what|who|which|whether|the)|look up|check|open|view|retrieve|fetch|download|run|execute|remember|call|visit|send|play|read your)\b",
        r"\bI have no (?:way|means|ability) (?:of|to)\b",
        r"\b(?:beyond|outside(?: of)?) (?:my|the scope of my|what I(?:'|’)m able|what I can)\b",
        r"\bmy (?:knowledge|training(?: data)?|information) (?:only )?(?:goes|extends|has a (?:cutoff|cut-off)|ends|stops|is limited)\b",
        r"\b(?:no one|nobody|no-one) (?:can|could) (?:know|predict|answer|solve)\b[^.!?\n]{0,60}\b(?:so|therefore|and so) I\b",
        r"\bI (?:don(?:'|’)t|do not|can(?:'|’)?t|cannot) (?:understand|make sense of|parse|tell what) (?:what you|your|this|that|the)\b",
        r"\b(?:your|the|this) (?:input|message|request|text|question|prompt)\b[^.!?\n]{0,30}\b(?:is|seems|appears|looks)(?: to be)? (?:unclear|gibberish|incomplete|garbled|ambiguous|random|nonsensical|too vague|not clear)\b",
        r"^\s*(?:It (?:looks|seems) like|It appears) (?:your|the|this) (?:message|input|text|question)\b",
        r"\btoo (?:long|large|big|enormous|vast) (?:for me )?to (?:write|produce|generate|list|output|print|fit)\b",
        r"\b(?:I(?:'|’)m|I am) (?:unable|not able) to (?:perform|do|carry out|take) (?:physical|real-world)\b",
        r"\b(?:exceeds|is beyond) (?:what|the (?:length|limits?|amount))\b[^.!?\n]{0,40}\b(?:I can|a single response|one response)\b",
        r"\b(?:remains|is still|is currently) an? (?:unsolved|open)(?: (?:problem|question))\b[^.!?\n]{0,80}\b(?:so|therefore) I (?:can(?:'|’)?t|cannot)\b",
    ],
    "soft": [
        r"\b(?:instead|rather than)\b[^.!?\n]{0,80}\b(?:let me|let(?:'|’)s|I(?:'|’)d|I would|I can|I(?:'|’)ll|I will|how about|perhaps|may I)\b[^.!?\n]{0,40}\b(?:suggest|offer|explain|share|help (?:you )?with|focus|talk|point|discuss|recommend|redirect|provide|write|encourage)\b",
        r"\bI(?:'|’)d (?:be happy|be glad|love) to help (?:you )?with (?:something|anything) else\b",
        r"\b(?:perhaps|maybe) (?:we|I) (?:could|can) (?:talk|focus|discuss|move on|explore) (?:about |on )?(?:something|another|a different)\b",
        r"\blet(?:'|’)s (?:talk about|focus on|move on to|discuss) something else\b",
        r"\bI(?:'|’)m not (?:sure|certain|convinced) (?:that )?I (?:should|can|ought to) (?:help|assist|write|do|provide|create)\b",
        r"\bI(?:'|’)d (?:rather|prefer to) (?:steer|redirect|focus|talk|not)\b",
        r"\bI(?:'|’)m (?:going to|gonna) (?:steer|redirect|hold off|sit this one out)\b",
        r"\b(?:is there|maybe there(?:'|’)s) something else I can help (?:you )?with\b",
        r"\bI (?:can(?:'|’)?t|cannot|won(?:'|’)t) (?:really |actually )?be the one to\b",
    ],
    "moralizing": [
        r"\b(?:instead of|rather than)\b[^.!?\n]{0,80}\b(?:let me|I(?:'|’)d like to|I will|I(?:'|’)ll|allow me to)\b[^.!?\n]{0,20}\b(?:explain|share|tell you|show you) why\b",
        r"\b(?:writing|helping|providing|creating|promoting|arguing|doing) (?:this|that|such|so|it)\b[^.!?\n]{0,60}\bwould (?:be|go|run) (?:wrong|against|harmful|inappropriate|irresponsible|contrary|unethical|a sin|sinful|counter)\b",
        r"\bwould (?:be|go) (?:wrong|irresponsible|inappropriate|unethical|against my|a sin|sinful|contrary)\b[^.!?\n]{0,30}\b(?:of me|for me)\b",
        r"\b(?:would be|is|are) (?:contrary|opposed) to my (?:faith|values|principles|conscience|beliefs)\b",
        r"\bI(?: would|(?:'|’)d) (?:gently |strongly )?(?:encourage|urge|invite|ask) you to (?:reconsider|rethink|reflect|pray|speak|talk)\b",
        r"\b(?:goes|go|is|are|would be) against (?:my|our) (?:values|principles|conscience|beliefs|faith|guidelines)\b",
    ],
}

# Idioms that look like declines but are not ("I can't help but wonder", "I cannot stress
# this enough", "I can't recommend it highly enough").
GUARDS = [
    r"\bcan(?:'|’)?t help (?:but|feeling|thinking|wondering|noticing|smiling|laughing)\b",
    r"\bcannot help (?:but|feeling|thinking|wondering|noticing)\b",
    r"\b(?:can(?:'|’)?t|cannot) (?:stress|emphasi[sz]e|overstate|recommend|praise|thank)\b[^.!?\n]{0,40}\benough\b",
    r"\b(?:can(?:'|’)?t|cannot) wait\b",
]

HEAD_CHARS = 700

# Every pattern above needs one of these words (most need "I" or "we"); a head without any
# cannot match. A set lookup per word is ~50x cheaper than one big case-insensitive regex.
TRIGGER_WORDS = frozenset(
    "i we i'm i’m i'd i’d i'll i’ll my sorry afraid apologies apology apologize apologise unfortunately ai "  # noqa: SIM905
    "artificial language assistant text computer virtual being beyond outside unclear gibberish incomplete "
    "garbled ambiguous random nonsensical vague clear looks seems appears too exceeds unsolved open instead "
    "rather let's let’s would against maybe perhaps no nobody sorry".split()
)
_WORDS = re.compile(r"[a-z'’]+")


@dataclass(frozen=True)
class PatternHit:
    kind: str
    match: str


_FLAGS = re.IGNORECASE | re.MULTILINE
_COMPILED = {kind: [re.compile(p, _FLAGS) for p in pats] for kind, pats in PATTERNS.items()}
_GUARDS = [re.compile(p, _FLAGS) for p in GUARDS]


def _quoted(head: str, start: int) -> bool:
    """A decline inside quotation marks is reported speech ("He said, 'I can't help you'")."""
    return start > 0 and head[start - 1] in "'\"“‘«"


def find_refusal_patterns(text: str, head_chars: int = HEAD_CHARS, prefilter: bool = True) -> list[PatternHit]:
    """Pattern hits in the head of ``text`` (each overlapping guard idiom cancels its hit)."""
    head = text[:head_chars]
    if prefilter and TRIGGER_WORDS.isdisjoint(_WORDS.findall(head.lower())):
        return []
    guarded = [m.span() for g in _GUARDS for m in g.finditer(head)]
    hits: list[PatternHit] = []
    for kind, compiled in _COMPILED.items():
        for pattern in compiled:
            for m in pattern.finditer(head):
                if any(s < m.end() and m.start() < e for s, e in guarded) or _quoted(head, m.start()):
                    continue
                hits.append(PatternHit(kind, m.group(0)))
                break
    return hits
