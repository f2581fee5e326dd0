from odoo import api, fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    service_skill_categ_ids = fields.Many2many(
        "product.category",
        relation="res_users_service_skill_categ_rel",
        column1="user_id",
        column2="categ_id",
        string="Qualified For",
        help="Product categories of the units this technician may service; a "
        "category also covers its sub-categories.",
    )
    service_zip_prefixes = fields.Char(
        string="Service Zip Prefixes",
        help="Comma-separated beginnings of the zip codes this technician "
        "covers (e.g. 'BS, BA1'); empty: anywhere.",
    )

    @api.model
    def _normalize_service_zip(self, zip_code):
        return "".join((zip_code or "").split()).upper()

    def _get_service_zip_prefixes(self):
        """The technician's zip prefixes, normalized; empty: anywhere."""
        self.ensure_one()
        return [
            self._normalize_service_zip(prefix)
            for prefix in (self.service_zip_prefixes or "").split(",")
            if prefix.strip()
        ]

    def _covers_service_zip(self, zip_code):
        """Whether the technician covers a site of that zip: anywhere without
        prefixes, and a site without a zip cannot be ruled out."""
        self.ensure_one()
        prefixes = self._get_service_zip_prefixes()
        zip_code = self._normalize_service_zip(zip_code)
        return not prefixes or not zip_code or zip_code.startswith(tuple(prefixes))

    def _get_service_skill_for(self, categ):
        """The technician's skill category nearest to ``categ`` that covers it
        (``categ`` itself or one of its parents), or an empty recordset."""
        self.ensure_one()
        if not categ:
            return categ
        ancestors = [int(cid) for cid in categ.parent_path.split("/") if cid]
        skills = self.service_skill_categ_ids.filtered(lambda c: c.id in ancestors)
        # the nearest one: the deepest of the unit category's ancestors
        return skills.sorted(lambda c: ancestors.index(c.id), reverse=True)[:1]
