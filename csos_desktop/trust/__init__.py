"""What a relying party keeps: trust anchors, and revocation data fetched and cached."""
