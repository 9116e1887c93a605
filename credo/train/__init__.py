"""Training: LoRA SFT with loss on assistant tokens only, its config and masking.

The package is callable: ``credo.train(data, out, ...)`` is :func:`credo.api.train`.
"""

from credo._callable import make_callable

make_callable(__name__)
