"""Red/white/yellow lists and the monthly white-list push (issue 14 items 4 and 5)."""
