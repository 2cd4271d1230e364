"""Time-stamped sample buffers shared between a link's I/O thread and the UI thread."""

from kiosk.signal.buffer import SampleBuffer, Window

__all__ = ["SampleBuffer", "Window"]
