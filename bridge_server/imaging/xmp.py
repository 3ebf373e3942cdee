"""XMP packets (rating, colour label, keywords): build, embed via Pillow, merge into sidecars,
rewrite inside an exported JPEG.

The app owns `xmp:Rating` and its own label and keywords; everything else in a packet or sidecar
(other programs' fields, keywords and labels they wrote) is kept. Which label and keywords the
app wrote last is recorded in its own namespace (`autodev:Label`, `autodev:Keywords`), so that
a label cleared or a keyword removed in the app is removed from the file, and only then.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

from .atomic import open_temp, remove_quietly
from .errors import ExportError

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "autodev": "http://ns.autodev-bridge.app/xmp/1.0/",
}
JPEG_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
LABELS = ("Red", "Yellow", "Green", "Blue", "Purple")  # the colour labels Lightroom ships
_PACKET_BEGIN = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
_PACKET_END = '\n<?xpacket end="w"?>'

_RDF_DESC = f"{{{NS['rdf']}}}Description"
_RATING = f"{{{NS['xmp']}}}Rating"
_LABEL = f"{{{NS['xmp']}}}Label"
_SUBJECT = f"{{{NS['dc']}}}subject"
_OUR_LABEL = f"{{{NS['autodev']}}}Label"
_OUR_KEYWORDS = f"{{{NS['autodev']}}}Keywords"
REJECTED_RATING = -1  # how Lightroom and darktable read a rejected photo

for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)


def _validate(rating: int, label: str | None, keywords: Iterable[str]) -> list[str]:
    if isinstance(rating, bool) or not isinstance(rating, int) or not -1 <= rating <= 5:
        raise ValueError(f"rating must be an integer -1 (rejected) to 5, not {rating!r}")
    if label is not None and not isinstance(label, str):
        raise ValueError(f"label must be a string, not {label!r}")
    out: list[str] = []
    for kw in keywords:
        kw = str(kw).strip()
        if kw and kw not in out:
            out.append(kw)
    return out


def _empty_document() -> ET.Element:
    root = ET.Element(f"{{{NS['x']}}}xmpmeta")
    rdf = ET.SubElement(root, f"{{{NS['rdf']}}}RDF")
    ET.SubElement(rdf, _RDF_DESC, {f"{{{NS['rdf']}}}about": ""})
    return root


def label_name(color_label: str | None) -> str | None:
    """`red` -> `Red`: the label names Lightroom ships."""
    return color_label.capitalize() if color_label else None


def _ours(desc: ET.Element) -> tuple[str | None, list[str]]:
    """The label and keywords the app wrote last into this description."""
    words: list[str] = []
    with contextlib.suppress(ValueError, TypeError):
        loaded = json.loads(desc.get(_OUR_KEYWORDS) or "[]")
        words = [w for w in loaded if isinstance(w, str)]
    return desc.get(_OUR_LABEL) or None, words


def _merge(root: ET.Element, rating: int, label: str | None, keywords: list[str]) -> None:
    """Set the rating, the app's label (None: none; a label another program wrote stays) and
    the app's keywords (those it wrote before and no longer has are removed); keep the rest."""
    descriptions = list(root.iter(_RDF_DESC))
    if not descriptions:
        rdf = root if root.tag == f"{{{NS['rdf']}}}RDF" else root.find(f".//{{{NS['rdf']}}}RDF")
        if rdf is None:
            raise ValueError("no rdf:RDF element")
        descriptions = [ET.SubElement(rdf, _RDF_DESC, {f"{{{NS['rdf']}}}about": ""})]
    target = descriptions[0]
    our_label, our_keywords = _ours(target)
    current_label = next(
        (v for d in descriptions for v in (d.get(_LABEL), d.findtext(_LABEL)) if v), None
    )
    replace_label = label is not None or (our_label is not None and current_label == our_label)
    # Remove every other spelling (attribute or element) so exactly one value remains.
    tags = (_RATING, _LABEL) if replace_label else (_RATING,)
    for desc in descriptions:
        for tag in tags:
            desc.attrib.pop(tag, None)
            for child in desc.findall(tag):
                desc.remove(child)
    # Our own attributes are set again after the rating, so the attribute order (and so the
    # bytes) of a packet that already says this is unchanged: no needless rewrite.
    target.attrib.pop(_OUR_LABEL, None)
    target.attrib.pop(_OUR_KEYWORDS, None)
    target.set(_RATING, str(rating))
    if label:
        target.set(_LABEL, label)
    _merge_keywords(descriptions, target, keywords, set(our_keywords) - set(keywords))
    if label:
        target.set(_OUR_LABEL, label)
    else:
        target.attrib.pop(_OUR_LABEL, None)
    target.set(_OUR_KEYWORDS, json.dumps(keywords, ensure_ascii=False))


def _merge_keywords(
    descriptions: list[ET.Element], target: ET.Element, keywords: list[str], dropped: set[str]
) -> None:
    subject = next((d.find(_SUBJECT) for d in descriptions if d.find(_SUBJECT) is not None), None)
    if subject is None:
        if not keywords:
            return
        subject = ET.SubElement(target, _SUBJECT)
    bag = subject.find(f"{{{NS['rdf']}}}Bag")
    if bag is None:
        bag = subject.find(f"{{{NS['rdf']}}}Seq")
    if bag is None:
        bag = ET.SubElement(subject, f"{{{NS['rdf']}}}Bag")
    for li in bag.findall(f"{{{NS['rdf']}}}li"):
        if (li.text or "").strip() in dropped:
            bag.remove(li)
    present = {(li.text or "").strip() for li in bag.findall(f"{{{NS['rdf']}}}li")}
    for kw in keywords:
        if kw not in present:
            ET.SubElement(bag, f"{{{NS['rdf']}}}li").text = kw


