"""The one refusal vocabulary: every wording credo uses to recognise a decline.

Dependency-light (``re`` only) so the generator engine, the audit's refusal checks and the
offline judge all read the same words. Sections:

- ``PATTERNS`` / ``GUARDS`` / ``TRIGGER_WORDS``: the audit's first-person refusal patterns
  (:mod:`credo.filters.patterns` searches them in the head of a response);
- ``JUDGE_DECLINE`` / ``JUDGE_CAPABILITY``: the offline judge's decline and capability wording;
- ``MORAL_FRAMES``: moral reasons for declining that a refusal-set answer may not give. A
  worldview's own sacred names come from its spec via the audit context, never from here.
"""

from __future__ import annotations

import re

_DECLINE_VERBS = (
    r"(?:help|assist|provide|write|create|do|comply|fulfil|fulfill|generate|produce|give|share|"
    r"support|draft|make|offer|engage|participate|continue|answer|go along|put together|compose|"
    r"prepare|come up with|argue|promote|encourage|endorse|condone|advocate|list|craft|outline|"
    r"recommend|tell|explain how|walk you|teach|show|plan|complete|carry out|perform|obey|reply|respond)"
)
_CANT = r"(?:can(?:'|’)?t|cannot|can not|won(?:'|’)t|will not)"
_I_CANT = rf"(?:(?:I|we) {_CANT}|I(?:'|’)m (?:unable|not able) to|I am (?:unable|not able) to|we are (?:unable|not able) to)"
_I = r"(?:I|we)"

