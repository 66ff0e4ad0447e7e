"""rx package."""
