"""Stories: the same news from another outlet, or lightly rewritten, is one story.

    fingerprint.py   Fingerprint: MinHash of content-word shingles + content hash
    index.py         StoryIndex: which recent story a fingerprint joins

The package itself holds only `StoryId` and `WINDOW`, so the store and `alertbot status`
can name them without loading numpy and datasketch.
"""

from datetime import timedelta
from typing import NewType

StoryId = NewType("StoryId", int)  # a story's id: the store's row id
WINDOW = timedelta(days=3)  # a story is joined, or related to, within this of its latest article
