"""Found by `python -m bench` (autodiscover_modules("benchmarks")); the registry's
benchmarks themselves live with the others in bench/bench_registry.py."""

import bench.bench_registry  # noqa: F401
