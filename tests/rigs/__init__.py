"""Test rigs: real stacks and emulated hardware the kiosk is checked against."""
