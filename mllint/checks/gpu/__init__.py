"""Logic of the gpu rules (metadata in rules/gpu/)."""
