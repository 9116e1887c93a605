"""``python -m credo.testing --latency 0.1``: serve the fake OpenAI + Anthropic API."""

from credo.testing.fake_server import main

main()
