"""`python -m alertbot`."""

from alertbot.cli import main

if __name__ == "__main__":
    main()
