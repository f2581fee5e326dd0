"""Spreadsheets and CSV files written from user data, safe to open.

Names of partners, products, serials and meters, and the cells of an imported
file, are typed by users: a name starting with ``=`` must stay that text in
the file, never become a formula (``=HYPERLINK(...)``, ``=cmd|...``) run by
the spreadsheet of whoever opens the export.
"""

# xlsxwriter writes strings as strings, never as formulas or hyperlinks (the
# explicit write_formula / write_url still work)
WORKBOOK_OPTIONS = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
}
# a CSV cell starting with one of these is read as a formula by spreadsheets
CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def new_workbook(output, **options):
    """An xlsxwriter workbook writing into output (a file object), in memory,
    with strings kept as strings."""
    import xlsxwriter

    return xlsxwriter.Workbook(output, {**WORKBOOK_OPTIONS, **options})


def csv_safe_cell(value):
    """The value to write in a CSV cell: text that a spreadsheet would read as
    a formula gets a leading apostrophe, shown as text."""
    if isinstance(value, str) and value.startswith(CSV_FORMULA_PREFIXES):
        return "'" + value
    return value
