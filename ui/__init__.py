"""The pygame window: screens, panels and widgets over the training sessions."""

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # no banner on the user's terminal
