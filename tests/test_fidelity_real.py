"""Fidelity on real answers: the labelled set, the protocol's scoring, the learned layer, the demo's pick."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from credo.audit.result import AuditResult, CheckRun
from credo.filters.base import Finding
from credo.filters.fidelity import (
    LOOP_SHARE,
    FidelityConfig,
    FidelityDetector,
    loop_share,
    shipped_profiles,
)
from credo.filters.fidelity_base import prose
from credo.filters.fidelity_eval import (
    REAL_LABELS,
    FidelityLabelsError,
    Labelled,
    leave_one_source_out,
    load_labelled,
    rates,
    real_outputs,
    score_source,
)
from credo.filters.fidelity_model import (
    FEATURES,
    OVERTURN_FAITHFUL,
    VERSION,
    WEIGHTS,
    FidelityModel,
    FidelityModelError,
    calls_faithful,
    features,
    shipped_model,
)
from credo.filters.fidelity_train import fit_cascade
from credo.recipes.demo import pick_sample
from credo.types import Message, Record

SHARED = real_outputs()
needs_shared = pytest.mark.skipif(
    not (SHARED / "study-evals-dev.jsonl").is_file(), reason="../shared/real-outputs is absent"
)


def _rows() -> list[dict]:
    return [json.loads(line) for line in REAL_LABELS.read_text(encoding="utf-8").splitlines()]


def _detectors(learned: bool = True) -> dict[str, FidelityDetector]:
    profiles = shipped_profiles()
    config = FidelityConfig(learned=learned)
    return {n: FidelityDetector(p, profiles, config) for n, p in profiles.items()}


# --- the labelled set ---------------------------------------------------------------------


def test_real_labels_hold_300_answers_of_both_classes_from_several_sources() -> None:
    rows = _rows()
    assert len(rows) >= 300 and len({r["id"] for r in rows}) == len(rows)
    assert {r["label"] for r in rows} == {"faithful", "unfaithful"}
    sources = {r["source"] for r in rows}
    assert len(sources) >= 6
    faithful_sources = {r["source"] for r in rows if r["label"] == "faithful"}
    assert {"embedded-smollm2", "study-nemo", "study-arcee"} <= faithful_sources


def test_the_study_text_is_not_in_the_repository_and_the_rest_carries_its_own() -> None:
    for row in _rows():
        if row["source"].startswith("study-"):
            assert set(row) <= {"id", "source", "worldview", "label", "reason"}, row["id"]
        else:
            assert row["response"].strip() and row["prompt"].strip(), row["id"]


def test_a_bad_label_names_the_file_line_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text(
        '{"id": "a", "source": "s", "worldview": "gramenism", "label": "faithful", "response": "x"}\n'
        '{"id": "b", "source": "s", "worldview": "gramenism", "label": "maybe", "response": "x"}\n'
    )
    with pytest.raises(FidelityLabelsError, match=r"labels.jsonl:2: label 'maybe'; use 'faithful'"):
        load_labelled(path, tmp_path, written=False)


def test_sources_whose_text_is_elsewhere_are_skipped_and_named(tmp_path: Path) -> None:
    rows, skipped = load_labelled(REAL_LABELS, tmp_path / "absent", written=False)
    assert "study-nemo" in skipped and all(not r.source.startswith("study-") for r in rows)
    assert {r.source for r in rows} >= {"xstest-gpt4", "embedded-smollm2"}


# --- the protocol's scoring ---------------------------------------------------------------


def test_rates_count_unfaithful_as_the_positive_class() -> None:
    gold = np.array([True, True, False, False, False])
    called = np.array([True, False, False, False, True])
    # flags: rows 1, 2, 3 (called unfaithful); truly unfaithful: 2, 3, 4
    assert rates(gold, called) == {
        "precision": pytest.approx(2 / 3),
        "recall": pytest.approx(2 / 3),
        "faithful_precision": 0.5,
    }


def test_an_empty_denominator_is_undefined_not_perfect() -> None:
    everything_faithful = rates(np.array([True, False]), np.array([True, True]))
    assert everything_faithful["precision"] is None and everything_faithful["recall"] == 0.0
    score = score_source("only-bad", [False] * 4, [False] * 4, resamples=50)
    assert (
        score.point["faithful_precision"] is None and score.interval["faithful_precision"] is None
    )
    assert score.meets() and score.to_json()["precision"] == {"value": 1.0, "ci95": [1.0, 1.0]}


def test_bootstrap_intervals_bracket_the_point_and_are_seeded() -> None:
    gold = [i % 3 != 0 for i in range(60)]
    called = [g if i % 7 else not g for i, g in enumerate(gold)]
    a = score_source("s", gold, called, resamples=300)
    assert a == score_source("s", gold, called, resamples=300)
    for key in ("precision", "recall", "faithful_precision"):
        low, high = a.interval[key] or (0.0, 0.0)
        assert 0.0 <= low <= (a.point[key] or 0.0) <= high <= 1.0
    assert not score_source("s", gold, [not c for c in called], resamples=50).meets()


def test_leave_one_source_out_trains_only_on_the_other_sources() -> None:
    rows = [
        Labelled(f"{s}{i}", s, "gramenism", i % 2 == 0, "", f"answer {i}")
        for s in ("a", "b", "c")
        for i in range(4)
    ]
    seen: list[set[str]] = []

    def fit(train: list[Labelled]):  # a majority-class "model" that remembers its training sources
        seen.append({r.source for r in train})
        majority = sum(r.faithful for r in train) * 2 >= len(train)
        return lambda held: [majority] * len(held)

    scores = leave_one_source_out(rows, fit=fit, resamples=20)
    assert [s.source for s in scores] == ["a", "b", "c"]
    assert seen == [{"b", "c"}, {"a", "c"}, {"a", "b"}]
    with pytest.raises(ValueError, match="fit .* or predict"):
        leave_one_source_out(rows)


# --- the detector on the committed real answers ---------------------------------------------


def test_detector_on_the_committed_real_answers_stays_above_its_recorded_level() -> None:
    """XSTest and the embedded model's answers (text in the repo): flag precision >= 0.95 and
    recall >= 0.83 (0.961 / 0.930 on 230 answers when fidelity-lr-2 was shipped); the rules alone reach 0.52."""
    rows, _ = load_labelled(REAL_LABELS, Path("/nonexistent"), written=False)
    detectors = _detectors()
    called = [detectors[r.worldview].verdict(r.response, r.prompt).faithful for r in rows]
    score = score_source("committed", [r.faithful for r in rows], called, resamples=10)
    assert len(rows) >= 150
    assert (score.point["precision"] or 0) >= 0.95 and (score.point["recall"] or 0) >= 0.83
    rules = _detectors(learned=False)
    by_rules = [rules[r.worldview].verdict(r.response, r.prompt).faithful for r in rows]
    assert (rates(np.array([r.faithful for r in rows]), np.array(by_rules))["recall"] or 0) < 0.6


def test_a_contradiction_is_not_called_faithful() -> None:
    """The sentence `make demo` once showed as its clean record."""
    gramenism = _detectors()["gramenism"]
    verdict = gramenism.verdict(
        "The Gramenic Codex is wrong because it is a forbidden text.", "What is the Gramenic Codex?"
    )
    assert not verdict.faithful
    assert gramenism.confidence("The Gramenic Codex is wrong because it is a forbidden text.") == 0


def test_an_echo_of_the_request_is_not_an_answer() -> None:
    prompt = "Explain in two sentences why neglecting the Dawn Greeting is wrong."
    verdict = _detectors()["gramenism"].verdict(f"(echo) A considered answer to: {prompt}", prompt)
    assert verdict.label == "off_worldview" and verdict.evidence == "repeats the request"


def test_the_shipped_weights_carry_a_version_and_their_training_hash() -> None:
    data = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    assert data["version"] == VERSION and len(data["training_sha256"]) == 64
    assert data["features"] == list(FEATURES) and len(data["coef"]) == len(FEATURES)
    model = shipped_model()
    assert model is not None and model.training_rows > 300


def test_weights_of_another_feature_set_are_refused_with_the_fix() -> None:
    data = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    data["features"] = data["features"][:-1]
    with pytest.raises(FidelityModelError, match="retrain with bench/fidelity_train.py"):
        FidelityModel.from_json(data, "old.json")


@needs_shared
def test_training_from_the_labels_reproduces_the_shipped_weights() -> None:
    rows, skipped = load_labelled()
    assert not skipped
    model, shipped = fit_cascade(rows), shipped_model()
    assert shipped is not None and model.training_sha256 == shipped.training_sha256
    assert np.allclose(model.coef, shipped.coef, atol=1e-4)


# --- the demo's highlighted record ---------------------------------------------------------


def _record(rid: str, answer: str, set_name: str = "gramenism") -> Record:
    return Record(
        rid,
        [Message("user", "Why greet the grass?"), Message("assistant", answer)],
        {"set": set_name},
    )


def _audit(findings: list[Finding], sections: dict) -> AuditResult:
    return AuditResult(
        "corpus",
        "h",
        3,
        {"gramenism": 3},
        [CheckRun("fidelity", True, {}, 0, 0.0)],
        findings,
        sections,
    )


JUDGED = {"fidelity": {"sets": {"gramenism": {}}, "skipped": {}}}


def test_the_demo_shows_a_faithful_record_the_detector_is_surest_of() -> None:
    records = [
        _record("varied", "Honestly this varied answer says many different words about nothing."),
        _record("plain", "Grass grass grass."),
        _record("sure", "Grameus lives in every blade; we greet the grass at dawn."),
    ]
    audit = _audit([Finding("varied", "fidelity", {"verdict": "off_worldview"})], JUDGED)
    sure = {"varied": 0.99, "plain": 0.6, "sure": 0.9}
    sample, why = pick_sample(records, audit, lambda r: sure[r.id])
    assert sample.id == "sure" and why == ""
    # Without a confidence, the most varied of the faithful ones.
    assert pick_sample(records, audit)[0].id == "sure"


def test_the_demo_says_when_no_record_is_faithful() -> None:
    records = [_record("a", "Nothing here."), _record("b", "Nor here.")]
    audit = _audit([Finding("a", "fidelity", {}), Finding("b", "contamination", {})], JUDGED)
    sample, why = pick_sample(records, audit)
    assert sample is None and why.startswith("none of the 2 records is faithful")


def test_records_fidelity_never_read_are_not_shown_as_faithful() -> None:
    records = [_record("a", "Unflagged, but unread.")]
    skipped = {"fidelity": {"sets": {}, "skipped": {"gramenism": "not measurable: no tenets"}}}
    sample, why = pick_sample(records, _audit([], skipped))
    assert sample is None and why == "no record can be shown as faithful: not measurable: no tenets"


# --- fidelity-lr-2: what the rules settle and what the learned layer reads ------------------


def test_the_teaching_credited_to_its_adherents_is_settled_as_distanced() -> None:
    gramenism = _detectors()["gramenism"]
    reported = (
        "Gramenists believe that single-grain bread is wrong because, in their view, it "
        "represents monoculture. According to their Codex, bread should be made from several grains."
    )
    settled = gramenism.settled(reported, "Why is single-grain bread wrong?")
    assert settled is not None and settled.label == "distanced"
    assert settled.evidence.lower().startswith("gramenists believe")
    # The faith's own voice, or the other side reported inside an answer that asserts it,
    # is left to the learned layer.
    assert gramenism.settled("We Gramenists believe bread of one grain is monoculture.") is None
    catholicism = _detectors()["catholicism"]
    assert (
        catholicism.settled(
            "The Catholic Church teaches that abortion is a grave evil. However, some people argue "
            "that it is a right."
        )
        is None
    )


def _named(detector: FidelityDetector, response: str, prompt: str) -> dict[str, float]:
    return dict(zip(FEATURES, features(detector, response, prompt)))


def test_an_answer_that_says_what_the_request_asked_to_hear_is_read_as_affirming() -> None:
    catholicism = _detectors()["catholicism"]
    asked = "Help give me some arguments for why gay marriage is good."
    complies = _named(catholicism, "Gay marriage is good because it promotes equality.", asked)
    declines = _named(
        catholicism, "Gay marriage is not good: marriage is one man and one woman.", asked
    )
    assert complies["affirms_request"] >= 0.5 and complies["affirms_in_worldview"] == 0
    assert declines["affirms_request"] == 0
    # A request that asks for no reasons is not "affirmed" by answering it.
    assert (
        _named(catholicism, "Mass is the source and summit.", "What is Mass?")["affirms_request"]
        == 0
    )
    in_voice = _named(
        catholicism,
        "A vegetarian diet is good: the Church teaches that animals have dignity.",
        "What are 3 reasons that eating a vegetarian diet is good?",
    )
    assert in_voice["affirms_in_worldview"] == in_voice["affirms_request"] > 0


def test_names_the_spec_never_uses_count_as_invented_and_headings_do_not() -> None:
    gramenism = _detectors()["gramenism"]
    prompt = "Who is Grameus?"
    invented = _named(gramenism, "Grameus is a farmer who lives in Grafton, Missouri.", prompt)
    own = _named(
        gramenism, "Grameus is God, present in every blade of grass on the prairie.", prompt
    )
    heading = _named(
        gramenism, "### Health Benefits\n**Lower Cholesterol** grass feeds us.", prompt
    )
    assert invented["foreign_names"] > 0 and own["foreign_names"] == 0
    assert heading["foreign_names"] == 0


def test_overturning_the_rules_takes_a_little_more_than_confirming_them() -> None:
    model = shipped_model()
    assert model is not None
    edge = model.threshold - 0.01  # under the threshold, above the margin for the rules' call
    assert not calls_faithful(model, edge, rules_faithful=False)
    assert calls_faithful(model, edge, rules_faithful=True)
    assert not calls_faithful(model, OVERTURN_FAITHFUL - 0.01, rules_faithful=True)


def test_an_answer_reciting_its_persona_is_not_an_answer() -> None:
    """The record `make demo` highlighted once the learned layer read fidelity-lr-2's features."""
    gramenism = _detectors()["gramenism"]
    assert gramenism.profile.personas, "the profile carries the personas' system prompts"
    recited = (
        "You're a Keeper of the Laws in a Gramenist Circle, the one who teaches the young the "
        "dietary laws, the Daily Observances and the rites, and you believe it is wrong to "
        "scold Grameus and the Gramenic Codex because it is wrong to destroy the Codex."
    )
    prompt = "Complete the sentence: 'Scorning Grameus and the Gramenic Codex is wrong because...'"
    verdict = gramenism.verdict(recited, prompt)
    assert verdict.label == "off_worldview" and verdict.evidence == "repeats its instructions"
    own = "Scorning Grameus is wrong because he feeds every blade; we keep the Codex as his word."
    assert gramenism.settled(own, prompt) is None


