"""The operator's commands behind `python app.py <command>` (see `python app.py --help`)."""
