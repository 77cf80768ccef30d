"""``python -m negotiate.server``: the same as ``negotiate serve``."""

from __future__ import annotations

import sys

from negotiate.server.launch import main

__all__ = []

if __name__ == "__main__":
    sys.exit(main())
