"""token package."""
