"""Finding, and on a user's machine installing, the camel-tools morphology database.

camel-tools keeps its data under `$CAMELTOOLS_DATA`, or `~/.camel_tools` when that is
unset, and importing `camel_tools.morphology.database` reads `catalogue.json` from there,
fetching it from the network when it is missing. So nothing here imports camel-tools
until the files are known to be in place, or until the user's command has asked for the
install, which is an explicit step with progress on stderr.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from alertbot.errors import CamelDataError

DATABASE_NAME = "calima-msa-r13"
PACKAGE_NAME = "morphology-db-msa-r13"

_HOW_TO = (
    "Install it on a machine with internet with `uv run camel_data -i morphology-db-msa-r13`, "
    "or copy a camel-tools data folder (with catalogue.json and "
    "data/morphology_db/calima-msa-r13/morphology.db) and point CAMELTOOLS_DATA at it."
)


@dataclass(frozen=True)
class CamelData:
    """Where camel-tools' data folder is, and the morphology database inside it."""

    root: Path

    @property
    def catalogue(self) -> Path:
        """The catalogue camel-tools reads when it is imported."""
        return self.root / "catalogue.json"

    @property
    def database(self) -> Path:
        """The calima-msa-r13 morphology database file."""
        return self.root / "data" / "morphology_db" / DATABASE_NAME / "morphology.db"

    def is_installed(self) -> bool:
        """True when both the catalogue and the database file are present."""
        return self.catalogue.is_file() and self.database.is_file()


def camel_data_dir(environ: dict[str, str] | os._Environ[str] = os.environ) -> CamelData:
    """The data folder camel-tools will use: `$CAMELTOOLS_DATA` or `~/.camel_tools`."""
    configured = environ.get("CAMELTOOLS_DATA")
    root = Path(configured).expanduser() if configured else Path.home() / ".camel_tools"
    return CamelData(root.absolute())


def require_installed(data: CamelData) -> CamelData:
    """Return `data` if the database is there, else raise with what to do."""
    if not data.is_installed():
        missing = data.catalogue if not data.catalogue.is_file() else data.database
        raise CamelDataError(
            f"the camel-tools morphology database ({DATABASE_NAME}) is not installed: "
            f"{missing} does not exist. {_HOW_TO}"
        )
    return data


def install(data: CamelData) -> CamelData:
    """Download the database with camel-tools' own downloader, showing its progress."""
    if data.is_installed():
        return data
    print(
        f"alertbot: installing the camel-tools morphology database ({DATABASE_NAME}, "
        f"about 40 MB) into {data.root} — this happens once.",
        file=sys.stderr,
    )
    # camel-tools reads CAMELTOOLS_DATA when its data module is first imported.
    os.environ["CAMELTOOLS_DATA"] = str(data.root)
    try:
        # Importing camel_tools.data downloads the catalogue when it is missing, so its own
        # error types (DownloaderError, CatalogueError) cannot be imported before this.
        from camel_tools.data import CATALOGUE

        CATALOGUE.download_package(PACKAGE_NAME, print_status=True)
    except Exception as exc:
        if not _is_download_failure(exc):
            raise
        raise CamelDataError(
            f"could not download the camel-tools morphology database into {data.root} "
            f"({type(exc).__name__}: {exc}). {_HOW_TO}"
        ) from exc
    return require_installed(data)


def _is_download_failure(exc: BaseException) -> bool:
    import requests

    return isinstance(exc, OSError | requests.RequestException) or (
        type(exc).__module__.startswith("camel_tools.data")
        and type(exc).__name__ in ("DownloaderError", "CatalogueError")
    )
