"""Watches: queries parsed once, matched against many articles, with spans to quote.

query.py     the query grammar: Phrase, Near, And, Or, Not; one walker over the tree
match.py     Matcher: compiled watches, spans into the original text
snippet.py   the sentence an alert quotes, with the matches marked
"""
