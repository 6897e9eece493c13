"""Running Mend: the process lifecycle, its clock, its logs and its command line (app.py only composes)."""
