"""Pictures of LED sign faces, shared by the simulators and the cloud dashboard (Pillow + glyph font).

May import ``firmware_protocols`` and Pillow only; ``simulators`` and ``cloud`` both import it, so a
dashboard preview and a simulator's PNG are drawn by the same code.
"""

from led_faces.dots import (
    AMBER,
    BACKGROUND,
    LINE_GAP,
    RED,
    Colour,
    led_image,
    led_png_bytes,
    render_led_png,
)
from led_faces.lines import LINE_HEIGHT, lines_bitmap

__all__ = [
    "AMBER",
    "BACKGROUND",
    "LINE_GAP",
    "LINE_HEIGHT",
    "RED",
    "Colour",
    "led_image",
    "led_png_bytes",
    "lines_bitmap",
    "render_led_png",
]
