"""Logic of the pinning rules (metadata in rules/pinning/)."""
