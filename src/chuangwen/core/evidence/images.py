"""Checking, re-encoding, stamping and hashing an uploaded image: pure functions, no storage."""

from __future__ import annotations

import datetime as dt
import io
import warnings
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFile, ImageFont, ImageOps, UnidentifiedImageError

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")

DEFAULT_MAX_BYTES = 15 * 1024 * 1024
DEFAULT_MAX_PIXELS = 40_000_000
THUMBNAIL_SIZE = 480
JPEG_QUALITY = 85

TAG_EXIF_IFD = 0x8769
TAG_GPS_IFD = 0x8825
TAG_DATETIME_ORIGINAL = 0x9003
TAG_OFFSET_TIME_ORIGINAL = 0x9011

BAND_BITS = 16
BANDS = 4

# (Pillow format, MIME type) by magic bytes; WebP is RIFF....WEBP.
_SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "PNG", "image/png"),
)

ERR_TYPE = "只接受 JPEG、PNG 或 WebP 格式的图片（按文件内容识别，而不是文件名）"
ERR_BROKEN = "图片文件已损坏或无法识别，请重新拍摄或导出后再上传"
ERR_EMPTY = "文件为空"
REFUSAL_CODES = frozenset({"too_big", "empty", "type", "broken", "too_many_pixels"})


def max_bytes() -> int:
    return int(getattr(settings, "EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_pixels() -> int:
    return int(getattr(settings, "EVIDENCE_MAX_PIXELS", DEFAULT_MAX_PIXELS))


def _err_too_big() -> str:
    return f"图片过大：不能超过 {max_bytes() // (1024 * 1024)} MB"


def _err_too_many_pixels() -> str:
    return f"图片像素过多：不能超过 {max_pixels() // 1_000_000} 百万像素"


# --- reading and checking ------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """An accepted upload, decoded, before anything is stored."""

    data: bytes
    fmt: str  # the Pillow format of the upload
    mime_type: str
    image: Image.Image  # oriented, metadata dropped
    captured_at: dt.datetime | None
    had_gps: bool


def _read(file) -> bytes:
    """Read at most the limit plus one byte, so an oversized upload is never held whole in memory."""
    limit = max_bytes()
    size = getattr(file, "size", None)
    if size is not None and size > limit:
        raise ValidationError(_err_too_big(), code="too_big")
    if hasattr(file, "seek"):
        file.seek(0)
    data = file.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(_err_too_big(), code="too_big")
    if not data:
        raise ValidationError(ERR_EMPTY, code="empty")
    return data


def sniff(data: bytes) -> tuple[str, str] | None:
    """(Pillow format, MIME type) named by the magic bytes, or None for anything else."""
    for magic, fmt, mime in _SIGNATURES:
        if data.startswith(magic):
            return fmt, mime
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP", "image/webp"
    return None


def _open(data: bytes, fmt: str) -> Image.Image:
    """Open and fully decode, refusing anything Pillow cannot vouch for or that is too large."""
    limit = max_pixels()
    # A backstop for code paths that skip our own check: Pillow warns above this and refuses above
    # twice this; the warning is turned into an error below.
    Image.MAX_IMAGE_PIXELS = limit
    # Pillow's process-wide switch to accept truncated files: WeasyPrint turns it on when imported (for
    # the bulletins' PDFs), after which a half-uploaded photo would decode with a grey bottom. Off here.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt]) as probe:
                if probe.format != fmt:
                    raise ValidationError(ERR_TYPE, code="type")
                width, height = probe.size
                if width <= 0 or height <= 0:
                    raise ValidationError(ERR_BROKEN, code="broken")
                if width * height > limit:
                    raise ValidationError(_err_too_many_pixels(), code="too_many_pixels")
                probe.verify()
            image = Image.open(io.BytesIO(data), formats=[fmt])
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValidationError(_err_too_many_pixels(), code="too_many_pixels") from exc
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ValidationError(ERR_BROKEN, code="broken") from exc
    return image


def _capture_time(exif: Image.Exif) -> dt.datetime | None:
    """DateTimeOriginal, as Asia/Shanghai local time unless the camera recorded its own offset."""
    sub = exif.get_ifd(TAG_EXIF_IFD)
    raw = sub.get(TAG_DATETIME_ORIGINAL)
    if not isinstance(raw, str):
        return None
    try:
        naive = dt.datetime.strptime(raw.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")  # noqa: DTZ007 (zone set below)
    except ValueError:
        return None
    tz: dt.tzinfo = SHANGHAI
    offset = sub.get(TAG_OFFSET_TIME_ORIGINAL)
    if isinstance(offset, str):
        try:
            tz = dt.datetime.strptime(offset.strip("\x00 "), "%z").tzinfo or SHANGHAI
        except ValueError:
            tz = SHANGHAI
    value = naive.replace(tzinfo=tz)
    if value > timezone.now() + dt.timedelta(days=1):
        return None  # a camera clock far in the future is not evidence of anything
    return value


def check(file) -> Checked:
    """Read, check and decode an upload; raise ValidationError (in Chinese) for anything refused."""
    data = _read(file)
    sniffed = sniff(data)
    if sniffed is None:
        raise ValidationError(ERR_TYPE, code="type")
    fmt, mime = sniffed
    image = _open(data, fmt)
    try:
        exif = image.getexif()
        had_gps = bool(exif.get(TAG_GPS_IFD)) or bool(exif.get_ifd(TAG_GPS_IFD))
        captured_at = _capture_time(exif)
        if getattr(image, "n_frames", 1) > 1:
            image.seek(0)  # an animation keeps its first frame only
        oriented = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ValidationError(ERR_BROKEN, code="broken") from exc
    # Drop every piece of metadata that could be carried into an encoder.
    clean = oriented.copy()
    clean.info = {k: v for k, v in oriented.info.items() if k == "transparency"}
    return Checked(data=data, fmt=fmt, mime_type=mime, image=clean, captured_at=captured_at, had_gps=had_gps)


# --- encoding, stamping, hashing -----------------------------------------------------------------


def _rgb(image: Image.Image) -> Image.Image:
    """RGB, with any transparency laid on white."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def jpeg(image: Image.Image, quality: int = JPEG_QUALITY) -> bytes:
    out = io.BytesIO()
    _rgb(image).save(out, format="JPEG", quality=quality, optimize=True, exif=b"")
    return out.getvalue()


def encode_original(image: Image.Image, fmt: str) -> tuple[bytes, str]:
    """PNG stays PNG (screenshots, diagrams); photos become JPEG at quality 85."""
    if fmt == "PNG":
        if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
            image = image.convert("RGBA")
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
        return out.getvalue(), "png"
    return jpeg(image), "jpg"


@lru_cache(maxsize=4)
def _font_face(path: str) -> int | None:
    """The face index of Simplified Chinese in a CJK collection (0 for a plain font); None if unusable."""
    if not path or not Path(path).is_file():
        return None
    for index in range(12):
        try:
            font = ImageFont.truetype(path, 12, index=index)
        except OSError:
            break
        family = " ".join(font.getname() or ())
        if " SC" in family or "SC " in family or family.endswith("SC"):
            return index
    try:
        ImageFont.truetype(path, 12, index=0)
    except OSError:
        return None
    return 0


def has_cjk_font() -> bool:
    return _font_face(str(getattr(settings, "EVIDENCE_STAMP_FONT", "") or "")) is not None


def _stamp_font(size: int) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, bool]:
    """(font, can_write_chinese): the configured CJK font, or Pillow's built-in one (ASCII only)."""
    path = str(getattr(settings, "EVIDENCE_STAMP_FONT", "") or "")
    face = _font_face(path)
    if face is not None:
        return ImageFont.truetype(path, size, index=face), True
    return ImageFont.load_default(size=size), False


def stamp_lines(*, uploaded_at: dt.datetime, school, label: str, uploader, chinese: bool) -> list[str]:
    when = timezone.localtime(uploaded_at, SHANGHAI).strftime("%Y-%m-%d %H:%M")
    uploader_name = getattr(uploader, "name", "") or getattr(uploader, "username", "")
    if chinese:
        lines = [f"上传时间：{when}", f"学校：{school.name if school else '（未指定）'}"]
        if label:
            lines.append(label)
        lines.append(f"上传人：{uploader_name}")
        return lines
    # Without a CJK font, write only what ASCII can carry rather than boxes.
    ascii_label = "".join(ch for ch in label if ch.isascii()).strip()
    lines = [f"Uploaded {when} (UTC+8)", f"School #{school.code if school else '-'}"]
    if ascii_label:
        lines.append(ascii_label)
    lines.append(f"By {getattr(uploader, 'username', '')}")
    return lines


def stamp(image: Image.Image, lines: list[str]) -> Image.Image:
    """Lay a semi-transparent dark band along the bottom with the lines in white.

    The text scales with the picture and shrinks until the band takes under half of its height and the
    longest line (a long school name on a portrait photo) fits its width.
    """
    base = _rgb(image).convert("RGBA")
    width, height = base.size
    size = max(10, min(48, width // 30))
    while True:
        font, _chinese = _stamp_font(size)
        line_height = int(size * 1.35)
        band = line_height * len(lines) + size
        widest = max((font.getlength(line) for line in lines), default=0)
        if (band <= height * 0.45 and widest <= width - size) or size <= 8:
            break
        size -= 1
    overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    top = max(0, height - band)
    draw.rectangle([(0, top), (width, height)], fill=(0, 0, 0, 140))
    y = top + size // 2
    for line in lines:
        draw.text((size // 2, y), line, font=font, fill=(255, 255, 255, 235))
        y += line_height
    return Image.alpha_composite(base, overlay).convert("RGB")


def thumbnail(image: Image.Image) -> Image.Image:
    thumb = _rgb(image).copy()
    thumb.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    return thumb


def perceptual_hash(image: Image.Image) -> str:
    import imagehash  # numpy and scipy behind it cost seconds at start-up: load them on first use

    return str(imagehash.phash(_rgb(image)))


def bands(phash_hex: str) -> tuple[int, int, int, int]:
    value = int(phash_hex, 16)
    mask = (1 << BAND_BITS) - 1
    return tuple((value >> (BAND_BITS * (BANDS - 1 - i))) & mask for i in range(BANDS))  # type: ignore[return-value]
