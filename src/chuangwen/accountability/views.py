"""Pages of accountability."""
