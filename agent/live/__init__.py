"""Live play: the machinery the window drives, between the learning engine (``agent``) and the
screen (``ui``). A ``TrainingSession`` runs one game on its own thread: it plays, trains and
takes a person's keys (``play``, ``human_play``, ``versus``), obeys the window's commands and
publishes snapshots of what happened (``channels``, ``view``). Nothing here draws: no pygame.
"""
