"""The batch types."""
