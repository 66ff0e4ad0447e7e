"""enroll package."""
