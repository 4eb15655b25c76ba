"""``python -m toyjax``: the same as the ``toyjax`` console script."""

from toyjax.cli import main

if __name__ == "__main__":
    main()
