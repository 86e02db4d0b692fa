"""The autoscaling types."""
