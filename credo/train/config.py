"""The trainer's settings and where they come from.

Precedence, lowest first: the defaults below (the original experiment's LoRA recipe) < a YAML
file (``--config``) < environment variables ``CREDO_TRAIN_<FIELD>`` < command-line flags. All of it
happens in :func:`resolve_train_config`, nowhere else.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from credo.errors import ConfigError
from credo.schema import YamlRefused, parse_yaml

ENV_PREFIX = "CREDO_TRAIN_"
SHIPPED_CONFIGS = Path(__file__).parent / "configs"


# Every number has a range: a zero, negative or absurd value fails before the model loads.
_Positive = Annotated[int, Field(ge=1, le=1_000_000)]
_Fraction = Annotated[float, Field(ge=0, lt=1)]

TRL_ONLY = ("gradient_checkpointing", "packing", "load_in_4bit", "report_to", "trl_args")


class TrainConfig(BaseModel):
    """LoRA SFT settings; defaults follow the original run (Mistral-Nemo 12B base)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    lora_r: Annotated[int, Field(ge=1, le=4096)] = 48
    lora_alpha: Annotated[int, Field(ge=1, le=65536)] = 48
    lora_dropout: _Fraction = 0.05
    target_modules: str | list[str] = "all-linear"
    epochs: Annotated[int, Field(ge=1, le=1000)] = 1
    max_steps: Annotated[int, Field(ge=1, le=10**9)] | None = (
        None  # stop early (smoke runs); None = all epochs
    )
    learning_rate: Annotated[float, Field(gt=0, le=1)] = 2.5e-6
    warmup_ratio: _Fraction = 0.05
    scheduler: Literal["linear", "constant"] = "linear"  # linear decay after warmup
    batch_size: Annotated[int, Field(ge=1, le=65536)] = 1
    grad_accum: Annotated[int, Field(ge=1, le=65536)] = 1
    max_grad_norm: Annotated[float, Field(gt=0, le=1e6)] = 1.0
    max_length: Annotated[int, Field(ge=16, le=1_048_576)] = (
        2048  # tokens; a record whose response is cut away entirely is refused
    )
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 0
    save_every: _Positive = 200  # optimizer steps between resumable checkpoints
    chat_format: Literal["tags", "chat_template"] | None = None  # None: the mix's format, else tags
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    dtype: Literal["auto", "bf16", "fp32"] = "auto"  # auto: bf16 on a GPU that has it, fp32 on CPU
    # credo: the hand-written loop in lora.py; trl: TRL's SFTTrainer (see credo/train/trl_trainer.py)
    trainer: Literal["credo", "trl"] = "credo"
    # --trainer trl only: the standard stack's options, and any other SFTConfig field
    gradient_checkpointing: bool = False
    packing: bool = False
    load_in_4bit: bool = False  # QLoRA: 4-bit NF4 base weights (CUDA + bitsandbytes)
    report_to: str | list[str] = (
        "none"  # tensorboard, wandb, ... (logging only: not in the fingerprint)
    )
    trl_args: dict[str, Any] = {}

    @field_validator("*", mode="before")
    @classmethod
    def _no_yes_no_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """YAML's true/false/yes/no are booleans, which pydantic would take as 1 and 0."""
        if (
            isinstance(value, bool)
            and cls.model_fields[str(info.field_name)].annotation is not bool
        ):
            raise ValueError("a yes/no value where a number or a name belongs")
        return value

    @field_validator("report_to")
    @classmethod
    def _split_report_to(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, str) and "," in value:  # "tensorboard,wandb" from an env variable
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @model_validator(mode="after")
    def _trl_options_need_trl(self) -> TrainConfig:
        if self.trainer == "credo":
            used = [
                name
                for name in TRL_ONLY
                if getattr(self, name) != TrainConfig.model_fields[name].default
            ]
            if used:
                verb = "needs" if len(used) == 1 else "need"
                raise ValueError(f"{', '.join(used)} {verb} trainer 'trl' (--trainer trl)")
        return self


def resolve_train_config(
    config_file: Path | None = None,
    flags: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
) -> TrainConfig:
    """Merge defaults < YAML < ``CREDO_TRAIN_*`` env < flags (flags that are None are unset)."""
    merged: dict[str, Any] = {}
    if config_file is not None:
        merged.update(_read_yaml(config_file))
    merged.update(_from_env(os.environ if environ is None else environ))
    merged.update({k: v for k, v in (flags or {}).items() if v is not None})
    try:
        return TrainConfig(**merged)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"])
        if not field:  # a rule across settings (e.g. TRL-only options without trainer trl)
            raise ConfigError(
                f"train settings: {error['msg'].removeprefix('Value error, ')}"
            ) from None
        source = f"{config_file}: " if config_file and field in _read_yaml(config_file) else ""
        raise ConfigError(
            f"{source}train setting '{field}': {error['msg']} - see credo/train/configs/default.yaml"
        ) from None


def train_config_path(name_or_path: str | Path | None) -> Path | None:
    """A YAML path, or the name of a shipped one (``default``, ``cpu-smoke``)."""
    if name_or_path is None:
        return None
    shipped = SHIPPED_CONFIGS / f"{name_or_path}.yaml"
    if shipped.is_file():
        return shipped
    if not Path(name_or_path).is_file():
        names = ", ".join(sorted(p.stem for p in SHIPPED_CONFIGS.glob("*.yaml")))
        raise ConfigError(
            f"train config '{name_or_path}': no such file - pass a YAML path or one of {names}"
        )
    return Path(name_or_path)


def yaml_value(raw: str, where: str) -> Any:
    """One YAML value given on the command line or in the environment (``48``, ``2e-6``,
    ``[a, b]``), within the YAML limits; a bad one is one line naming ``where``."""
    try:
        return parse_yaml(raw)
    except (yaml.YAMLError, YamlRefused, RecursionError) as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}={raw[:80]!r}: not a YAML value ({problem})") from None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = parse_yaml(Path(path).read_text(encoding="utf-8")) or {}
    except YamlRefused as exc:
        raise ConfigError(f"{path}: YAML refused: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text - a train config is a YAML file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None)
        problem = f" ({problem})" if problem else ""
        raise ConfigError(f"{path}{where}: not valid YAML{problem} - fix the syntax") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a mapping of train settings, e.g. 'learning_rate: 2.5e-6'"
        )
    return data


def _from_env(environ: dict[str, str] | os._Environ[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field_name in TrainConfig.model_fields:
        raw = environ.get(ENV_PREFIX + field_name.upper())
        if raw is not None:
            # YAML scalars: "48" -> int, "2e-6" -> float, "a,b" stays a string unless listed
            parsed = yaml_value(raw, f"{ENV_PREFIX}{field_name.upper()}")
            if field_name == "target_modules" and isinstance(parsed, str) and "," in parsed:
                parsed = [p.strip() for p in parsed.split(",")]
            values[field_name] = parsed
    return values
