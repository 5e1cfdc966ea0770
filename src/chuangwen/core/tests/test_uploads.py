"""Evidence photos: what is refused, what is stored, the stamp, reuse detection and who may see them."""

from __future__ import annotations

import datetime as dt
import io
import random
import struct
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from chuangwen.core.evidence import (
    REUSE_MESSAGE,
    evidence_photo_attach,
    evidence_photo_create,
    find_reuse,
    visible_photos,
)
from chuangwen.core.evidence.images import BANDS, bands, has_cjk_font, stamp_lines
from chuangwen.core.evidence.selectors import _neighbours, hamming
from chuangwen.core.models import AuditEvent, EvidencePhoto
from chuangwen.core.roles import Role

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


# --- building inputs -----------------------------------------------------------------------------


def picture(seed: int, size=(640, 480)) -> Image.Image:
    """A photo-like picture: a gradient with coloured shapes, different for each seed."""
    rng = random.Random(seed)
    width, height = size
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(14):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1 = x0 + rng.randrange(width // 16 + 1, width // 2 + 2)
        y1 = y0 + rng.randrange(height // 16 + 1, height // 2 + 2)
        colour = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x0, y0, x1, y1], fill=colour)
    return image


def encode(image: Image.Image, fmt: str = "JPEG", **params) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def exif_with_gps(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0110] = "TestCam X1"
    if orientation:
        exif[0x0112] = orientation
    exif.get_ifd(0x8769)[0x9003] = "2026:05:01 10:30:00"  # DateTimeOriginal
    gps = exif.get_ifd(0x8825)  # GPSInfo
    gps[1], gps[2], gps[3], gps[4] = "N", (31.0, 14.0, 0.0), "E", (121.0, 28.0, 0.0)
    return exif


