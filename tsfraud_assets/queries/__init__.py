"""The named warehouse queries investigators and analysts ask every day: SQL files here,
loaded and bound by catalog.py."""
