"""What each photo a user sent told (vector, colours, printed text), by id, on disk: "cheaper" after a photo searches
again without the photo being sent again."""

from __future__ import annotations

from pathlib import Path

from recsys.photo.search import PhotoQuery


class PhotoVectors:
    """What each photo told (vector, colours) by id, on disk, so "cheaper" after a photo can search again without it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def save(self, photo_id: str, query: PhotoQuery) -> None:
        (self.folder / f"{Path(photo_id).name}.npz").write_bytes(query.to_bytes())

    def load(self, photo_id: str) -> PhotoQuery | None:
        name = Path(photo_id).name  # the model fills this in: never a path
        for path in (self.folder / f"{name}.npz", self.folder / f"{name}.npy"):
            if path.is_file():
                try:
                    return PhotoQuery.from_file(path)
                except (OSError, ValueError, KeyError):
                    return None
        return None
