"""enrol package."""
