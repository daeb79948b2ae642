"""Example project of the seed page tests."""
