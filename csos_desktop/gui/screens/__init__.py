"""One module per main-window screen."""
