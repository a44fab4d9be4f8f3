"""``make bench``: a load benchmark of the shop over real HTTP (see docs/benchmarks.md)."""
