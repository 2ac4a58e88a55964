"""QR codes for presentations: render them (PNG, SVG, terminal) and read them from real images.

Rendering always uses error correction level M (15 % of the codewords can be lost, a fair trade
between size and robustness for a phone screen held to a camera) and the smallest version that
fits. A payload made only of QR alphanumeric characters, as every ``CL1:`` payload is (the
prefix and base45 use that set), goes in as ONE alphanumeric segment: 5.5 bits per character
instead of 8. Any other text falls back to qrcode's own segmentation.

Reading uses zxing-cpp restricted to QR codes, on images opened with Pillow (PNG, JPEG, and
whatever else Pillow opens), and insists on exactly one QR code in the picture, so a verifier
never silently picks one of two codes held up together.

Rendering uses qrcode, decoding zxing-cpp: two independent implementations, so the round-trip
tests check one against the other.
"""

from __future__ import annotations

import io
import os
from typing import BinaryIO

import qrcode
import zxingcpp
from PIL import Image, UnidentifiedImageError
from qrcode.image.pil import PilImage
from qrcode.image.svg import SvgPathFillImage
from qrcode.util import MODE_ALPHA_NUM, QRData

from ledger.errors import MalformedError

__all__ = [
    "ALPHANUMERIC",
    "QRReadError",
    "make_qr",
    "read_qr",
    "render_png",
    "render_svg",
    "render_terminal",
]

ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
"""The QR alphanumeric character set (ISO/IEC 18004 table 5), equal to the base45 alphabet."""

PathOrFile = str | os.PathLike[str] | BinaryIO


class QRReadError(MalformedError):
    """An image that does not yield exactly one QR code."""


def make_qr(payload: str, *, scale: int = 8, border: int = 4) -> qrcode.QRCode:
    """The QR symbol for ``payload``: level M, smallest version, one alphanumeric segment if it can.

    ``scale`` is pixels per module for raster output; ``border`` is the quiet zone in modules
    (the standard asks for 4; scanners struggle with less).
    """
    if scale < 1 or border < 0:
        raise ValueError(f"scale must be >= 1 and border >= 0, got {scale} and {border}")
    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=scale, border=border
    )
    if payload and set(payload) <= ALPHANUMERIC:
        qr.add_data(QRData(payload, mode=MODE_ALPHA_NUM))
    else:
        qr.add_data(payload)
    qr.make(fit=True)
    return qr


def render_png(payload: str, path_or_file: PathOrFile, *, scale: int = 8, border: int = 4) -> None:
    """Write the QR code as a black-on-white PNG to a path or a binary file object."""
    image = make_qr(payload, scale=scale, border=border).make_image(image_factory=PilImage)
    image.save(path_or_file, format="PNG")


def render_svg(payload: str, path_or_file: PathOrFile, *, border: int = 4) -> None:
    """Write the QR code as an SVG (one path, white background) to a path or binary file."""
    image = make_qr(payload, scale=10, border=border).make_image(image_factory=SvgPathFillImage)
    image.save(path_or_file)


def render_terminal(payload: str, *, invert: bool = True) -> str:
    """The QR code as text, two modules per character cell using the half blocks ▀ ▄ █.

    Terminals draw glyphs in a light colour on a dark background, so by default (``invert``)
    the glyphs paint the light modules and the quiet zone and the background shows through as
    the dark modules. Pass ``invert=False`` for a dark-on-light terminal or for printing.
    The result has ``ceil((modules + 2 * 4) / 2)`` lines, each ending with a newline; an empty
    cell is a no-break space (U+00A0, as qrcode writes it), so editors and chat apps do not
    trim it.
    """
    out = io.StringIO()
    make_qr(payload).print_ascii(out=out, invert=invert)
    return out.getvalue()


def _load_image(image: bytes | str | os.PathLike[str]) -> Image.Image:
    if isinstance(image, bytes | bytearray | memoryview):
        data = bytes(image)
    else:
        try:
            with open(image, "rb") as file:
                data = file.read()
        except OSError as exc:
            raise QRReadError(f"unreadable file: {exc.strerror or exc}") from None
    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
            return opened.convert("L")
    except UnidentifiedImageError:
        raise QRReadError(
            "not an image: expected a PNG, JPEG or other picture Pillow can open"
        ) from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise QRReadError(f"not an image: the picture data is damaged ({exc})") from None


def read_qr(image: bytes | str | os.PathLike[str]) -> str:
    """The text of the one QR code in ``image`` (encoded bytes of a picture, or a file path).

    Raises :class:`QRReadError` with a message starting ``unreadable file:``, ``not an image:``,
    ``no QR code found`` or ``more than one QR code found``.
    """
    picture = _load_image(image)
    barcodes = zxingcpp.read_barcodes(picture, formats=zxingcpp.BarcodeFormat.QRCode)
    if not barcodes:
        raise QRReadError("no QR code found in the image")
    if len(barcodes) > 1:
        raise QRReadError(
            f"more than one QR code found: expected 1, got {len(barcodes)}; show one at a time"
        )
    return barcodes[0].text
