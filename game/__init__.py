"""The games, as Gymnasium environments. Knows nothing of agents or windows."""

from game.registry import GAMES, GameSpec, get_game

__all__ = ["GAMES", "GameSpec", "get_game"]
