"""Stories: the same news from another outlet, or lightly rewritten, is one story.

    fingerprint.py   Fingerprint: MinHash of content-word shingles + content hash
    cluster.py       Clusterer: joined, related or new (TF-IDF story centroids)
    vectors.py       the terms of an article, furniture, document frequencies
    stream.py        a stream of articles clustered from a fresh state (alertbot stories)

The package itself holds only `StoryId` and `WINDOW`, so the store and `alertbot status`
can name them without loading numpy.
"""

from datetime import timedelta
from typing import NewType

StoryId = NewType("StoryId", int)  # a story's id: the store's row id
WINDOW = timedelta(days=3)  # a story is joined, or related to, within this of its latest article
