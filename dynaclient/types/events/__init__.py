"""The events types."""
