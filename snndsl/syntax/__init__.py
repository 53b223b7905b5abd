"""snndsl.syntax."""
