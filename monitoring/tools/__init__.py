"""Tools apart from the domain: child processes (`make run`, `make stop`) and synthetic data generation."""
