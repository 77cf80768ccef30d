"""Framework integrations: each maps its framework onto the pipeline and the registry.

One module per framework, each importing its framework (an extra of its own):
:mod:`negotiate.integrations.django` (Django REST framework, extra ``django``).
Nothing here is imported by :mod:`negotiate` itself.
"""

from __future__ import annotations

__all__ = []
