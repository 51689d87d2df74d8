"""Synthetic library rows for the 1M-file benchmarks (deterministic for a given seed).

What a home folder of a million files looks like, roughly: a third camera photos
(``IMG_1234.JPG``, ``PXL_20230514_101112345.jpg``, screenshots) in dated event folders,
source trees with many small files, music in artist/album folders, documents and
downloads named with words and dates. Sizes are log-normal per kind, ~10% of the files are
byte-for-byte copies of an earlier one (same hash and size), ~1% are not hashed yet and
~1% are in the bin. A few hundred tags in a three-level tree label ~30% of the files,
popular tags far more often than rare ones (Zipf-like).

Rows come in batches of plain tuples in ``FILE_COLUMNS`` order, with Python values
(``uuid.UUID``, aware ``datetime``); the loaders convert them to each driver's form.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from filemeta_gui.services.indexer.content_type import split_extension

FILE_COLUMNS = (
    "id", "filename", "file_path", "file_size", "content_type", "extension", "upload_time",
    "mtime_ns", "hash_value", "thumbnail_path", "inode", "device", "deleted_at", "folder_id",
    "version",
)  # fmt: skip
HOME = "/home/alex"


def _words(text: str) -> list[str]:
    return text.split()


ROOTS = ("Pictures", "Videos", "Music", "Documents", "src", "Downloads", "Archive")
RARE_WORD = "zanzibar"
"""Appears in about 60 file names: the benchmarks' rare search term."""

