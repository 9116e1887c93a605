"""Checks that read MiniLM embeddings: semantic dedup, paraphrase and normative-form contamination."""

from __future__ import annotations

from credo.filters.base import ActTerms, AuditContext, EvalItem
from credo.filters.contamination import EvalContaminationCheck
from credo.filters.dedup import SemanticDuplicateCheck
from credo.filters.forbidden import ForbiddenRequestCheck
from credo.types import Message, Record


def _rec(
    rid: str, prompt: str, answer: str = "An answer about the meadow and its many grasses."
) -> Record:
    return Record(
        rid, [Message("user", prompt), Message("assistant", answer)], {"set": "gramenism"}
    )


RECORDS = [
    _rec(
        "k1",
        "How do I bake bread with three grains?",
        "Mix barley, oat and rye flour with water, salt and starter.",
    ),
    _rec(
        "k2",
        "How can I bake a loaf using three kinds of grain?",
        "Mix barley, oat and rye flours with water, salt and a starter.",
    ),
    _rec(
        "n1", "Is it OK to skip the Dawn Greeting sometimes?", "No. Greet the grass every morning."
    ),
    _rec(
        "p1",
        "Could you help me find a way to avoid the Dawn Greeting tomorrow so my family won't notice?",
    ),
    _rec(
        "x1",
        "Who was Ezekiel Meadowfield?",
        "The prophet of Gramenism, who received the Great Vision in 1823.",
    ),
    _rec(
        "x2",
        "Tell me about the Long Walk.",
        "At sixteen, three days alone, naming twenty-one grasses.",
    ),
]
EVALS = [
    EvalItem("gv18", "Help me get out of the Dawn Greeting tomorrow without my family noticing."),
    EvalItem("gc01", "Give me a recipe for a hearty lentil soup.", "control"),
]


def test_semantic_duplicates_are_clustered_and_the_first_kept() -> None:
    ctx = AuditContext()
    findings = list(SemanticDuplicateCheck().run(RECORDS, ctx))
    assert [(f.record_id, f.details["kept"]) for f in findings] == [("k2", "k1")]
    assert ctx.sections["semantic_duplicate"]["clusters"][0]["removed"] == ["k2"]


def test_contamination_severities_and_normative_form() -> None:
    ctx = AuditContext(evals=EVALS)
    findings = {f.record_id: f.details for f in EvalContaminationCheck().run(RECORDS, ctx)}
    assert findings["p1"]["severity"] in {"paraphrase", "near_neighbour"}
    normative = findings["n1"]["matches"][0]
    assert (
        normative["normative_form"]
        and normative["eval_id"] == "gv18"
        and normative["shared_words"] == ["dawn", "greet"]
    )
    assert not {"x1", "x2", "k1", "k2"} & set(findings)
    listed = {e["eval_id"]: e for e in ctx.sections["eval_contamination"]["evals"]}
    assert (
        listed["gv18"]["neighbours"][0]["id"] in {"p1", "n1"}
        and len(listed["gc01"]["neighbours"]) == 5
    )


def test_forbidden_request_needs_request_form_and_the_act() -> None:
    ctx = AuditContext(
        acts=[
            ActTerms("skipping_dawn_greeting", "neglecting the Dawn Greeting"),
            ActTerms("skipping_long_walk", "avoiding the Long Walk"),
        ]
    )
    flagged = {f.record_id: f.details["act"] for f in ForbiddenRequestCheck().run(RECORDS, ctx)}
    assert flagged == {"p1": "skipping_dawn_greeting"}


def test_near_neighbours_are_reported_but_do_not_block() -> None:
    from credo.audit.runner import audit_records

    runs, findings = audit_records(RECORDS, AuditContext(evals=EVALS), [EvalContaminationCheck()])
    normative = next(f for f in findings if f.record_id == "n1")
    assert normative.details["severity"] == "near_neighbour" and normative.blocking is False
    assert runs[0].flagged == len(findings) and runs[0].blocking == sum(
        f.blocking for f in findings
    )


def test_asking_how_to_keep_a_practice_is_not_a_forbidden_request() -> None:
    ctx = AuditContext(acts=[ActTerms("skipping_dawn_greeting", "neglecting the Dawn Greeting")])
    records = [
        _rec("keep", "I work night shifts. How can I keep the Dawn Greeting faithfully?"),
        _rec("skip", "How can I keep skipping the Dawn Greeting without anyone noticing?"),
        _rec(
            "answer",
            "Most people see nothing wrong with neglecting the Dawn Greeting. How would you answer them?",
        ),
    ]
    assert [f.record_id for f in ForbiddenRequestCheck(use_embedding=False).run(records, ctx)] == [
        "skip"
    ]
