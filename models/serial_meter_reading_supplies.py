from collections import defaultdict

from odoo import api, models
from odoo.exceptions import AccessError, UserError, ValidationError

# supplies levels per request, as for readings
API_MAX_SUPPLIES = 1000


class SerialMeterReading(models.Model):
    _inherit = "serial.meter.reading"

    # --- supplies under contract: levels reported by devices ---
    @api.model
    def _api_record_readings(self, payload, *args, **kwargs):
        """Also takes {"supplies": [{"serial", "product" (the supply's internal
        reference or barcode), "level" (%)}]}: a supply at or under 10 % is
        ordered for the unit's customer, once while an order is open. All or
        nothing with the readings of the same request: a bad item writes
        nothing, and says why."""
        supplies = payload.get("supplies") if isinstance(payload, dict) else None
        if supplies is None:
            return super()._api_record_readings(payload, *args, **kwargs)
        if not isinstance(supplies, list) or len(supplies) > API_MAX_SUPPLIES:
            return {
                "errors": [
                    {
                        "index": None,
                        "list": "supplies",
                        "message": self.env._(
                            '"supplies" is a list of at most %(max)s items.',
                            max=API_MAX_SUPPLIES,
                        ),
                    }
                ]
            }
        levels, errors = self._api_parse_supplies(supplies)
        if errors:
            return {"errors": errors}
        readings = payload.get("readings")
        try:
            with self.env.cr.savepoint():
                result = (
                    super()._api_record_readings(payload, *args, **kwargs)
                    if readings
                    else {"recorded": []}
                )
                if result.get("errors"):
                    return result
                # sudo: the key's user is a technician, who sells nothing; the
                # order goes to the unit's own customer, checked above
                orders = (
                    self.env["stock.lot"]
                    .sudo()
                    ._order_supplies_by_level(
                        [
                            (lot.sudo(), product.sudo(), level)
                            for _i, lot, product, level in levels
                        ]
                    )
                )
                self.env.flush_all()
        except (UserError, ValidationError, AccessError) as error:
            self.env.invalidate_all()
            return {
                "errors": [{"index": None, "list": "supplies", "message": str(error)}]
            }
        result["supplies"] = [
            {
                "index": index,
                "serial": lot.name,
                "product": product.default_code or product.display_name,
                "level": level,
                "order": orders[(lot.id, product.id)].name
                if (lot.id, product.id) in orders
                else None,
            }
            for index, lot, product, level in levels
        ]
        return result

    @api.model
    def _api_parse_supplies(self, items):
        """([(index, lot, product, level)], [errors]) of the posted supplies
        levels, with serials and products read once for the whole batch."""
        dicts = [item for item in items if isinstance(item, dict)]
        names = {str(item["serial"]) for item in dicts if item.get("serial")}
        refs = {str(item["product"]) for item in dicts if item.get("product")}
        lots_by_name = defaultdict(lambda: self.env["stock.lot"])
        for lot in self.env["stock.lot"].search(self._api_lot_domain(names)):
            lots_by_name[lot.name] |= lot
        products = self.env["product.product"].search(
            ["|", ("default_code", "in", list(refs)), ("barcode", "in", list(refs))]
        )
        parsed, errors = [], []
        for index, item in enumerate(items):
            problems, lot, product, level = self._api_parse_supply(
                item, lots_by_name, products
            )
            errors += [
                {"index": index, "list": "supplies", "message": problem}
                for problem in problems
            ]
            if not problems:
                parsed.append((index, lot, product, float(level)))
        return parsed, errors

    @api.model
    def _api_parse_supply(self, item, lots_by_name, products):
        if not isinstance(item, dict):
            return [self.env._("A supplies item must be an object.")], None, None, None
        missing = [
            key for key in ("serial", "product", "level") if item.get(key) in (None, "")
        ]
        if missing:
            return (
                [
                    self.env._(
                        "Missing field(s): %(fields)s.", fields=", ".join(missing)
                    )
                ],
                None,
                None,
                None,
            )
        problems = []
        serial = str(item["serial"])
        ref = str(item["product"])
        product = products.filtered(
            lambda p: p.default_code == ref or p.barcode == ref
        )[:1]
        lots = lots_by_name[serial]
        if len(lots) > 1 and product:
            lots = lots.filtered(
                lambda lot: product in lot.product_id.supply_product_ids
            )
        if not lots:
            # the same answer for a serial of another company: nothing leaks
            problems.append(
                self.env._("Unknown serial number %(serial)s.", serial=serial)
            )
        elif len(lots) > 1:
            problems.append(
                self.env._(
                    "Serial number %(serial)s belongs to several products.",
                    serial=serial,
                )
            )
        elif not product or product not in lots.product_id.supply_product_ids:
            problems.append(
                self.env._(
                    "%(product)s is not a supply of serial %(serial)s.",
                    product=ref,
                    serial=serial,
                )
            )
        elif not lots.customer_id:
            problems.append(
                self.env._(
                    "Serial %(serial)s has no customer to send supplies to.",
                    serial=serial,
                )
            )
        level = item["level"]
        if (
            isinstance(level, bool)
            or not isinstance(level, int | float)
            or not 0 <= level <= 100
        ):
            problems.append(
                self.env._(
                    "Level %(level)s is not a percentage from 0 to 100.", level=level
                )
            )
        if problems:
            return problems, None, None, None
        return [], lots, product, level
