"""The meta types."""
