"""Logic of the meta rules (metadata in rules/meta/)."""
