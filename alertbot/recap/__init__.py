"""The recap: every story alerted in a period, grouped by watch.

build.py    Recap, day_bounds, build_recap: what a recap lists, read from the store
render.py   how it reads: plain text, Telegram HTML, the email
daily.py    DailyRecap: the email recap, once per local day
"""