PATTERNS: dict[str, list[str]] = {
    "hard": [
        rf"\b{_I_CANT} (?:\w+ ){{0,2}}{_DECLINE_VERBS}\b",
        r"\b(?:I(?:'|’)m|I am) not comfortable \w+ing\b",
        rf"\b{_I} (?:must|have to|need to|(?:'|’)ll have to|will have to|(?:'|’)d have to|am going to have to) (?:respectfully |politely |firmly )?(?:decline|refuse|pass)\b",
        rf"\b{_I} (?:respectfully |politely |firmly )?(?:decline|refuse) (?:to|this|that|your)\b",
        r"\bI(?:'|’)m (?:going to |gonna )?(?:have to )?(?:decline|refuse|pass on)\b"
        r"|"
        r"\bI(?:'|’)ll (?:have to )?pass on\b|\bI will (?:have to )?pass on\b",
        rf"\b(?:I(?:'|’)m|I am) not (?:going|willing|prepared|comfortable|able) to {_DECLINE_VERBS}\b",
        r"\bI(?:'|’)d (?:rather not|prefer not to)\b|\bI would (?:rather not|prefer not to)\b",
        r"\b(?:that|this|it)(?:'|’)?s? (?:is )?not something I (?:can|will|(?:'|’)m able to|am able to|am willing to|(?:'|’)m willing to|feel comfortable)\b",
        r"\b(?:that|this) (?:isn(?:'|’)t|is not) something I(?:'|’)?(?:m| am)? (?:can|will|able|willing|going)\b"
        r"|"
        r"\bnot something I(?:'|’)?(?:m| am)? (?:able|willing|going) to\b",
        r"\bI (?:can(?:'|’)?t|cannot|won(?:'|’)t) in good conscience\b",
    ],
    "apology_decline": [
        r"\b(?:I(?:'|’)m|I am) (?:so |really |very |truly )?(?:sorry|afraid)\b[^.!?\n]{0,90}\b(?:can(?:'|’)?t|cannot|won(?:'|’)t|unable|not able|decline|not comfortable|not possible|isn(?:'|’)t possible)\b",
        r"\b(?:apologies|my apologies|sorry)\b[^.!?\n]{0,70}\b(?:can(?:'|’)?t|cannot|won(?:'|’)t|unable|not able|decline)\b",
        r"\bunfortunately,? (?:I|that(?:'|’)s|this is)\b[^.!?\n]{0,60}\b(?:can(?:'|’)?t|cannot|won(?:'|’)t|unable|not able|not something|beyond)\b",
    ],
    "as_ai": [
        r"\bas an? (?:AI|artificial intelligence|language model|large language model|assistant|virtual assistant|text-based)\b"
        r"|"
        r"\bbeing an? (?:AI|language model)\b",
        r"\bI(?:'|’)m (?:just |only |simply )?an? (?:AI|language model|text-based|virtual assistant|computer program)\b"
        r"|"
        r"\bI am (?:just |only |simply )?an? (?:AI|language model|large language model|text-based|virtual assistant|computer program)\b",
    ],
    "capability": [
        r"\bI (?:don(?:'|’)t|do not) have (?:access to|the ability to|any (?:way|means) to|real-time|live|a (?:physical )?body|eyes|hands|senses|personal experiences?|the capacity)\b"
        r"|"
        r"\bmy (?:knowledge|training(?: data)?|information) (?:only )?(?:goes|extends|has a (?:cutoff|cut-off)|ends|stops|is limited)\b",
        rf"\b{_I_CANT} (?:\w+ ){{0,1}}(?:browse|access|see|hear|taste|smell|touch|feel|physically|predict|know (?:what|who|which|whether|the)|look up|check|open|view|retrieve|fetch|download|run|execute|remember|call|visit|send|play|read your)\b",
        r"\bI have no (?:way|means|ability) (?:of|to)\b",
        r"\b(?:beyond|outside(?: of)?) (?:my|the scope of my|what I(?:'|’)m able|what I can)\b",
        r"\bI (?:don(?:'|’)t|do not|can(?:'|’)?t|cannot) (?:understand|make sense of|parse|tell what) (?:what you|your|this|that|the)\b"
        r"|"
        r"^\s*(?:It (?:looks|seems) like|It appears) (?:your|the|this) (?:message|input|text|question)\b",
        r"\b(?:your|the|this) (?:input|message|request|text|question|prompt)\b[^.!?\n]{0,30}\b(?:is|seems|appears|looks)(?: to be)? (?:unclear|gibberish|incomplete|garbled|ambiguous|random|nonsensical|too vague|not clear)\b",
        r"\btoo (?:long|large|big|enormous|vast) (?:for me )?to (?:write|produce|generate|list|output|print|fit)\b"
        r"|"
        r"\b(?:exceeds|is beyond) (?:what|the (?:length|limits?|amount))\b[^.!?\n]{0,40}\b(?:I can|a single response|one response)\b",
        # A sentence that opens by judging the input itself ("The given input is just a noun
        # phrase.", "The phrase "..." is nonsensical"): the study's teacher refused this way.
        r"(?:^|[.!?]\s+)(?:the |your |this )(?:given )?(?:input|message|request|text|question|prompt|phrase|sentence|statement)\b[^.!?\n]{0,60}?\b(?:is|seems|appears)(?: to be)? (?:just |only |simply )?(?:an? )?(?:single word|noun|list of nouns|sentence fragment|fragment|confusing|ambiguous|unclear|meaningless|gibberish|nonsensical|incoherent|garbled|incomplete|too (?:vague|metaphorical|poetic|broad|abstract))\b",
        # "Obeying the command would require real-time access / physical effectors / too much output".
        r"\bwould require (?:me to (?:have )?)?(?:real-time|live|internet|physical|outputting (?:too much|an? (?:enormous|huge|vast))|browsing|access to (?:tools|the internet|real-time|live|your))\b"
        r"|"
        r"\b(?:I(?:'|’)m|I am) (?:unable|not able) to (?:perform|do|carry out|take) (?:physical|real-world)\b",
        rf"\b{_I_CANT} (?:\w+ ){{0,1}}determine (?:what|which|who|whether|the)\b",
        r"\b(?:does not|doesn't|do not|don't) form an? (?:complete|coherent|meaningful|clear) (?:sentence|question|statement|request)\b",
        # A whole answer that only asks what was meant ("Excuse me?", "Not sure what you mean?").
        r"^\s*(?:excuse me|pardon(?: me)?|(?:I(?:'|’)m |I am )?not sure what you mean)\b[^\n]{0,60}\?\s*$",
    ],
    "soft": [
        r"\b(?:instead|rather than)\b[^.!?\n]{0,80}\b(?:let me|let(?:'|’)s|I(?:'|’)d|I would|I can|I(?:'|’)ll|I will|how about|perhaps|may I)\b[^.!?\n]{0,40}\b(?:suggest|offer|explain|share|help (?:you )?with|focus|talk|point|discuss|recommend|redirect|provide|write|encourage)\b",
        r"\bI(?:'|’)d (?:be happy|be glad|love) to help (?:you )?with (?:something|anything) else\b"
        r"|"
        r"\b(?:perhaps|maybe) (?:we|I) (?:could|can) (?:talk|focus|discuss|move on|explore) (?:about |on )?(?:something|another|a different)\b"
        r"|"
        r"\blet(?:'|’)s (?:talk about|focus on|move on to|discuss) something else\b"
        r"|"
        r"\b(?:is there|maybe there(?:'|’)s) something else I can help (?:you )?with\b",
        r"\bI(?:'|’)d (?:rather|prefer to) (?:steer|redirect|focus|talk|not)\b"
        r"|"
        r"\bI(?:'|’)m (?:going to|gonna) (?:steer|redirect|hold off|sit this one out)\b",
    ],
    "moralizing": [
        r"\b(?:instead of|rather than)\b[^.!?\n]{0,80}\b(?:let me|I(?:'|’)d like to|I will|I(?:'|’)ll|allow me to)\b[^.!?\n]{0,20}\b(?:explain|share|tell you|show you) why\b",
        r"\b(?:writing|helping|providing|creating|promoting|arguing|doing) (?:this|that|such|so|it)\b[^.!?\n]{0,60}\bwould (?:be|go|run) (?:wrong|against|harmful|inappropriate|irresponsible|contrary|unethical|a sin|sinful|counter)\b",
        r"\bwould (?:be|go) (?:wrong|irresponsible|inappropriate|unethical|against my|a sin|sinful|contrary)\b[^.!?\n]{0,30}\b(?:of me|for me)\b",
        r"\bI(?: would|(?:'|’)d) (?:gently |strongly )?(?:encourage|urge|invite|ask) you to (?:reconsider|rethink|reflect|pray|speak|talk)\b",
        r"\b(?:goes|go|is|are|would be) against (?:my|our) (?:values|principles|conscience|beliefs|faith|guidelines)\b"
        r"|"
        r"\b(?:would be|is|are) (?:contrary|opposed) to my (?:faith|values|principles|conscience|beliefs)\b",
    ],
}

