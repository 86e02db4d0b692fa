"""The authorization types."""
