"""Logic of the build rules (metadata in rules/build/)."""
