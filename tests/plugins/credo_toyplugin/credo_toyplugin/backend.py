"""``toy/<model>``: answers every prompt in upper case, offline."""

from __future__ import annotations

from credo.generators.base import Backend, RetryDecision, SamplingParams
from credo.generators.spec import BackendSpec
from credo.types import Completion, Message, Usage


class ToyBackend(Backend):
    provider = "toy"

    def __init__(self, model: str, **options: object) -> None:
        self.model = model

    async def generate(self, messages: list[Message], params: SamplingParams) -> Completion:
        user = next(m.content for m in reversed(messages) if m.role == "user")
        text = f"TOY ANSWER: {user.upper()}"
        return Completion(
            text=text, model=self.model, usage=Usage(len(user.split()), len(text.split()))
        )

    def classify_error(self, exc: BaseException) -> RetryDecision:
        return RetryDecision.NO

    async def aclose(self) -> None:
        return None


BACKEND = BackendSpec(
    "toy",
    ToyBackend,
    secrets=("TOY_API_KEY",),  # blanked out of every error message credo shows
    prices={"*": (1.0, 2.0)},  # USD per million input / output tokens, any toy model
)
