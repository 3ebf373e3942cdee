"""Content hashes: SHA-256 of the bytes, perceptual hashes of the pixels."""

from __future__ import annotations

import hashlib

import imagehash
from PIL import Image

CHUNK_SIZE = 1024 * 1024
# pHash only looks at a 32x32 reduction; shrinking first keeps the LANCZOS step cheap.
_PHASH_PRESHRINK = 256


def sha256_file(path: str) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def phash_hex(img: Image.Image) -> str:
    """64-bit DCT perceptual hash as 16 hex digits."""
    if max(img.size) > _PHASH_PRESHRINK:
        img = img.convert("L")
        img.thumbnail((_PHASH_PRESHRINK, _PHASH_PRESHRINK), Image.Resampling.BOX)
    return str(imagehash.phash(img))


def hash_distance(a_hex: str, b_hex: str) -> int:
    """Hamming distance between two hex hashes of equal length."""
    if len(a_hex) != len(b_hex):
        raise ValueError(f"hash lengths differ: {len(a_hex)} != {len(b_hex)}")
    return (int(a_hex, 16) ^ int(b_hex, 16)).bit_count()
