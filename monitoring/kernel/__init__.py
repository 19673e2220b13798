"""The kernel: what every layer may import, and which imports nothing of ours."""
