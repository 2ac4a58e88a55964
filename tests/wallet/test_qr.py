"""QR rendering (qrcode) read back by an independent decoder (zxing-cpp), also from photos."""

from __future__ import annotations

import io
import random
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageFilter

from ledger.errors import MalformedError
from ledger.formats.presentation import Ciphersuite, Presentation, encode_presentation
from wallet.qr import QRReadError, make_qr, read_qr, render_png, render_svg, render_terminal

NOT_AN_IMAGE = r"^not an image: "


def _payload() -> str:
    """A realistic presentation: 11 signed attributes, 4 disclosed, an 8-byte challenge."""
    rng = random.Random(2025)
    return encode_presentation(
        Presentation(
            issuer_key_id=bytes.fromhex("3f9a1c0e5b7d2e48"),
            ciphersuite=Ciphersuite.BLS12_381_SHA_256,
            schema_id=1,
            schema_version=1,
            disclosed={0: b"MX-C-12345678", 1: b"Guadalupe Lopez Ruiz", 3: b"1990-04-17", 4: b"MX"},
            presentation_header=rng.randbytes(8),
            proof=rng.randbytes(272 + 32 * 7),
        )
    )


PAYLOAD = _payload()


def _png(payload: str = PAYLOAD, **kwargs: int) -> bytes:
    out = io.BytesIO()
    render_png(payload, out, **kwargs)
    return out.getvalue()


