"""negotiate."""
