"""Found by the bench runner (autodiscover_modules("benchmarks")); the benchmarks
themselves live with the others in bench/bench_moderation.py."""

import bench.bench_moderation  # noqa: F401
