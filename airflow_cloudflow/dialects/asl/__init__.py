"""The ASL loader: JSON/YAML state machine definitions into the shared model."""
