"""Shared HTML for credo's reports: Jinja templates (autoescape on) and one stylesheet.

The audit, eval and leakage reports and the record viewer are single files a reader can
mail or attach: styles, charts (SVG or base64 PNG) and data are inline, nothing is fetched.
"""

from credo.reports.render import json_for_script, png_data_uri, render_page, trusted

__all__ = ["json_for_script", "png_data_uri", "render_page", "trusted"]
