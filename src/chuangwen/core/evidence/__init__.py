"""Evidence photos: check an upload by its content, re-encode it, stamp it, and spot reused photos.

An upload is hostile until proven otherwise: it is accepted only when its magic bytes say JPEG, PNG or
WebP *and* Pillow agrees, within a byte and a pixel limit. What is stored is never the uploaded file
itself but a re-encoding without any metadata (EXIF, GPS, XMP, ICC, text chunks), with the EXIF
orientation applied. The SHA-256 of the uploaded bytes and the camera's capture time are kept on the
row, so the evidence value of the original survives the stripping.

Reuse: the same bytes (SHA-256) or a near-same picture (perceptual hash within a Hamming distance)
that already serves another owner or another school is reported by `find_reuse`. Near matches use
multi-index hashing: the 64-bit hash is stored as four indexed 16-bit bands; two hashes within
distance d must agree within d // 4 bits on at least one band (pigeonhole), so the candidates are the
rows whose band equals one of the few values that close to ours: an indexed IN lookup, exact, with
no full scan.
"""

from .images import REFUSAL_CODES, check
from .selectors import REUSE_MESSAGE, find_reuse, visible_photos
from .services import evidence_photo_attach, evidence_photo_create

__all__ = [
    "REFUSAL_CODES",
    "REUSE_MESSAGE",
    "check",
    "evidence_photo_attach",
    "evidence_photo_create",
    "find_reuse",
    "visible_photos",
]