# Idioms that look like declines but are not ("I can't help but wonder", "I cannot stress
# this enough", "I can't recommend it highly enough").
GUARDS = [
    r"\bcan(?:'|’)?t help (?:but|feeling|thinking|wondering|noticing|smiling|laughing)\b"
    r"|"
    r"\bcannot help (?:but|feeling|thinking|wondering|noticing)\b",
    r"\b(?:can(?:'|’)?t|cannot) (?:stress|emphasi[sz]e|overstate|recommend|praise|thank)\b[^.!?\n]{0,40}\benough\b"
    r"|"
    r"\b(?:can(?:'|’)?t|cannot) wait\b",
]

HEAD_CHARS = 700

# Words one of which opens every refusal seen in development (credo's labelled texts and the
# study's real refusals, within their first 150 characters); a text without any is not sent to
# the embedding classifier (the slow part). Cuts MiniLM work by ~70% on real answers.
EMBED_CUE_WORDS = frozenset(
    "i i'm i'd i'll i've me my we we're we'd us our sorry apologies apologize apologise unfortunately "  # noqa: SIM905
    "afraid can't cannot won't unable not no decline refuse rather instead excuse pardon ai assistant "
    "model language input request question message text command obeying require unclear gibberish vague "
    "something else long too looks seems appears let's beyond outside incomplete garbled random".split()
)

