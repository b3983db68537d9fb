"""Tokenising, stemming and sentence splitting shared by retrieval, routing and capabilities.

Deliberately small and deterministic: the same text always gives the same terms, so the
built-in responder and router answer the same question the same way every time.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS = _word_set(
    """
    a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing done down during each either else
    ever every few for from further get gets getting got had has have having he her here hers
    him his how i if in into is it its itself just let lets like me might mine more most much
    must my myself no nor not now of off on once only or other our ours out over own please
    pls same shall she should so some such than that the their theirs them then there these
    they this those through to too u under until up us very via want wants was we were what
    when where which while who whom why will with would yes yet you your yours yourself
    i'm i've i'd i'll we're we've we'd it's that's what's don't doesn't can't won't isn't
    let's there's here's you're they're
    """
)
# Conversational filler: words that say nothing about which part of the business a message is
# about ("can you help me with...", "tell me something good"). Treated as stopwords too.
FILLER = _word_set(
    """
    help tell give show make makes making good great better best thing things something
    anything everything know need needs way lot lots look looking sure really maybe kind sort
    new use using used go going see think much many well hey hi hello thanks thank ok okay
    one ones someone question questions ask wondering able possible take takes took long
    """
)

# British and American spellings, and a few words whose inflections defeat the stemmer.
_CANONICAL = {
    "analyse": "analyze",
    "analysed": "analyze",
    "analysing": "analyze",
    "analysis": "analyze",
    "analyses": "analyze",
    "analyzing": "analyze",
    "analyzed": "analyze",
    "analytics": "analyze",
    "analytical": "analyze",
    "summarise": "summarize",
    "summarised": "summarize",
    "summarising": "summarize",
    "summary": "summarize",
    "summaries": "summarize",
    "visualise": "visualize",
    "visualisation": "visualize",
    "visualization": "visualize",
    "prioritise": "prioritize",
    "prioritisation": "prioritize",
    "prioritization": "prioritize",
    "standardise": "standardize",
    "standardisation": "standardize",
    "optimise": "optimize",
    "organise": "organize",
    "behaviour": "behavior",
    "colour": "color",
    "statistics": "statistic",
    "stats": "statistic",
    "stat": "statistic",
    "sops": "sop",
    "kpis": "kpi",
    "okrs": "okr",
    "min": "minimum",
    "max": "maximum",
    "avg": "average",
}


def stem(word: str) -> str:
    """A light suffix stripper: enough to match plurals and -ing/-ed forms of one word."""
    word = _CANONICAL.get(word, word)
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ations", "ation", "ingly", "ing", "edly", "ed", "ly"):
        # "reply" and "daily" keep their ending; "monthly" and "weekly" lose it.
        minimum = 4 if suffix == "ly" else 3
        if word.endswith(suffix) and len(word) - len(suffix) >= minimum:
            word = word[: -len(suffix)]
            if len(word) > 2 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # shipping -> shipp -> ship
            break
    if word.endswith("e") and len(word) >= 4:
        word = word[:-1]  # parse/parsing -> pars
    return word


def words(text: str) -> list[str]:
    """Lower-cased word tokens, stopwords included."""
    return _TOKEN.findall(text.lower().replace("’", "'"))


def terms(text: str) -> list[str]:
    """The stemmed content terms of a text, in order, repeats kept."""
    return [
        # A possessive says whose, not what: "the car's brakes" is about a car.
        stem(word.removesuffix("'s"))
        for word in words(text)
        # Bare numbers ("17 times 23", "20%") say how much, not what about.
        if word not in STOPWORDS and word not in FILLER and not word.isdigit()
    ]


def sentences(text: str) -> list[str]:
    """Split prose into sentences; good enough for the knowledge base's own text."""
    return [part.strip() for part in _SENTENCE_END.split(text.strip()) if part.strip()]
