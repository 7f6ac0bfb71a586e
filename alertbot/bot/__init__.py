"""The Telegram bot's commands: who may use them, what they do, the Application.

    commands.py       the command table, BotServices, the @command gate and helpers
    handlers.py       the chats' commands and buttons (/watch, /list, /mute, /recap, ...)
    admin.py          the admins' commands (/status, /addsource, /allow, ...)
    access.py         Gate: admins, allowed chats, group administrators, strangers
    service.py        WatchService and argument parsing, without Telegram
    subscriptions.py  /email and /verify
    runtime.py        the python-telegram-bot Application beside the scheduler

How alerts reach chats is not here: that is a delivery channel, `alertbot.notify.telegram`.
"""
