"""`python -m bridge_server`: the bridge without a window (same as `autodev-bridge-server`)."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
