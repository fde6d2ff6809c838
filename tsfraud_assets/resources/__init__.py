"""One module per external system, each with its embedded and its cloud implementation."""
