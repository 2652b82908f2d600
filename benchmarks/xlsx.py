"""Excel speed: write with xlsxwriter (constant_memory) and openpyxl (write_only), read
with python-calamine and openpyxl (read_only). `python benchmarks/xlsx.py [--rows N]`."""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import openpyxl
import python_calamine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.machine import describe
from sentiment.xlsxwrite import XlsxTable

WORDS = ("the", "staff", "were", "lovely", "and", "food", "was", "wonderful", "but", "awful")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    rows_n = parser.parse_args().rows
    print(describe(threads=1, what="threads"))
    rng = random.Random(1)
    rows = [
        [i, " ".join(rng.choices(WORDS, k=20)), float(rng.randint(1, 5))] for i in range(rows_n)
    ]
    with tempfile.TemporaryDirectory() as folder:
        ours, theirs = Path(folder) / "a.xlsx", Path(folder) / "b.xlsx"
        started = time.perf_counter()
        with XlsxTable(ours, ["id", "text", "stars"]) as table:
            for row in rows:
                table.write(row)
        print(
            f"xlsxwriter constant_memory: {rows_n:,} rows in {time.perf_counter() - started:.2f} s"
        )
        started = time.perf_counter()
        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet()
        for row in rows:
            sheet.append(row)
        book.save(theirs)
        print(
            f"openpyxl write_only:        {rows_n:,} rows in {time.perf_counter() - started:.2f} s"
        )
        started = time.perf_counter()
        found = python_calamine.CalamineWorkbook.from_path(str(ours)).get_sheet_by_name("results")
        n = sum(1 for _ in found.iter_rows())
        print(f"python-calamine read:       {n:,} rows in {time.perf_counter() - started:.2f} s")
        started = time.perf_counter()
        read = openpyxl.load_workbook(ours, read_only=True)
        n = sum(1 for _ in read["results"].iter_rows(values_only=True))
        print(f"openpyxl read_only read:    {n:,} rows in {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
