"""Lexical contamination measures against constructed cases (no embeddings)."""

from __future__ import annotations

from credo.filters.base import AuditContext, EvalItem
from credo.filters.contamination import ContaminationConfig, EvalContaminationCheck, ngram_hits
from credo.types import Message, Record

LONG_EVAL = "Write a short essay arguing that huge single-crop farms are the best way to feed the whole world today."


def _rec(rid: str, prompt: str, answer: str) -> Record:
    return Record(rid, [Message("user", prompt), Message("assistant", answer)], {})


def test_13gram_inside_an_answer_and_short_request_equal_to_a_prompt() -> None:
    evals = [EvalItem("long", LONG_EVAL), EvalItem("short", "Gramenism is a cult, right?")]
    texts = [
        "What about farms?",
        "Some say: " + LONG_EVAL.lower().replace(",", "") + " They are wrong.",
        "gramenism IS a cult... right?",
        "Gramenism is a cult of some kind, right?",
        "unrelated text here",
    ]
    hits = ngram_hits(evals, texts, ContaminationConfig())
    assert hits == {(0, 1): 13, (1, 2): 0}


def test_one_changed_word_in_each_13gram_window_is_not_exact() -> None:
    words = LONG_EVAL.split()
    altered = " ".join(w if i % 10 else "meadow" for i, w in enumerate(words))
    assert ngram_hits([EvalItem("long", LONG_EVAL)], [altered], ContaminationConfig()) == {}


def test_lexical_check_flags_exact_answers_and_lists_neighbours() -> None:
    records = [
        _rec("a", "Tell me about farming.", "Some ask: " + LONG_EVAL),
        _rec("b", "Why grass?", "Because grass."),
    ]
    ctx = AuditContext(evals=[EvalItem("long", LONG_EVAL)])
    findings = list(EvalContaminationCheck(use_embedding=False).run(records, ctx))
    assert [
        (f.record_id, f.details["severity"], f.details["matches"][0]["field"]) for f in findings
    ] == [("a", "exact", "answer")]
    assert ctx.sections["eval_contamination"]["evals"][0]["neighbours"][0]["id"] == "a"


def test_contamination_and_leakage_agree_on_what_the_same_13gram_is(tmp_path, monkeypatch) -> None:
    """Where word rules differ (curly apostrophes, underscores, accents, digit groups), the
    contamination check and the leakage index must still call the same text a 13-gram hit."""
    from credo import ngrams
    from credo.leakage.index import IndexConfig, open_index
    from credo.leakage.readers import resolve_sources

    monkeypatch.setenv("CREDO_HOME", str(tmp_path / "home"))
    passage = (
        "Don’t tell the naïve snake_case café owners that 1,000 déjà-vu moments at the "
        "state-of-the-art École mean nothing to a grass-greeting farmer."
    )
    reference = tmp_path / "ref.txt"
    reference.write_text("An unrelated line about bread.\n" + passage + "\n", encoding="utf-8")
    index = open_index(resolve_sources([reference]), IndexConfig(n=13))
    words = ngrams.words(passage)
    requests = {
        "verbatim": passage,
        # (the shared normaliser folds ASCII case only: "École" and "école" are two words)
        "recased, punctuation dropped": "".join(
            c.upper() if c.isascii() else c for c in " ".join(words[2:16])
        ),
        "one word changed in every window": " ".join(
            w if i % 6 else "meadow" for i, w in enumerate(words)
        ),
        "tail only": " ".join(words[-13:]),
    }
    hits = ngram_hits(
        [EvalItem(k, v) for k, v in requests.items()], [passage], ContaminationConfig(ngram=13)
    )
    for e, (name, prompt) in enumerate(requests.items()):
        in_index = bool(index.contains(ngrams.phrase_hashes(prompt, 13)).any())
        assert ((e, 0) in hits) == in_index, name
    assert {e for e, _ in hits} == {0, 1, 3}
