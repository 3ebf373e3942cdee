"""Write the sample photos the empty library offers ("Try with sample photos").

Run from the repository root: `.venv/bin/python resources/samples/make_samples.py`.
The photographs are scikit-image's bundled public-domain / CC0 images (see CREDITS.md),
upscaled to a 1600 px long edge and saved as JPEG q85 with camera-like EXIF.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import skimage.data
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.fixtures.photos import camera_exif

LONG_EDGE = 1600
QUALITY = 85
HERE = Path(__file__).resolve().parent

# file stem -> (loader, make, model, lens, focal, f-number, exposure, ISO, capture time)
SAMPLES = {
    "astronaut": (skimage.data.astronaut, "Canon", "Canon EOS R5", "RF24-70mm F2.8 L IS USM",
                  50.0, 2.8, (1, 250), 200, "2026:11:25 10:00:00"),
    "coffee": (skimage.data.coffee, "NIKON CORPORATION", "NIKON Z 6_2", "NIKKOR Z 35mm f/1.8 S",
               35.0, 1.8, (1, 60), 800, "2026:11:25 10:05:00"),
    "rocket": (skimage.data.rocket, "FUJIFILM", "X-T5", "XF16-55mmF2.8 R LM WR",
               16.0, 8.0, (1, 1000), 125, "2026:11:25 10:10:00"),
    "camera": (skimage.data.camera, "Leica Camera AG", "LEICA M11 Monochrom", "SUMMICRON-M 1:2/35",
               35.0, 5.6, (1, 500), 400, "2026:11:25 10:15:00"),
    "hubble": (skimage.data.hubble_deep_field, "NASA", "Hubble WFC3", "2.4 m Ritchey-Chretien",
               57600.0, 24.0, (1, 1), 100, "2026:11:25 10:20:00"),
}  # fmt: skip

CAT = ("SONY", "ILCE-7M4", "FE 85mm F1.8", 85.0, 2.0, (1, 500), 400)


def _upscale(arr: np.ndarray) -> Image.Image:
    im = Image.fromarray(arr).convert("RGB")
    scale = LONG_EDGE / max(im.size)
    return im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.LANCZOS)


def _save(im: Image.Image, name: str, exif: Image.Exif) -> None:
    im.save(HERE / f"{name}.jpg", "JPEG", quality=QUALITY, exif=exif.tobytes(), optimize=True)


def main() -> None:
    """Write every sample JPEG next to this script."""
    for name, (loader, make, model, lens, focal, fnum, exp, iso, when) in SAMPLES.items():
        _save(
            _upscale(loader()),
            name,
            camera_exif(make, model, lens, focal, fnum, exp, iso, when, "0"),
        )
    # A three-frame burst of Chelsea the cat, 0.2 s apart: the second frame is the sharpest.
    cat = _upscale(skimage.data.chelsea())
    frames = [
        cat.filter(ImageFilter.GaussianBlur(2.5)),
        cat,
        cat.filter(ImageFilter.GaussianBlur(4)),
    ]
    for i, frame in enumerate(frames, start=1):
        shifted = frame.rotate(0, translate=(3 * i, 0), fillcolor=(0, 0, 0)).crop(
            (12, 0, frame.width, frame.height)
        )
        exif = camera_exif(*CAT, "2026:11:25 10:30:00", f"{i * 2}00")
        _save(shifted, f"chelsea_{i}", exif)


if __name__ == "__main__":
    main()
