"""Stories: the same news from another outlet, or lightly rewritten, is one story.

    fingerprint.py   Fingerprint: MinHash of content-word shingles + content hash
    index.py         StoryIndex: which recent story a fingerprint joins

The package itself holds only `StoryId`, so the store can name story ids without loading
numpy and datasketch.
"""

from typing import NewType

StoryId = NewType("StoryId", int)  # a story's id: the store's row id
