from datetime import timedelta


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
