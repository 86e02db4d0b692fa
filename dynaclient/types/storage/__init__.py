"""The storage types."""
