"""tokens package."""
