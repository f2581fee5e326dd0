from datetime import timedelta

from odoo.tools import SQL


def period_domain(fname, date_from=None, date_to=None, is_datetime=False):
    """The domain keeping what is dated within [date_from, date_to] (both days
    included, either may be missing)."""
    domain = []
    if date_from:
        domain.append((fname, ">=", date_from))
    if date_to:
        if is_datetime:
            domain.append((fname, "<", date_to + timedelta(days=1)))
        else:
            domain.append((fname, "<=", date_to))
    return domain


def ratio_of_sums(model, query, numerator, denominator, factor=1.0):
    """SQL of factor x SUM(numerator) / SUM(denominator) over a group of the
    report (NULL when the denominator is 0): a rate that stays right at every
    level of grouping, never an average of its rows' rates."""
    return SQL(
        "%s::float * SUM(%s) / NULLIF(SUM(%s), 0)",
        factor,
        model._field_to_sql(model._table, numerator, query),
        model._field_to_sql(model._table, denominator, query),
    )
