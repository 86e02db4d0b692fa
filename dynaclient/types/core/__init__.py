"""The core types."""
