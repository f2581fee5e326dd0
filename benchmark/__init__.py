# Benchmark of serial_service at the size of a real service company (issue 10).
#
# Not loaded by the add-on itself: `tools/benchmark.sh` runs it in a database of
# its own, and `tests/test_benchmark.py` runs every scenario at a tiny size so
# that the generator and the scenarios keep working. See BENCHMARKS.md.
