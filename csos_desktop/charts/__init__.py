"""Charts drawn with Qt for both front ends (the GUI shows them, the CLI saves PNGs)."""
