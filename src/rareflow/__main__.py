"""``python -m rareflow``: the ``rareflow`` command line."""

from rareflow.cli import main

if __name__ == "__main__":
    main(prog_name="rareflow")
