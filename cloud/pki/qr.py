"""QR codes of enrolment URLs, as PNG files an admin app can show or print."""

from __future__ import annotations

from pathlib import Path


def qr_png(url_with_token: str, path: Path) -> Path:
    """Write a PNG QR code of ``url_with_token`` to ``path`` (mode 0600: it holds a secret)."""
    # Imported here: only the admin side draws QR codes, and qrcode + Pillow cost memory everywhere else.
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(url_with_token)
    code.make(fit=True)
    image = code.make_image()
    path.touch(mode=0o600)
    path.chmod(0o600)
    with path.open("wb") as file:
        image.save(file, format="PNG")
    return path
