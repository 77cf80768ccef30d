"""``application/x-www-form-urlencoded`` with ASP.NET model-binding keys."""

from __future__ import annotations

from negotiate.codecs.form.codec import FormCodec as FormCodec, form_key as form_key

__all__ = ["FormCodec", "form_key"]