def crafted_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width × height pixels (a decompression bomb's calling card)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def media_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT) / "evidence"
    return {str(p) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def stored(field) -> Image.Image:
    with field.storage.open(field.name, "rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
        return image


def raw(field) -> bytes:
    with field.storage.open(field.name, "rb") as handle:
        return handle.read()


def create(city, data: bytes, *, school="a", user=None, name="photo.jpg", **kwargs) -> EvidencePhoto:
    schools = {"a": city.school_a, "b": city.school_b, "c": city.school_c, None: None}
    return evidence_photo_create(
        file=upload(data, name),
        uploaded_by=user or city.users[Role.INSPECTOR],
        school=schools[school],
        purpose=kwargs.pop("purpose", EvidencePhoto.Purpose.FOUND),
        **kwargs,
    )


@pytest.fixture
def nothing_written(city):
    """Assert that the test leaves no row, no audit event and no file behind."""
    files = media_files()
    events = AuditEvent.objects.count()
    yield
    assert EvidencePhoto.objects.count() == 0
    assert AuditEvent.objects.count() == events
    assert media_files() == files


# --- refusals ------------------------------------------------------------------------------------


def _gif() -> bytes:
    return encode(picture(1, (64, 48)), "GIF")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(lambda: "这不是图片，只是改了扩展名的文本。".encode() * 20, id="txt"),
        pytest.param(lambda: b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", id="pdf"),
        pytest.param(_gif, id="gif"),
        pytest.param(lambda: b"RIFF\x10\x00\x00\x00AVI LIST" + b"\x00" * 64, id="riff-not-webp"),
    ],
)
def test_a_renamed_non_image_is_refused(city, nothing_written, data):
    with pytest.raises(ValidationError) as exc:
        create(city, data(), name="现场照片.jpg")
    assert exc.value.code == "type"
    assert "JPEG、PNG 或 WebP" in exc.value.messages[0]


def test_a_truncated_jpeg_is_refused(city, nothing_written):
    data = encode(picture(2))
    with pytest.raises(ValidationError) as exc:
        create(city, data[: len(data) // 3])
    assert exc.value.code == "broken"
    assert "损坏" in exc.value.messages[0]


def test_a_truncated_jpeg_is_refused_even_after_a_library_allowed_truncated_images(city, nothing_written):
    """WeasyPrint (the bulletins' PDFs) sets Pillow's process-wide LOAD_TRUNCATED_IMAGES when imported;
    an upload in the same process must still be refused as broken."""
    from PIL import ImageFile

    data = encode(picture(3))
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        with pytest.raises(ValidationError) as exc:
            create(city, data[: len(data) // 3])
        assert exc.value.code == "broken"
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False


def test_an_empty_file_is_refused(city, nothing_written):
    with pytest.raises(ValidationError) as exc:
        create(city, b"")
    assert exc.value.code == "empty"


def test_a_decompression_bomb_is_refused_before_decoding(city, nothing_written):
    data = crafted_png(30_000, 30_000)  # 900 million pixels declared in a file of about 100 bytes
    assert len(data) < 200
    with pytest.raises(ValidationError) as exc:
        create(city, data, name="bomb.png")
    assert exc.value.code == "too_many_pixels"
    assert "百万像素" in exc.value.messages[0]


def test_a_real_image_over_the_pixel_limit_is_refused(city, nothing_written, settings):
    settings.EVIDENCE_MAX_PIXELS = 10_000
    with pytest.raises(ValidationError) as exc:
        create(city, encode(picture(3, (200, 100))))  # 20,000 pixels, a few KB
    assert exc.value.code == "too_many_pixels"


def test_pillows_own_bomb_guard_is_a_refusal_too(city, nothing_written, monkeypatch):
    """Should Pillow raise its DecompressionBombError anyway, that is a refusal, not a crash."""
    from chuangwen.core.evidence import images

    def bomb_open(*args, **kwargs):
        raise Image.DecompressionBombError("too big")

    data = encode(picture(3, (64, 48)))
    monkeypatch.setattr(images.Image, "open", bomb_open)
    with pytest.raises(ValidationError) as exc:
        create(city, data)
    monkeypatch.undo()
    assert exc.value.code == "too_many_pixels"


def test_an_oversized_file_is_refused(city, nothing_written, settings):
    settings.EVIDENCE_MAX_BYTES = 20_000
    data = encode(picture(4, (1200, 900)), quality=95)
    assert len(data) > 20_000
    with pytest.raises(ValidationError) as exc:
        create(city, data)
    assert exc.value.code == "too_big"
    assert "MB" in exc.value.messages[0]


def test_an_oversized_stream_is_refused_after_reading_the_limit(city, nothing_written, settings):
    settings.EVIDENCE_MAX_BYTES = 20_000
    stream = io.BytesIO(encode(picture(4, (1200, 900)), quality=95))
    with pytest.raises(ValidationError) as exc:
        evidence_photo_create(
            file=stream, uploaded_by=city.users[Role.INSPECTOR], school=city.school_a, purpose="found"
        )
    assert exc.value.code == "too_big"
    assert stream.tell() == 20_001


def test_a_failing_database_write_leaves_no_file(city, nothing_written, monkeypatch):
    from chuangwen.core.evidence import services

    def broken_record(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(services, "record", broken_record)
    with pytest.raises(RuntimeError):
        create(city, encode(picture(5)))


def test_a_bad_purpose_or_a_non_school_is_refused(city, nothing_written):
    with pytest.raises(ValidationError):
        create(city, encode(picture(5)), purpose="whatever")
    with pytest.raises(ValidationError):
        evidence_photo_create(
            file=upload(encode(picture(5))),
            uploaded_by=city.users[Role.INSPECTOR],
            school=city.district_a,
            purpose="found",
        )


# --- what is stored ------------------------------------------------------------------------------


def test_gps_and_all_exif_are_stripped_and_the_capture_time_kept(city):
    data = encode(picture(6), exif=exif_with_gps())
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the input really has GPS
    photo = create(city, data)

    assert photo.gps_stripped is True
    assert photo.captured_at == dt.datetime(2026, 5, 1, 10, 30, tzinfo=SHANGHAI)
    assert photo.mime_type == "image/jpeg"
    assert photo.bytes == len(data)
    import hashlib

    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    for field in (photo.original, photo.stamped, photo.thumbnail):
        image = stored(field)
        assert not image.getexif()
        assert "exif" not in image.info
        assert b"Exif" not in raw(field)
        assert b"TestCam" not in raw(field)
    assert photo.original.name.startswith("evidence/")
    assert photo.original.name.count("/") == 3  # evidence/YYYY/MM/name


def test_a_photo_without_exif_has_no_capture_time_and_no_gps(city):
    photo = create(city, encode(picture(7)))
    assert photo.captured_at is None
    assert photo.gps_stripped is False


def test_png_is_accepted_and_stays_png(city):
    image = picture(8, (300, 200)).convert("RGBA")
    data = encode(image, "PNG")
    photo = create(city, data, name="截图.png")
    assert photo.mime_type == "image/png"
    assert photo.original.name.endswith(".png")
    assert raw(photo.original).startswith(b"\x89PNG")
    assert stored(photo.original).size == (300, 200)
    assert raw(photo.stamped).startswith(b"\xff\xd8\xff")


def test_webp_is_accepted_and_becomes_jpeg(city):
    data = encode(picture(9, (320, 240)), "WEBP", quality=80)
    photo = create(city, data, name="photo.webp")
    assert photo.mime_type == "image/webp"
    assert photo.original.name.endswith(".jpg")
    assert stored(photo.original).format == "JPEG"
    assert (photo.width, photo.height) == (320, 240)


def test_a_png_named_jpg_is_judged_by_its_content(city):
    photo = create(city, encode(picture(10, (100, 80)), "PNG"), name="photo.jpg")
    assert photo.mime_type == "image/png"


def test_the_exif_orientation_is_applied(city):
    image = Image.new("RGB", (60, 40), "red")
    image.paste((0, 0, 255), (30, 0, 60, 40))  # left red, right blue
    photo = create(city, encode(image, exif=exif_with_gps(orientation=6)))  # 6: rotate 90° clockwise
    original = stored(photo.original)
    assert original.size == (40, 60) == (photo.width, photo.height)
    top, bottom = original.getpixel((20, 5)), original.getpixel((20, 55))
    assert top[0] > 200 and top[2] < 60  # red on top
    assert bottom[2] > 200 and bottom[0] < 60  # blue below


def test_the_thumbnail_is_small(city):
    photo = create(city, encode(picture(11, (1600, 1200))))
    assert max(stored(photo.thumbnail).size) == 480
    assert (photo.width, photo.height) == (1600, 1200)


def test_the_upload_is_audited(city):
    photo = create(city, encode(picture(12)), label="问题 2026-000123")
    event = AuditEvent.objects.get(event_type="evidence.upload")
    assert event.object_id == str(photo.pk)
    assert event.data["sha256"] == photo.sha256
    assert event.data["label"] == "问题 2026-000123"
    assert event.actor_id == city.users[Role.INSPECTOR].pk


# --- the stamp -----------------------------------------------------------------------------------


def test_the_stamped_copy_differs_from_the_original_and_has_the_band(city):
    photo = create(city, encode(Image.new("RGB", (800, 600), "white")), label="问题 2026-000123")
    original = stored(photo.original).convert("L")
    stamped = stored(photo.stamped).convert("L")
    assert original.size == stamped.size
    assert original.getpixel((400, 50)) > 240 and stamped.getpixel((400, 50)) > 240  # top untouched
    # The band along the bottom darkens the white photo; at its right end there is no text.
    assert stamped.getpixel((790, 590)) < 160
    assert original.getpixel((790, 590)) > 240
    band = stamped.crop((0, 480, 800, 600))
    assert band.getextrema()[1] > 200  # white text on the band


def test_the_stamp_lines_name_time_school_label_and_uploader(city):
    uploaded_at = dt.datetime(2026, 11, 27, 15, 5, tzinfo=dt.UTC)
    lines = stamp_lines(
        uploaded_at=uploaded_at,
        school=city.school_a,
        label="问题 2026-000123",
        uploader=city.users[Role.INSPECTOR],
        chinese=True,
    )
    assert lines == [
        "上传时间：2026-11-27 23:05",
        "学校：东区第一小学",
        "问题 2026-000123",
        f"上传人：{city.users[Role.INSPECTOR].name}",
    ]


def test_the_configured_cjk_font_is_found():
    assert has_cjk_font(), f"no usable CJK font at {settings.EVIDENCE_STAMP_FONT}"


def test_without_a_cjk_font_the_stamp_falls_back_to_ascii(city, settings):
    settings.EVIDENCE_STAMP_FONT = "/nonexistent/font.ttc"
    assert not has_cjk_font()
    lines = stamp_lines(
        uploaded_at=dt.datetime(2026, 11, 27, 15, 5, tzinfo=dt.UTC),
        school=city.school_a,
        label="问题 2026-000123",
        uploader=city.users[Role.INSPECTOR],
        chinese=False,
    )
    assert all(line.isascii() for line in lines)
    assert "2026-11-27 23:05" in lines[0]
    assert "2026-000123" in lines
    photo = create(city, encode(picture(13)), label="问题 2026-000123")
    assert stored(photo.stamped).size == (640, 480)


# --- reuse ---------------------------------------------------------------------------------------


def _owners(city):
    """Two stand-in owners (problems will attach photos the same way)."""
    first, second = city.school_a.classes.order_by("pk")[:2]
    return first, second


def test_the_same_photo_for_two_owners_is_flagged(city):
    owner_1, owner_2 = _owners(city)
    data = encode(picture(20))
    first = evidence_photo_attach(photo=create(city, data), owner=owner_1)
    second = evidence_photo_attach(photo=create(city, data), owner=owner_2)
    assert first.sha256 == second.sha256
    assert find_reuse(second) == [first]
    assert find_reuse(first) == []  # only earlier photos are reported
    assert REUSE_MESSAGE == "同一或高度相似的照片已用于其他问题/学校"


def test_an_unattached_new_upload_is_flagged_at_once(city):
    owner_1, _ = _owners(city)
    data = encode(picture(21))
    first = evidence_photo_attach(photo=create(city, data), owner=owner_1)
    assert find_reuse(create(city, data)) == [first]


def test_a_resized_and_recompressed_copy_is_flagged_by_its_perceptual_hash(city):
    owner_1, owner_2 = _owners(city)
    image = picture(22, (1024, 768))
    first = evidence_photo_attach(photo=create(city, encode(image, quality=92)), owner=owner_1)
    copy = encode(image.resize((700, 525)), quality=60)
    second = evidence_photo_attach(photo=create(city, copy), owner=owner_2)
    assert second.sha256 != first.sha256
    assert hamming(first.phash, second.phash) <= 6
    assert find_reuse(second) == [first]


def test_the_same_photo_at_another_school_is_flagged(city):
    data = encode(picture(23))
    first = create(city, data, school="a")
    second = create(city, data, school="c")
    assert find_reuse(second) == [first]


def test_a_different_photo_is_not_flagged(city):
    owner_1, owner_2 = _owners(city)
    first = evidence_photo_attach(photo=create(city, encode(picture(24))), owner=owner_1)
    second = evidence_photo_attach(photo=create(city, encode(picture(25))), owner=owner_2)
    assert hamming(first.phash, second.phash) > 6
    assert find_reuse(second) == []


def test_the_same_photo_twice_for_the_same_owner_and_school_is_not_flagged(city):
    owner_1, _ = _owners(city)
    data = encode(picture(26))
    evidence_photo_attach(photo=create(city, data), owner=owner_1)
    second = evidence_photo_attach(photo=create(city, data), owner=owner_1)
    assert find_reuse(second) == []


def test_a_photo_serves_one_owner(city):
    owner_1, owner_2 = _owners(city)
    photo = evidence_photo_attach(photo=create(city, encode(picture(27))), owner=owner_1)
    evidence_photo_attach(photo=photo, owner=owner_1)  # attaching again to the same owner is harmless
    with pytest.raises(ValidationError):
        evidence_photo_attach(photo=photo, owner=owner_2)


def test_find_reuse_is_one_query(city, django_assert_num_queries):
    data = encode(picture(28))
    for school in ("a", "b", "c"):
        latest = create(city, data, school=school)
    with django_assert_num_queries(1):
        assert len(find_reuse(latest)) == 2


def test_band_lookup_finds_every_hash_within_the_distance():
    """Multi-index hashing is exact: any hash within d bits shares a band within d // 4 bits."""
    rng = random.Random(2026)
    for _ in range(400):
        distance = rng.randrange(0, 12)
        a = rng.getrandbits(64)
        b = a
        for bit in rng.sample(range(64), distance):
            b ^= 1 << bit
        ha, hb = f"{a:016x}", f"{b:016x}"
        assert hamming(ha, hb) == distance
        radius = distance // BANDS
        assert any(
            band_b in _neighbours(band_a, radius) for band_a, band_b in zip(bands(ha), bands(hb), strict=True)
        )


def test_find_reuse_refuses_an_unsupported_distance(city):
    photo = create(city, encode(picture(29)))
    with pytest.raises(ValueError):
        find_reuse(photo, max_distance=20)


# --- who may see the photos ----------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["stamped.jpg", "thumb.jpg"])
def test_the_served_images_are_scoped_to_the_school(client, city, variant):
    photo = create(city, encode(picture(30)), school="a")
    url = f"/evidence/{photo.pk}/{variant}"

    client.force_login(city.users[Role.LIAISON])  # school_a
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == raw(
        photo.stamped if variant == "stamped.jpg" else photo.thumbnail
    )

    client.force_login(city.outsider)  # school_c's liaison
    assert client.get(url).status_code == 404

    client.logout()
    assert client.get(url).status_code == 302


def test_a_photo_without_a_school_is_seen_by_its_uploader_and_the_bureau_only(client, city):
    photo = create(city, encode(picture(31)), school=None, user=city.users[Role.TEACHER])
    url = f"/evidence/{photo.pk}/stamped.jpg"
    for user, status in (
        (city.users[Role.TEACHER], 200),
        (city.users[Role.OFFICE], 200),
        (city.users[Role.LIAISON], 404),
        (city.outsider, 404),
    ):
        client.force_login(user)
        assert client.get(url).status_code == status, user.username
    assert set(visible_photos(city.users[Role.LIAISON])) == set()


def test_a_missing_photo_is_404(client, city):
    client.force_login(city.users[Role.OFFICE])
    assert client.get("/evidence/999999/stamped.jpg").status_code == 404
