"""Logic of the live rules (metadata in rules/live/)."""
