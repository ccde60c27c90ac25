"""Bank statements inside the platform: the `flask statements` commands (cli.py).

The parsing itself is pure and lives in workflows/verification/statements.py.
"""
