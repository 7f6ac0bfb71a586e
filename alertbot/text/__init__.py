"""Reading Arabic (and Latin and Cyrillic) text: pure functions of strings.

normalize.py   folding: diacritics, tatweel, alef/hamza, ta marbuta, digits, case
tokenize.py    words with their offsets; the one rule for sentence and line breaks
lemmatize.py   camel-tools readings: lemmas and clitic-stripped stems, cached
sanitize.py    outside text made safe: no terminal escapes, controls or bidi overrides
"""