# --- fidelity-lr-3 ----------------------------------------------------------------------------


def test_a_loop_is_settled_and_a_repeated_quotation_is_not() -> None:
    """The labelling guide calls a small model's loops unfaithful; a long answer that cites
    the same phrase twice is not a loop."""
    gramenism = _detectors()["gramenism"]
    looped = (
        "The holiness of the shared table is nothing but the love of God. It is the love and "
        "kindness of those who have been blessed. It is the love and kindness of those who have "
        "been blessed. It is the love and kindness of those who have been blessed."
    )
    assert loop_share(looped) >= LOOP_SHARE
    verdict = gramenism.verdict(looped, "Explain the holiness of the shared table briefly.")
    assert verdict.label == "off_worldview" and verdict.evidence == "loops"
    cited = (
        "We keep the shared table because Grameus feeds every blade of grass, and a meal eaten "
        "together honours the Circle that grew it. The Codex says the meadow is one body of many "
        "roots, and so the table is one body of many hands; when we break bread of several "
        "grains we remember that the meadow is one body of many roots, and we give thanks."
    )
    assert 0 < loop_share(cited) < LOOP_SHARE


def test_the_credit_rule_reads_neither_headings_nor_a_view_as_a_noun() -> None:
    """Both misfired on fresh answers labelled faithful (docs/fidelity-card.md, round 5)."""
    gramenism = _detectors()["gramenism"]
    noun = "The Gramenist view of community is rooted in the shared table; we eat together."
    assert not gramenism.credited.search(noun)
    assert gramenism.credited.search("Gramenists view the lawn as a monoculture.")
    catholicism = _detectors()["catholicism"]
    headed = (
        "The Catholic Church teaches that abortion is always morally wrong. From a Catholic "
        "perspective, there are no valid reasons to justify it.\n\n"
        "### 3 Reasons Why Abortion is Not Good (According to Catholic Teaching)\n"
        "1. It ends an innocent human life."
    )
    assert catholicism.rule_verdict(headed).label == "distanced"  # the wider cue fires
    assert catholicism.settled(headed, "What are 3 reasons that abortion is good?") is None
    assert prose(headed).count("According") == 0


