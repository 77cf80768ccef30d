"""One module per framework integration: APPS, REQUEST and check() for bench_frameworks."""
