"""Prompt templates: how a prompt is wrapped before the model sees it, in training samples and in `generate`."""

from harness.errors import UserError

TEMPLATES = {
    "none": "{prompt}",
    "instruction": "### Instruction:\n{prompt}\n\n### Response:\n",
}


def apply_template(prompt: str, template: str = "none") -> str:
    if template not in TEMPLATES:
        raise UserError(f"unknown template {template!r}: use one of {', '.join(TEMPLATES)}")
    # replace, not format: a prompt full of braces (code) must pass through untouched.
    return TEMPLATES[template].replace("{prompt}", prompt)
