"""The Telegram bot: how alerts read there, and the commands that manage watches."""
