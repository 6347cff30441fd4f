"""mpyld: this project's linker for MicroPython dynamic native modules (.mpy v6.3)."""
