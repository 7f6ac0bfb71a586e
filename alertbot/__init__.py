"""alertbot: Telegram and email alerts for watched keywords in Arabic news."""
