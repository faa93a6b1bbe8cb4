"""One-line messages for the user: every error the app reports is a single line."""

from __future__ import annotations


def first_line(error: BaseException, default: str | None = None) -> str:
    """The first line of ``error``'s message; ``default`` (or the error's type) when empty."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else default or type(error).__name__
