"""som package."""
