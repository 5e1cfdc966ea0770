"""Pages. Thin: form → service → redirect; reads through the selectors."""
