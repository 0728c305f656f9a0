"""The maths: pure numpy functions and frozen data, no Mesa state and no config."""
