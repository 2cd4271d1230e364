"""micro:bit ML kiosk: a touchscreen appliance that teaches machine learning with a micro:bit."""

__version__ = "0.1.0"
