"""Framework integrations: thin modules over :mod:`negotiate.pipeline` and the registry.

Each maps its framework's request and response onto the pipeline, and
:class:`~negotiate.errors.NegotiateError` onto the agent error shape, the way that
framework's own extensions work: :mod:`negotiate.integrations.fastapi` (FastAPI and
Starlette), :mod:`negotiate.integrations.django` (Django REST framework),
:mod:`negotiate.integrations.flask` and :mod:`negotiate.integrations.falcon`. Each
needs its extra (``pip install 'negotiate[flask]'``, ...) and imports its framework
only when imported itself.
"""

__all__ = []  # the framework modules are imported by name, each on its own
