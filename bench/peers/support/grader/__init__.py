"""A stand-in for dlgrader's package in the peers' kernels: only what the notebook imports."""
