"""The layers import in one direction: game <- agent (the learning engine) <- agent.live (the
machinery the window drives) <- ui; and nothing below ui imports pygame."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DRAWING = {"pygame", "pygame_gui"}


def layer_of(path: Path) -> str:
    parts = path.relative_to(ROOT).parts
    return "agent.live" if parts[:2] == ("agent", "live") else parts[0]


# What each layer may not import (the layers above it, and drawing).
FORBIDDEN = {
    "game": {"agent", "agent.live", "ui"} | DRAWING,
    "agent": {"agent.live", "ui"} | DRAWING,
    "agent.live": {"ui"} | DRAWING,
}


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def breaks(name: str, forbidden: set[str]) -> bool:
    if name.startswith("agent.live"):
        return "agent.live" in forbidden
    return any(name == top or name.startswith(top + ".") for top in forbidden - {"agent.live"})


MODULES = sorted(path for folder in ("game", "agent") for path in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_module_imports_only_from_the_layers_below_it(path):
    forbidden = FORBIDDEN[layer_of(path)]
    wrong = sorted(name for name in imported_modules(path) if breaks(name, forbidden))
    assert not wrong, f"{path.relative_to(ROOT)} ({layer_of(path)}) imports {wrong}"


def test_the_check_sees_an_import_that_breaks_the_direction(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import numpy\n\ndef f():\n    from agent.live.session import X\n")
    assert breaks("agent.live.session", FORBIDDEN["agent"])
    assert any(breaks(n, FORBIDDEN["agent"]) for n in imported_modules(module))
    assert not any(breaks(n, FORBIDDEN["agent.live"]) for n in imported_modules(module))
    assert breaks("pygame.surfarray", FORBIDDEN["agent.live"])
    assert not breaks("agent.dqn_trainer", FORBIDDEN["agent.live"])
