"""snndsl.runtime."""
