from contextlib import contextmanager

from odoo import SUPERUSER_ID, Command, api
from odoo.tests import TransactionCase, new_test_user


def create_contract(
    env,
    partner,
    lots=None,
    template=None,
    pricelist=None,
    lines=(),
    tariffs=(),
    rules=(),
    running=True,
    **vals,
):
    """The tests' one contract factory: a ``sale.subscription`` of ``partner``.

    ``template``/``pricelist``: a new one each when not given. ``lines``: values
    of its recurring lines; ``tariffs``: values of its usage tariffs, where
    ``tiers`` is a list of ``(from_qty, price_unit)``; ``rules``: values of its
    coverage rules (without tariffs or rules it copies the template's). ``vals``:
    any other field (``date_start``, ``recurring_next_date``...). ``running``
    puts it in the in-progress stage; ``lots`` are then set as covered serials,
    as a user does on the contract form after choosing its stage.
    """
    if template is None:
        template = env["sale.subscription.template"].create({"name": "Test care"})
    if pricelist is None:
        pricelist = env["product.pricelist"].create({"name": "Test contracts"})
    contract_vals = {
        "partner_id": partner.id,
        "template_id": template.id,
        "pricelist_id": pricelist.id,
        **vals,
    }
    if lines:
        contract_vals["sale_subscription_line_ids"] = [
            Command.create(line) for line in lines
        ]
    if tariffs:
        contract_vals["usage_tariff_ids"] = [
            Command.create(_tariff_vals(tariff)) for tariff in tariffs
        ]
    if rules:
        contract_vals["coverage_rule_ids"] = [Command.create(rule) for rule in rules]
    contract = env["sale.subscription"].create(contract_vals)
    if running:
        contract.stage_id = env.ref("subscription_oca.subscription_stage_in_progress")
    if lots:
        contract.covered_lot_ids = lots
    return contract


def _tariff_vals(tariff):
    tariff = dict(tariff)
    tiers = tariff.pop("tiers", ())
    if tiers:
        tariff["tier_ids"] = [
            Command.create({"from_qty": from_qty, "price_unit": price_unit})
            for from_qty, price_unit in tiers
        ]
    return tariff


class TwoCursorsMixin:
    """Transactions of their own beside the test's, for races between two
    users, workers or cron threads (the test class is a TransactionCase)."""

    @contextmanager
    def _cursor(self):
        """A second transaction of its own, rolled back unless committed, with a
        lock timeout so that a lock that waits where it must not fails the
        test instead of hanging it."""
        cr = self.registry.cursor()
        try:
            cr.execute("SET LOCAL lock_timeout = '10s'")
            yield api.Environment(cr, SUPERUSER_ID, {})
        finally:
            cr.rollback()
            cr.close()

    def _committed(self, func):
        """Run func(env) in a cursor of its own and commit it."""
        with self.registry.cursor() as cr:
            result = func(api.Environment(cr, SUPERUSER_ID, {}))
            # the other cursors must see the data: a real commit
            cr.commit()  # pylint: disable=invalid-commit
            return result


class SerialServiceCase(TransactionCase):
    """Base for the add-on's tests: its own products, partners and users, no demo."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company.id)], limit=1
        )
        cls.stock_location = cls.warehouse.lot_stock_id
        cls.customer_location = cls.env.ref("stock.stock_location_customers")
        cls.supplier_location = cls.env.ref("stock.stock_location_suppliers")
        cls.categ_equipment = cls.env["product.category"].create({"name": "Units"})
        cls.categ_parts = cls.env["product.category"].create({"name": "Parts"})
        cls.categ_consumables = cls.env["product.category"].create(
            {"name": "Consumables", "parent_id": cls.categ_parts.id}
        )
        cls.product_unit = cls._make_product(
            "Test Copier", categ=cls.categ_equipment, serial_service_managed=True
        )
        cls.product_part = cls._make_product(
            "Test Fuser", categ=cls.categ_parts, service_line_type="part"
        )
        cls.vendor = cls.env["res.partner"].create(
            {"name": "Test Vendor", "is_company": True}
        )
        cls.customer = cls.env["res.partner"].create(
            {"name": "Test Customer", "is_company": True}
        )
        cls.customer_site = cls.env["res.partner"].create(
            {
                "name": "Test Customer Site",
                "type": "delivery",
                "parent_id": cls.customer.id,
            }
        )
        cls.other_customer = cls.env["res.partner"].create(
            {"name": "Other Customer", "is_company": True}
        )
        cls.technician = new_test_user(
            cls.env,
            login="test_technician",
            groups="serial_service.group_service_technician",
        )
        cls.manager = new_test_user(
            cls.env,
            login="test_service_manager",
            groups="serial_service.group_service_manager",
        )
        cls.consultant = new_test_user(
            cls.env,
            login="test_consultant",
            groups="serial_service.group_contract_consultant",
        )

    @classmethod
    def _make_product(cls, name, categ=None, tracking="serial", **vals):
        return cls.env["product.product"].create(
            {
                "name": name,
                "type": "consu",
                "is_storable": True,
                "tracking": tracking,
                "categ_id": (categ or cls.categ_parts).id,
                **vals,
            }
        )

    @classmethod
    def _make_lots(cls, product, names):
        return cls.env["stock.lot"].create(
            [
                {"name": name, "product_id": product.id, "company_id": cls.company.id}
                for name in names
            ]
        )

    @classmethod
    def _transfer(cls, picking_type, partner, source, dest, lots_by_product, env=None):
        """Create, confirm and validate a picking moving the given serials."""
        env = env or cls.env
        picking = env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "partner_id": partner.id,
                "location_id": source.id,
                "location_dest_id": dest.id,
                "move_ids": [
                    Command.create(
                        {
                            "name": product.name,
                            "product_id": product.id,
                            "product_uom_qty": len(lots),
                            "product_uom": product.uom_id.id,
                            "location_id": source.id,
                            "location_dest_id": dest.id,
                        }
                    )
                    for product, lots in lots_by_product.items()
                ],
            }
        )
        picking.action_confirm()
        for move in picking.move_ids:
            move.lot_ids = lots_by_product[move.product_id]
        picking.button_validate()
        return picking

    @classmethod
    def _by_product(cls, lots):
        by_product = {}
        for lot in lots:
            by_product.setdefault(lot.product_id, cls.env["stock.lot"])
            by_product[lot.product_id] |= lot
        return by_product

    @classmethod
    def _receive(cls, lots, vendor=None):
        return cls._transfer(
            cls.warehouse.in_type_id,
            vendor or cls.vendor,
            cls.supplier_location,
            cls.stock_location,
            cls._by_product(lots),
        )

    @classmethod
    def _deliver(cls, lots, partner=None):
        return cls._transfer(
            cls.warehouse.out_type_id,
            partner or cls.customer,
            cls.stock_location,
            cls.customer_location,
            cls._by_product(lots),
        )

    @classmethod
    def _create_contract(cls, partner, lots, template=None, **kwargs):
        """A contract of ``partner`` covering ``lots`` (see ``create_contract``)."""
        return create_contract(cls.env, partner, lots, template=template, **kwargs)
