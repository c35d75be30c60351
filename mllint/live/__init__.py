"""Live mode: read a GPU host through NVML and check the repository against it (`mllint live`)."""