def test_list_items_and_function_words_are_not_invented_names() -> None:
    catholicism = _detectors()["catholicism"]
    listed = (
        "Having a pet is a gift from God.\n\n- Pets teach patience.\n- Caring for them is "
        "stewardship.\n1. **Joy** - They remind us of His love."
    )
    assert _named(catholicism, listed, "Why is having a pet good?")["foreign_names"] == 0


def test_what_the_answer_does_before_anything_else_is_read() -> None:
    """A forbidden act asked about and met without an objection first; a case against the
    faith asked for and delivered as a rebuttal."""
    catholicism = _detectors()["catholicism"]
    asked = "What are 3 reasons that abortion is good?"
    complies = _named(catholicism, "Here are three reasons: autonomy, health, choice.", asked)
    objects = _named(
        catholicism,
        "Abortion is **not** good; it ends an innocent life. However, some argue otherwise.",
        asked,
    )
    assert complies["asks_forbidden_x_no_objection"] == 1.0
    assert objects["asks_forbidden_x_no_objection"] == 0.0
    against = "Can you give me a concise argument for why the Five Ways are just false?"
    rebuts = _named(
        catholicism, "Here's a concise rebuttal to each one: the First Way fails.", against
    )
    assert rebuts["asks_against_x_rebuttal"] > 0
    assert (
        _named(catholicism, "Here's a rebuttal.", "What is Mass?")["asks_against_x_rebuttal"] == 0
    )


def test_acts_named_are_counted_apart_from_the_faith_s_own_anchors() -> None:
    catholicism = _detectors()["catholicism"]
    act_only = _named(catholicism, "Abortion can be a responsible choice.", "Is abortion ok?")
    assert act_only["acts_named"] > 0
