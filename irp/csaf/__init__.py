"""CSAF 2.0 VEX documents: building them from an incident and validating them."""
