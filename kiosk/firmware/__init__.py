"""The kiosk's own micro:bit programs: building their hex files and flashing boards."""
