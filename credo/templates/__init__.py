"""Sandboxed Jinja templates that expand a worldview into many prompts."""

from credo.templates.library import load_library
from credo.templates.render import prompt_id, render_prompts, write_prompts
from credo.templates.sandbox import render

__all__ = ["load_library", "prompt_id", "render", "render_prompts", "write_prompts"]
