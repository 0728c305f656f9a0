"""What a user touches: the command line, figures, the page, labels and the terms sheet."""
