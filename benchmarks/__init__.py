"""Scale and speed measurements for reportqa (not tests). See benchmarks/README.md."""