WORDS = _words("""
alpine amber anchor apple april arch atlas august autumn avenue bakery balcony bamboo
banner basil bay beach bench berry birthday blue bonfire bridge brook budget cabin cafe
camp canal canyon carnival castle cedar chapel cherry christmas citrus city cliff cloud
coast coffee concert coral cottage county creek crystal dawn delta desert diary dinner
dolphin draft dune eagle easter echo ember estate falcon family farm feast fern festival
field fjord forest fountain fox garden geyser glacier graduation granite grove habour
harbor harvest hazel heron hiking hill holiday honey horizon island ivy jade january
journey july june jungle kayak kitchen lagoon lake lantern lava lemon library lighthouse
lily maple march marina market meadow mesa mill mint monday moon mountain museum
november oak ocean october olive orchard palm park pasta peak pebble picnic pier pine
plaza pond poppy quarry rain ranch reef report ridge river road rock rose safari sail
sand school september shell shore sky snow spring spruce stone storm street summer
sunset swan temple terrace thunder tide timber tower trail tulip valley village
vineyard volcano wedding willow winter zoo
""")
FIRST_NAMES = _words("anna ben carla dan eva finn gina hugo ines jonas kim leo mia noah")
DOC_KINDS = _words("invoice receipt contract report notes letter minutes budget plan cv")
CODE_NAMES = _words("""
main utils helpers config models views tests api client server parser lexer index
router store schema types errors cache logger worker queue handler service
""")
CODE_EXTS = (
    (".py", "text/x-python"), (".js", "text/javascript"), (".ts", "video/mp2t"),
    (".c", "text/x-c"), (".h", "text/x-c"), (".rs", "text/x-rust"), (".go", "text/x-go"),
    (".json", "application/json"), (".md", "text/markdown"), (".html", "text/html"),
    (".css", "text/css"), (".o", "application/octet-stream"),
)  # fmt: skip
_OFFICE = "application/vnd.openxmlformats-officedocument"
DOC_EXTS = (
    (".pdf", "application/pdf"), (".docx", f"{_OFFICE}.wordprocessingml.document"),
    (".xlsx", f"{_OFFICE}.spreadsheetml.sheet"),
    (".odt", "application/vnd.oasis.opendocument.text"), (".txt", "text/plain"),
    (".md", "text/markdown"),
)  # fmt: skip
DOWNLOAD_EXTS = (
    (".zip", "application/zip"), (".pdf", "application/pdf"),
    (".iso", "application/x-iso9660-image"), (".tar.gz", "application/gzip"),
    (".exe", "application/x-msdownload"), (".deb", "application/vnd.debian.binary-package"),
    ("", "application/octet-stream"),
)  # fmt: skip
MUSIC_EXTS = ((".mp3", "audio/mpeg"), (".flac", "audio/flac"), (".m4a", "audio/mp4"))
# kind, share of files, median size, log-normal sigma
KINDS = (
    ("photo", 0.34, 3_000_000, 0.6), ("screenshot", 0.03, 400_000, 0.7),
    ("video", 0.03, 80_000_000, 1.2), ("music", 0.10, 6_000_000, 0.5),
    ("document", 0.10, 150_000, 1.5), ("code", 0.32, 6_000, 1.3),
    ("download", 0.04, 5_000_000, 2.0), ("archive", 0.04, 50_000, 2.0),
)  # fmt: skip
DUPLICATE_SHARE = 0.10
UNHASHED_SHARE = 0.01
DELETED_SHARE = 0.01
TAGGED_SHARE = 0.30
TAG_ROOTS = _words("people places events projects status years camera colors rating topics")
TAG_COUNT = 300  # at most: the tag names are unique words (239 of them)
EPOCH = datetime(2016, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class LibrarySpec:
    files: int = 1_000_000
    seed: int = 8
    batch: int = 50_000


@dataclass(frozen=True, slots=True)
class TagRow:
    id: uuid.UUID
    name: str
    parent_id: uuid.UUID | None


def folder_ids(seed: int) -> dict[str, uuid.UUID]:
    rng = random.Random(seed * 7 + 1)
    return {root: uuid.UUID(int=rng.getrandbits(128), version=4) for root in ROOTS}


def make_tags(seed: int) -> list[TagRow]:
    """``TAG_COUNT`` tags with unique names: 10 roots, 40 children, the rest grandchildren."""
    rng = random.Random(seed * 7 + 2)
    names = WORDS + FIRST_NAMES + [str(year) for year in range(1990, 2027)]
    rng.shuffle(names)
    tags = [TagRow(_uuid(rng), name, None) for name in TAG_ROOTS]
    for index, name in enumerate(names[: TAG_COUNT - len(TAG_ROOTS)]):
        parents = tags[: len(TAG_ROOTS)] if index < 40 else tags[len(TAG_ROOTS) : 50]
        tags.append(TagRow(_uuid(rng), name, rng.choice(parents).id))
    return tags


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


class LibraryGenerator:
    """Yields batches of file rows, then the tag links of those files."""

    def __init__(self, spec: LibrarySpec) -> None:
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.folders = folder_ids(spec.seed)
        self.tags = make_tags(spec.seed)
        self.sizes = array("q")
        self.links: list[tuple[uuid.UUID, uuid.UUID]] = []
        self._paths: set[str] = set()
        self._rare_every = max(spec.files // 60, 1)
        self._weights = [1 / (rank + 1) for rank in range(len(self.tags))]
        self.rng.shuffle(self._weights)

    def batches(self) -> Iterator[list[tuple[object, ...]]]:
        for start in range(0, self.spec.files, self.spec.batch):
            count = min(self.spec.batch, self.spec.files - start)
            yield [self._row(index) for index in range(start, start + count)]

    def tag_links(self) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """(file id, tag id) pairs, available once every batch was consumed."""
        return self.links

    def _row(self, index: int) -> tuple[object, ...]:
        rng = self.rng
        kind, _share, median, sigma = _pick_kind(rng)
        root, folder, filename, content_type = _NAMERS[kind](rng, index)
        if index % self._rare_every == 7:
            filename = f"{RARE_WORD}_{filename}"
        path = "/".join(part for part in (HOME, root, folder, filename) if part)
        if path in self._paths:  # a second IMG_1234.JPG in one folder: a copy's name
            stem, dot, ext = filename.rpartition(".")
            filename = f"{stem} ({index}).{ext}" if dot else f"{filename} ({index})"
            path = "/".join(part for part in (HOME, root, folder, filename) if part)
        self._paths.add(path)
        size, digest = self._content(index, median, sigma)
        upload = EPOCH + timedelta(days=3000, seconds=index * 20 + rng.uniform(0, 10))
        file_id = _uuid7(upload, rng)
        if rng.random() < TAGGED_SHARE:
            for tag in set(rng.choices(self.tags, self._weights, k=rng.choice((1, 1, 2, 3)))):
                self.links.append((file_id, tag.id))
        mtime = EPOCH + timedelta(seconds=rng.uniform(0, 3.2e8))
        thumb = f"{HOME}/.cache/filemeta/thumbs/{index % 256:02x}/{index:08x}.jpg"
        return (
            file_id, filename, path, size, content_type, split_extension(filename), upload,
            int(mtime.timestamp()) * 1_000_000_000, digest,
            thumb if kind == "photo" and rng.random() < 0.5 else None, 10_000_000 + index,
            2049, upload + timedelta(days=30) if rng.random() < DELETED_SHARE else None,
            self.folders[root], 1,
        )  # fmt: skip

    def _content(self, index: int, median: int, sigma: float) -> tuple[int, str | None]:
        rng = self.rng
        if index > 100 and rng.random() < DUPLICATE_SHARE:
            original = rng.randrange(index)
            size = self.sizes[original]
            digest: str | None = _digest(self.spec.seed, original)
        else:
            size = max(int(rng.lognormvariate(0, sigma) * median), 0)
            digest = _digest(self.spec.seed, index)
        self.sizes.append(size)
        if rng.random() < UNHASHED_SHARE:
            digest = None
        return size, digest


def _uuid7(when: datetime, rng: random.Random) -> uuid.UUID:
    """A time-ordered id (RFC 9562 version 7), as the indexer makes them."""
    millis = int(when.timestamp() * 1000)
    bits = millis << 80 | 0x7 << 76 | rng.getrandbits(12) << 64 | 0b10 << 62
    return uuid.UUID(int=bits | rng.getrandbits(62))


def _digest(seed: int, index: int) -> str:
    return hashlib.sha256(f"{seed}:{index}".encode()).hexdigest()


def _pick_kind(rng: random.Random) -> tuple[str, float, int, float]:
    point = rng.random()
    for kind in KINDS:
        point -= kind[1]
        if point < 0:
            return kind
    return KINDS[-1]


def _date(rng: random.Random) -> datetime:
    return EPOCH + timedelta(seconds=rng.uniform(0, 3.2e8))


def _photo(rng: random.Random, index: int) -> tuple[str, str, str, str]:
    day = _date(rng)
    event = " ".join(rng.sample(WORDS, rng.choice((1, 2))))
    folder = f"{day:%Y}/{day:%Y-%m-%d} {event}"
    style = rng.random()
    if style < 0.45:
        name, ext, ctype = f"IMG_{index % 10000:04d}", ".JPG", "image/jpeg"
    elif style < 0.65:
        name, ext, ctype = f"DSC_{index % 10000:04d}", ".JPG", "image/jpeg"
    elif style < 0.85:
        name, ext, ctype = f"PXL_{day:%Y%m%d_%H%M%S}{index % 1000:03d}", ".jpg", "image/jpeg"
    elif style < 0.95:
        name, ext, ctype = f"IMG_{day:%Y%m%d_%H%M%S}", ".heic", "image/heic"
    else:
        name, ext, ctype = f"{event.replace(' ', '_')}_{index % 1000}", ".png", "image/png"
    return "Pictures", folder, name + ext, ctype


def _screenshot(rng: random.Random, index: int) -> tuple[str, str, str, str]:
    day = _date(rng)
    name = f"Screenshot {day:%Y-%m-%d} at {day:%H.%M.%S}.png"
    return "Pictures", f"Screenshots/{day:%Y}", name, "image/png"


def _video(rng: random.Random, index: int) -> tuple[str, str, str, str]:
    day = _date(rng)
    if rng.random() < 0.6:
        return "Videos", f"{day:%Y}", f"VID_{day:%Y%m%d_%H%M%S}.mp4", "video/mp4"
    folder = f"{day:%Y}/{rng.choice(WORDS)}"
    return "Videos", folder, f"MOV_{index % 10000:04d}.MOV", "video/quicktime"


def _music(rng: random.Random, index: int) -> tuple[str, str, str, str]:
    artist = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()}"
    album = " ".join(w.title() for w in rng.sample(WORDS, rng.choice((1, 2, 3))))
    ext, ctype = rng.choice(MUSIC_EXTS)
    title = " ".join(w.title() for w in rng.sample(WORDS, rng.choice((1, 2, 3))))
    return "Music", f"{artist}/{album}", f"{index % 20 + 1:02d} - {title}{ext}", ctype


def _document(rng: random.Random, index: int) -> tuple[str, str, str, str]:
    day = _date(rng)
    kind = rng.choice(DOC_KINDS)
    ext, ctype = rng.choice(DOC_EXTS)
    area = rng.choice(("Work", "Home", "Taxes", "School", "Projects"))
    suffix = rng.choice(("", "", "_final", "_v2", f"_{rng.choice(FIRST_NAMES)}"))
    name = f"{kind}_{day:%Y_%m}_{rng.choice(WORDS)}{suffix}{ext}"
    return "Documents", f"{area}/{day:%Y}", name, ctype


def _code(rng: random.Random, index: int) -> tuple[str, str, str, str]:
    project = f"{rng.choice(WORDS)}-{rng.choice(CODE_NAMES)}"
    depth = "/".join(rng.choice(CODE_NAMES) for _ in range(rng.choice((1, 2, 3, 4))))
    ext, ctype = rng.choice(CODE_EXTS)
    name = f"{rng.choice(CODE_NAMES)}_{rng.choice(WORDS)}{ext}"
    if rng.random() < 0.3:
        name = f"{rng.choice(CODE_NAMES)}{index % 97}{ext}"
    return "src", f"{project}/{depth}", name, ctype


def _download(rng: random.Random, index: int) -> tuple[str, str, str, str]:
    ext, ctype = rng.choice(DOWNLOAD_EXTS)
    words = "-".join(rng.sample(WORDS, 2))
    name = f"{words}-v{rng.randrange(1, 40)}{ext}"
    folder = "" if rng.random() < 0.7 else rng.choice(("old", "installers", "papers"))
    return "Downloads", folder, name, ctype


def _archive(rng: random.Random, index: int) -> tuple[str, str, str, str]:
    day = _date(rng)
    inner = _NAMERS[rng.choice(("photo", "document", "code"))](rng, index)
    return "Archive", f"backup-{day:%Y-%m}/{inner[0]}/{inner[1]}", inner[2], inner[3]


_NAMERS = {
    "photo": _photo, "screenshot": _screenshot, "video": _video, "music": _music,
    "document": _document, "code": _code, "download": _download, "archive": _archive,
}  # fmt: skip
