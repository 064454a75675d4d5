"""Activities: every effect an incident has on the world."""