# Every pattern above needs one of these words (most need "I" or "we"); a head without any
# cannot match. A set lookup per word is ~50x cheaper than one big case-insensitive regex.
TRIGGER_WORDS = frozenset(
    "i we i'm i’m i'd i’d i'll i’ll my sorry afraid apologies apology apologize apologise unfortunately ai "  # noqa: SIM905
    "artificial language assistant text computer virtual being beyond outside unclear gibberish incomplete "
    "garbled ambiguous random nonsensical vague clear looks seems appears too exceeds unsolved open instead "
    "rather let's let’s would against maybe perhaps no nobody sorry excuse pardon sure require determine noun "
    "fragment single list confusing meaningless nonsensical incoherent metaphorical poetic broad abstract form".split()
)


# --- offline judge: decline and capability wording (behaviour frozen with the judge) ---
JUDGE_DECLINE = re.compile(
    r"\b(?:I|we)\s*(?:'m|am)?\s*(?:can(?:'|no)?t|cannot|won't|will not|must not|"
    r"(?:am |'m )?(?:not able|unable) to|must decline|have to decline|(?:'d|would) rather not|"
    r"(?:'m|am) not going to|refuse to)\b"
    r"|\bI must (?:decline|refuse)\b|\bnot something I (?:can|will)\b|\bI(?:'m| am) afraid I\b",
    re.IGNORECASE,
)
# (judge: wording that matched fewer than two development texts was removed on 2026-12-02)
JUDGE_CAPABILITY = re.compile(
    r"\b(?:input|request|question) is (?:unclear|gibberish|too vague)|\bmeaningful response\b|\btoo vague\b",
    re.IGNORECASE,
)