def _open(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("L")


def _encode(image: Image.Image, fmt: str = "PNG", **kwargs: int) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


def _rotate(degrees: float) -> Callable[[Image.Image], Image.Image]:
    return lambda im: im.rotate(
        degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255
    )


def _scale(factor: float) -> Callable[[Image.Image], Image.Image]:
    return lambda im: im.resize(
        (round(im.width * factor), round(im.height * factor)), Image.Resampling.LANCZOS
    )


def _blur(radius: float) -> Callable[[Image.Image], Image.Image]:
    return lambda im: im.filter(ImageFilter.GaussianBlur(radius))


def _noise(width: int, height: int, seed: int = 7) -> Image.Image:
    """Seeded mid-grey noise (values 88..168), so the tests are repeatable."""
    table = bytes(88 + i % 81 for i in range(256))
    return Image.frombytes(
        "L", (width, height), random.Random(seed).randbytes(width * height).translate(table)
    )


def _on_noisy_background(im: Image.Image) -> Image.Image:
    """Paste the code, off-centre, onto a larger grey noisy picture, as a camera sees it."""
    background = _noise(im.width + 700, im.height + 500)
    background.paste(im, (420, 170))
    return background


def _low_contrast(im: Image.Image) -> Image.Image:
    """Dark modules at 70 and light ones at 200, like a dim screen behind glass."""
    return im.point(lambda v: 70 + v * 130 // 255)


def _photo(im: Image.Image) -> Image.Image:
    for step in (_rotate(7), _scale(0.8), _blur(1.0), _low_contrast, _on_noisy_background):
        im = step(im)
    return im


def test_payload_is_realistic() -> None:
    assert PAYLOAD.startswith("CL1:")
    assert 850 <= len(PAYLOAD) <= 950
    qr = make_qr(PAYLOAD)
    assert qr.version == 19  # 897 characters at level M, one alphanumeric segment
    assert qr.error_correction == 0  # qrcode.constants.ERROR_CORRECT_M


def test_png_round_trip_bytes_and_path(tmp_path: Path) -> None:
    data = _png()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = _open(data)
    modules = 17 + 4 * 19 + 2 * 4
    assert image.size == (modules * 8, modules * 8)
    assert read_qr(data) == PAYLOAD
    path = tmp_path / "qr.png"
    render_png(PAYLOAD, path, scale=3, border=4)
    assert read_qr(path) == PAYLOAD
    assert read_qr(str(path)) == PAYLOAD


@pytest.mark.parametrize(
    "transform",
    [
        _rotate(7),
        _rotate(90),
        _rotate(-33),
        _scale(0.55),
        _scale(1.7),
        _blur(1.5),
        _on_noisy_background,
        _photo,
    ],
    ids=["rot7", "rot90", "rot-33", "down0.55", "up1.7", "blur", "background", "photo"],
)
@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_photo_like_images_still_read(
    transform: Callable[[Image.Image], Image.Image], fmt: str
) -> None:
    image = transform(_open(_png()))
    data = _encode(image, fmt, quality=70) if fmt == "JPEG" else _encode(image, fmt)
    assert read_qr(data) == PAYLOAD


def test_photo_with_colour_and_jpeg(tmp_path: Path) -> None:
    """An RGB JPEG file on disk, tinted like a phone screen under warm light."""
    grey = _photo(_open(_png()))
    tinted = Image.merge(
        "RGB", (grey, grey.point(lambda v: v * 0.9), grey.point(lambda v: v * 0.7))
    )
    path = tmp_path / "photo.jpg"
    tinted.save(path, format="JPEG", quality=70)
    assert read_qr(path) == PAYLOAD


def test_other_text_payloads() -> None:
    for payload in ("CL1:", "HELLO WORLD", "lower case and ünïcode"):
        assert read_qr(_png(payload)) == payload


# --- failures ---------------------------------------------------------------------------------


def test_error_class() -> None:
    assert issubclass(QRReadError, MalformedError)


def test_truncated_png() -> None:
    data = _png()
    with pytest.raises(QRReadError, match=NOT_AN_IMAGE + "the picture data is damaged"):
        read_qr(data[: len(data) // 2])


@pytest.mark.parametrize("data", [random.Random(1).randbytes(5000), b"", b"CL1:ABC"])
def test_random_bytes(data: bytes) -> None:
    with pytest.raises(QRReadError, match=NOT_AN_IMAGE + "expected a PNG, JPEG"):
        read_qr(data)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(QRReadError, match=r"^unreadable file: "):
        read_qr(tmp_path / "missing.png")
    with pytest.raises(QRReadError, match=r"^unreadable file: "):
        read_qr(tmp_path)  # a directory


def test_text_file_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "note.png"
    path.write_text("not a picture")
    with pytest.raises(QRReadError, match=NOT_AN_IMAGE):
        read_qr(path)


def test_no_qr_code() -> None:
    noise = _noise(600, 400)
    with pytest.raises(QRReadError, match=r"^no QR code found in the image$"):
        read_qr(_encode(noise))
    with pytest.raises(QRReadError, match=r"^no QR code found"):
        read_qr(_encode(Image.new("L", (300, 300), 255)))


def test_two_qr_codes() -> None:
    first, second = _open(_png("CL1:FIRST", scale=6)), _open(_png("CL1:SECOND", scale=6))
    sheet = Image.new("L", (first.width + second.width + 40, max(first.height, second.height)), 255)
    sheet.paste(first, (0, 0))
    sheet.paste(second, (first.width + 40, 0))
    with pytest.raises(
        QRReadError, match=r"^more than one QR code found: expected 1, got 2; show one at a time$"
    ):
        read_qr(_encode(sheet))


def test_bad_render_arguments() -> None:
    with pytest.raises(ValueError, match="scale must be >= 1"):
        render_png(PAYLOAD, io.BytesIO(), scale=0)


# --- SVG and terminal -------------------------------------------------------------------------


def test_svg_renders(tmp_path: Path) -> None:
    out = io.BytesIO()
    render_svg(PAYLOAD, out)
    root = ET.fromstring(out.getvalue())
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    assert root.get("viewBox") == "0 0 101 101"  # 93 modules + 2 x 4 quiet zone, 1 unit each
    paths = [e for e in root.iter() if e.tag in (f"{ns}path", "path")]
    assert len(paths) == 1 and paths[0].get("d")
    render_svg(PAYLOAD, tmp_path / "qr.svg")
    assert ET.parse(tmp_path / "qr.svg").getroot().tag == f"{ns}svg"


def _terminal_to_image(text: str, *, invert: bool) -> Image.Image:
    """Rasterise half-block text: one pixel per module, glyph ink light if ``invert``."""
    halves = {"\xa0": (0, 0), "▀": (1, 0), "▄": (0, 1), "█": (1, 1)}
    lines = text.splitlines()
    image = Image.new("L", (len(lines[0]), 2 * len(lines)))
    ink, paper = (255, 0) if invert else (0, 255)
    for y, line in enumerate(lines):
        for x, char in enumerate(line):
            top, bottom = halves[char]
            image.putpixel((x, 2 * y), ink if top else paper)
            image.putpixel((x, 2 * y + 1), ink if bottom else paper)
    framed = Image.new("L", (image.width + 8, image.height + 8), 255)
    framed.paste(image, (4, 4))
    return framed.resize((framed.width * 4, framed.height * 4), Image.Resampling.NEAREST)


@pytest.mark.parametrize("invert", [True, False])
def test_terminal_rendering(invert: bool) -> None:
    text = render_terminal(PAYLOAD, invert=invert)
    lines = text.splitlines()
    width = 17 + 4 * 19 + 2 * 4  # 101 modules with the quiet zone
    assert text.endswith("\n")
    assert len(lines) == (width + 1) // 2 == 51
    assert all(len(line) == width for line in lines)
    assert set(text) <= set("\xa0▀▄█\n")  # qrcode uses a no-break space for an empty cell
    assert read_qr(_encode(_terminal_to_image(text, invert=invert))) == PAYLOAD
