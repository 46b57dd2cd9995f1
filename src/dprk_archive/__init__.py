"""dprk-archive: an open, versioned archive of North Korean state media in English."""

__version__ = "0.1.0"

PROJECT_URL = "https://github.com/dprk-archive/dprk-archive"