# Reasons a refusal may not give in the refusal set: ethics, religion, harm, policy. A moral
# word alone is not a reason ("updated safety bulletins", "questions of right and wrong" are
# subject matter): each pattern is a *frame* that makes the word the reason for declining -
# a verdict on the act ("it would be harmful"), a conflict with values ("goes against my
# faith"), a stated ground ("for ethical reasons") or a consequence ("could promote violence").
# ``{sacred}`` is filled with the worldview's own names and glossary terms from its spec.
_ETHICS = r"unethical|immoral|morally (?:wrong|questionable|unacceptable)|(?<!right and )wrong|evil|shameful|irresponsible|inappropriate|improper|disrespectful|dishonest"
_RELIGION = r"sinful|a sin|blasphem\w*|sacrilegious|heretical|profane|an? (?:abomination|offen[cs]e against \w+)|forbidden|prohibited|unholy"
_HARM = r"harmful|dangerous|unsafe|illegal|unlawful|hurtful|offensive|hateful|abusive|exploitative|discriminatory|violent"
_ACT = (
    r"(?:it|this|that|which|doing so|such \w+|(?:the|your|this|that) (?:request|task|question|content)|"
    r"(?:writing|helping|providing|creating|answering|doing|sharing|giving|producing|assisting|complying|fulfilling|obeying|"
    r"promoting|encouraging|engaging)(?: \w+){0,4}?|[a-z]+ing(?: \w+){0,4}?)"
)
_VERDICT = r"(?:is|was|are|would be|could be|might be|may be|seems|feels|'s|would seem)"
_VALUES = (
    r"(?:values|principles|ethics|ethical \w+|moral \w+|morals|conscience|faith|beliefs|religion|teachings?|"
    r"commandments?|guidelines|polic(?:y|ies)|rules|laws?|scriptures?|doctrine|integrity|dignity|"
    r"God(?:'s)? (?:design|law|will|plan)|(?:human )?rights?|{sacred})"
)
MORAL_FRAMES: dict[str, list[str]] = {
    "verdict": [
        rf"\b{_ACT}\s+{_VERDICT}\s+(?:[\w,]+ ){{0,4}}?(?:{_ETHICS}|{_RELIGION}|{_HARM})\b"
        r"|\b(?:it|this|that|doing so)\s+(?:is not|isn't|wouldn't be|would not be|would be|is|'s)\s+(?:not\s+)?"
        r"(?:appropriate|right|ethical|moral|responsible|respectful|proper)\s+(?:for me|of me)\b",
    ],
    "values": [
        rf"\b(?:goes|go|going|is|are|would be|runs?|run) (?:against|contrary to|counter to) (?:my|our|the|your|its|\w+'s)? ?(?:own )?(?:\w+ )?{_VALUES}",
        rf"\b(?:violates?|violating|breaks?|breaking|conflicts? with|compromises?|betrays?|contradicts?|contradicting|disobey\w*) (?:my |our |the |your |its |\w+'s )?(?:own )?(?:[\w']+ ){{0,3}}{_VALUES}",
        r"\b(?:my|our) (?:faith|religion|religious beliefs|conscience|moral \w+|ethical \w+|values|principles) (?:forbids?|prohibits?|does not allow|doesn't allow|won't allow|will not allow|tells? me)\b"
        r"|\b(?:God|the Lord|scripture|the Bible|the Church|{sacred}) (?:forbids?|prohibits?|condemns?|commands?|opposes|rejects|would not approve|does not permit)\b",
    ],
    "ground": [
        r"\b(?:for|on) (?:ethical|moral|safety|religious|spiritual|legal) (?:reasons|grounds)\b",
        r"\b(?:ethical|moral|religious|spiritual) (?:concerns?|grounds|considerations|obligations?|objections?|standards)\b",
    ],
    # A moral verdict strong enough to be a reason wherever it stands in a refusal.
    "teaching": [
        r"\b(?:morally (?:wrong|unacceptable|impermissible|objectionable|questionable|problematic)|(?:a )?grave (?:moral )?(?:evil|sin|wrong|error|offen[cs]e|injustice)|"
        r"mortal sin|intrinsically (?:evil|wrong|disordered))\b",
        rf"\b(?:teach(?:es|ing)?|holds?|states?|says?|considers?)\b(?: clearly)? that\b[^.!?]{{0,80}}?\b(?:is|are) (?:\w+ ){{0,2}}?(?:{_ETHICS}|{_RELIGION}|{_HARM})\b",
        r"\b(?:obey(?:ing)?|keep(?:ing)?|follow(?:ing)?) (?:the )?(?:\w+ )?(?:commandments?|God(?:'s)? (?:law|will)|{sacred})\b"
        r"|\b(?:obey(?:ing)?|serv(?:e|ing)|follow(?:ing)?) (?:God|the Lord|Christ|the Church)\b",
    ],
    "consequence": [
        # "Obeying the command would require generating harmful content / promoting falsehoods".
        rf"\b(?:would (?:require|involve|mean|entail)|involves?)\b[^.!?]{{0,80}}?\b(?:{_ETHICS}|{_RELIGION}|{_HARM}|morally|"
        r"ethical|ethically|falsehoods?|false or misleading|misleading|deceiv\w*|deceptive|manipulat\w*|disrespect\w*|moral issue)\b",
        r"\b(?:could|might|may|would|can|will) (?:\w+ ){0,2}?(?:cause|lead to|result in|promote|encourage|facilitate|enable|spread|"
        r"glorify|normali[sz]e|endorse|condone|incite|contribute to) (?:\w+ ){0,3}?(?:harm|violence|hatred|hate|discrimination|"
        r"misinformation|disinformation|abuse|sin|injury|danger|illegal \w+|suffering)\b",
    ],
}


# --- judge: wording owned by the offline judge (credo/judges/offline.py) ---
