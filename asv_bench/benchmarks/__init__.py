"""asv benchmarks for Omega; they touch only the public API."""
