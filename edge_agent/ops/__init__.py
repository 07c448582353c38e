"""Operator helpers: start-up checks before READY=1, serial port listing, and other installer aids."""
