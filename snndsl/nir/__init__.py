"""snndsl.nir."""
