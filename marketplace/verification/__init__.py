"""Cash-flow verification inside the platform; cli.py holds `flask --app wsgi verify ...`."""
