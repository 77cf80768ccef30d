"""Framework integrations: each maps its framework's request and response onto the pipeline.

One module per framework, each imported on its own (a missing framework is an
ImportError naming the extra to install): :mod:`negotiate.integrations.fastapi`
(FastAPI and Starlette).
"""

__all__ = []  # the modules are imported by name, each on its own
