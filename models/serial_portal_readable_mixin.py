from odoo import api, models

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
    every field as before."""

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
