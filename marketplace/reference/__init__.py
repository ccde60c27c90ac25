"""Reference data of the Chinese standards the platform uses; plain Python, no Flask."""
