from odoo import api, models
from odoo.models import parse_read_group_spec
from odoo.osv import expression

# the group every internal user has: fields outside a model's portal fields
# are readable by it only
INTERNAL_GROUP = "base.group_user"


class SerialPortalReadableMixin(models.AbstractModel):
    """A model portal customers may read (record rules give them their own
    records) but of which they may read only what the portal shows.

    Every field of the model outside `_portal_readable_fields` that no group
    restricts yet, whichever module defines it (Odoo's own, stock valuation,
    purchases, this add-on), is made readable by internal users only
    (`groups`): a portal user reading it through the ORM or JSON-RPC (read,
    search_read, a domain or an order on it, fields_get) is refused, and a
    read without field names leaves it out. Internal users, and the portal
    pages that read the record with sudo() after their ownership check, see
    every field as before.

    For every model inheriting it (jobs too, which restrict their fields on
    the access check instead, with no `_portal_readable_fields`), a portal
    user's domains, orders and groupings are checked field by field along
    their paths, as a read of those fields is."""

    _name = "serial.portal.readable.mixin"
    _description = "Fields readable on the portal"

    # names of the fields a portal customer may read; empty: no restriction
    _portal_readable_fields = ()

    @api.model
    def _setup_fields(self):
        super()._setup_fields()
        readable = set(self._portal_readable_fields)
        if not readable:
            return
        readable |= {"id", "display_name"}
        for name, field in self._fields.items():
            if name not in readable and not field.groups:
                field.groups = INTERNAL_GROUP

    # --- searches, orders and groupings on the fields a portal user reads ---
    # Odoo checks a field's read access when it turns a stored field into SQL,
    # but not for a one2many or many2many in a domain or a grouping, nor for
    # a field searched through its search method: a portal user could learn a
    # field's value they may not read from what a search on it finds.
    @api.model
    def _search(self, domain, offset=0, limit=None, order=None):
        if self._is_portal_restricted():
            self._check_portal_paths(
                [*self._domain_paths(domain), *self._order_paths(order)]
            )
        return super()._search(domain, offset=offset, limit=limit, order=order)

    @api.model
    def _read_group(
        self,
        domain,
        groupby=(),
        aggregates=(),
        having=(),
        offset=0,
        limit=None,
        order=None,
    ):
        if self._is_portal_restricted():
            specs = [
                *groupby,
                *(spec for spec in aggregates if spec != "__count"),
                *(path for path in self._domain_paths(having)),
            ]
            self._check_portal_paths(
                [
                    *(parse_read_group_spec(spec)[0] for spec in specs),
                    *self._order_paths(order),
                ]
            )
        return super()._read_group(
            domain,
            groupby=groupby,
            aggregates=aggregates,
            having=having,
            offset=offset,
            limit=limit,
            order=order,
        )

    @api.model
    def _is_portal_restricted(self):
        """Searches of portal (and public) users are checked; internal users
        and the system are not."""
        return not self.env.su and self.env.user.share

    @api.model
    def _check_portal_paths(self, paths):
        """Every field along each dotted path must be readable by the user,
        on each model the path goes through (AccessError otherwise)."""
        for path in paths:
            model = self
            for fname in path.split("."):
                field = model._fields.get(fname)
                if field is None:
                    break
                model.check_field_access_rights("read", [fname])
                if not field.relational:
                    break
                model = self.env[field.comodel_name]

    @api.model
    def _domain_paths(self, domain):
        """The field paths a domain (or a having clause) names, those of its
        any / not any sub-domains included."""
        paths = []
        for leaf in expression.normalize_domain(list(domain or [])):
            if not isinstance(leaf, (list, tuple)) or len(leaf) != 3:
                continue
            left, operator, right = leaf
            if not isinstance(left, str):
                continue
            paths.append(left)
            if operator in ("any", "not any") and isinstance(right, (list, tuple)):
                paths += [f"{left}.{sub}" for sub in self._domain_paths(right)]
        return paths

    @api.model
    def _order_paths(self, order):
        """The fields an order names ("a desc, b.c", "x:sum desc")."""
        if not order or not isinstance(order, str):
            return []
        return [
            part.split()[0].split(":")[0] for part in order.split(",") if part.strip()
        ]
