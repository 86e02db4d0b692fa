"""The coordination types."""
