"""The flowcontrol types."""