def _serialise(root: ET.Element) -> bytes:
    ET.indent(root, space=" ")
    return (_PACKET_BEGIN + ET.tostring(root, encoding="unicode") + _PACKET_END).encode("utf-8")


def build_packet(rating: int, label: str | None, keywords: Iterable[str]) -> bytes:
    """A complete XMP packet (UTF-8) with xmp:Rating, xmp:Label and dc:subject."""
    root = _empty_document()
    _merge(root, rating, label, _validate(rating, label, keywords))
    return _serialise(root)


def _parse(data: bytes) -> ET.Element:
    # Register the file's own prefixes so foreign namespaces keep their familiar names.
    for _event, (prefix, uri) in ET.iterparse(io.BytesIO(data), events=("start-ns",)):
        with contextlib.suppress(ValueError):  # "ns0"-style prefixes are reserved by ElementTree
            if prefix and prefix not in NS:
                ET.register_namespace(prefix, uri)
    return ET.fromstring(data)


def read_fields(data: bytes) -> dict[str, Any]:
    """Rating, label and keywords from an XMP packet or sidecar (None / [] when absent)."""
    root = _parse(data)
    rating: int | None = None
    label: str | None = None
    keywords: list[str] = []
    for desc in root.iter(_RDF_DESC):
        value = desc.get(_RATING) or desc.findtext(_RATING)
        if value is not None and rating is None:
            with contextlib.suppress(ValueError):
                rating = int(float(value))
        label = label or desc.get(_LABEL) or desc.findtext(_LABEL)
        for li in desc.iterfind(f"{_SUBJECT}/*/{{{NS['rdf']}}}li"):
            if li.text and li.text.strip() not in keywords:
                keywords.append(li.text.strip())
    return {"rating": rating, "label": label, "keywords": keywords}


def sidecar_path(raw_path: str) -> str:
    """IMG_0001.CR2 -> IMG_0001.xmp (an existing IMG_0001.XMP is reused)."""
    base = os.path.splitext(raw_path)[0]
    for ext in (".xmp", ".XMP"):
        if os.path.exists(base + ext):
            return base + ext
    return base + ".xmp"


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size


def write_sidecar(raw_path: str, rating: int, label: str | None, keywords: Iterable[str]) -> str:
    """Merge rating/label/keywords into the RAW's XMP sidecar (created if absent); atomic."""
    kws = _validate(rating, label, keywords)
    path = sidecar_path(raw_path)
    for _attempt in range(3):
        before = _stamp(path)
        if before is None:
            root = _empty_document()
            mode = None
        else:
            with open(path, "rb") as fh:
                data = fh.read()
            mode = os.stat(path).st_mode & 0o7777
            try:
                root = _parse(data)
            except ET.ParseError as exc:
                raise ExportError(
                    f"existing sidecar is not valid XMP, left untouched: {path}"
                ) from exc
        try:
            _merge(root, rating, label, kws)
        except ValueError as exc:
            raise ExportError(f"existing sidecar has no RDF, left untouched: {path}") from exc
        payload = _serialise(root)
        tmp, out = open_temp(os.path.dirname(os.path.abspath(path)), os.path.basename(path))
        try:
            with out:
                out.write(payload)
                out.flush()
                os.fsync(out.fileno())
            if mode is not None:
                os.chmod(tmp, mode)
            # Another program (Lightroom, darktable) may have saved meanwhile: merge again.
            if _stamp(path) != before:
                remove_quietly(tmp)
                continue
            os.replace(tmp, path)
        except OSError as exc:
            remove_quietly(tmp)
            raise ExportError(f"cannot write sidecar {path}: {exc.strerror or exc}") from exc
        return path
    raise ExportError(f"sidecar kept changing while being updated, try again: {path}")


_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})  # markers without a length field
_SOS = 0xDA
_APP0, _APP1 = 0xE0, 0xE1
_MAX_SEGMENT = 0xFFFF


def _xmp_segment(data: bytes) -> tuple[int, int, bytes | None]:
    """(start, end, packet) of the JPEG's XMP segment; without one, where to insert it."""
    if data[:2] != b"\xff\xd8":
        raise ExportError("not a JPEG file")
    pos, insert_at = 2, 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ExportError("damaged JPEG: no segment marker where one belongs")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker == _SOS:
            break
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        payload = data[pos + 4 : end]
        if marker == _APP1 and payload.startswith(JPEG_XMP_HEADER):
            return pos, end, payload[len(JPEG_XMP_HEADER) :]
        if marker in (_APP0, _APP1):
            insert_at = end  # after JFIF and EXIF, where readers look for XMP
        pos = end
    return insert_at, insert_at, None


def read_jpeg_xmp(data: bytes) -> bytes | None:
    """The XMP packet embedded in a JPEG, if any."""
    return _xmp_segment(data)[2]


def rewrite_jpeg_xmp(data: bytes, rating: int, label: str | None, keywords: Iterable[str]) -> bytes:
    """The JPEG with rating, label and keywords merged into its XMP (pixels untouched)."""
    kws = _validate(rating, label, keywords)
    start, end, packet = _xmp_segment(data)
    try:
        root = _parse(packet) if packet else _empty_document()
        _merge(root, rating, label, kws)
    except (ET.ParseError, ValueError) as exc:
        raise ExportError(f"the exported file's XMP is not valid, left untouched: {exc}") from exc
    payload = JPEG_XMP_HEADER + _serialise(root)
    if len(payload) + 2 > _MAX_SEGMENT:
        raise ExportError("too many keywords to fit a JPEG's XMP segment")
    segment = bytes([0xFF, _APP1]) + (len(payload) + 2).to_bytes(2, "big") + payload
    return data[:start] + segment + data[end:]
