"""Statistics and tables of result rows, between the experiment layer and the front:
what figures and notebooks read."""
