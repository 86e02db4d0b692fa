"""The discovery types."""
