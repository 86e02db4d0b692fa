"""The certificates types."""
