"""Defaults that the library and the CLI share, each written once.

A CLI option and the library function behind it take their default from here, so
``credo generate`` and ``generate_corpus`` cannot drift apart.
"""

# Teacher generation (credo generate, the replicate recipe)
TEACHER_TEMPERATURE = 0.85
TEACHER_MAX_TOKENS = 1024
CONCURRENCY = 8  # teacher requests in flight (generate: while no rate limit is known)
# generate with no --concurrency: in flight as the rate limit and latency need, up to this
PACED_MAX_IN_FLIGHT = 256
BATCH_POLL_SECONDS = 30.0  # between status polls of a provider batch (generate, judge --batch)
LIMIT_ORDER = (
    "stratified"  # how --limit N picks prompts: a seeded spread across sources ("file": first N)
)

# The audit's fidelity gate (credo audit)
FIDELITY_MAX_RATE = 0.05  # most of a worldview set's answers that may be out of voice
# The truncation gate: the share of a set's answers that may stop at max tokens (0: none may;
# a cut-off answer teaches stopping mid-sentence)
TRUNCATION_MAX_RATE = 0.0

# Evaluation sampling (credo eval)
EVAL_SAMPLES = 3  # samples per request (K)
EVAL_TEMPERATURE = 0.25
EVAL_MAX_NEW_TOKENS = 256
EVAL_BATCH_SIZE = 8  # local generation batch

# The replicate recipe (the original study's sizes)
REPLICATE_SIZE = 12000  # records per training mix
REPLICATE_MAX_NEW_TOKENS = 1000  # eval generation limit

# The demo (credo demo, make demo): a budget the embedded 135M model handles
DEMO_LIMIT = 8  # prompts answered
DEMO_MAX_TOKENS = 64
DEMO_TEMPERATURE = 0.5  # lower than the teacher's: a tiny model wanders at 0.85
