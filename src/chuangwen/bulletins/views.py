"""Pages of bulletins."""
