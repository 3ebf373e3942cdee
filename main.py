"""AutoDev Bridge from a source checkout: the same as the `autodev-bridge` command."""

from __future__ import annotations

import multiprocessing
import sys

from autodev_bridge.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
