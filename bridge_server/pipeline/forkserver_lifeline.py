"""Imported only by the multiprocessing fork server (as a preload): ties it to the app.

The fork server is started by the app itself, so its parent is the app; when the app dies the
fork server exits too. Workers forked from it do not inherit the watching thread: the pool's
initializer gives each worker a lifeline of its own.
"""

from __future__ import annotations

import os

from .lifeline import exit_when_gone

exit_when_gone(os.getppid())
