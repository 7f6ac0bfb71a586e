"""Reading Arabic (and Latin and Cyrillic) text: pure functions of strings, and the
morphology database they read, with its caches under the state folder.

normalize.py       folding: diacritics, tatweel, alef/hamza, ta marbuta, digits, case
tokenize.py        words with their offsets; the one rule for sentence and line breaks
lemmatize.py       camel-tools readings: lemmas and clitic-stripped stems, cached
paradigms.py       Latin and Cyrillic query words: Russian case forms, English plurals, accents
morphology_db.py   camel-tools' database, holding only the features those readings need
tables_file.py     its parsed tables, kept between starts
analysis_cache.py  the analyses of word forms, kept across restarts (SQLite)
provenance.py      what those two were built from, to know when they are stale
sanitize.py        outside text made safe: no terminal escapes, controls or bidi overrides
"""
