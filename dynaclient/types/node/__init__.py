"""The node types."""
