"""CUDA compatibility: what an image needs (its CUDA), what a node provides (driver, GPU), and whether they meet.

The facts are data in `mllint/knowledge/` with their sources; rows not verified never back an error."""
