"""The business rules of the marketplace: pure functions on plain data, no Flask, no database."""
