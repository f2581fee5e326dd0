"""Property-based tests (hypothesis): meter deltas and the coverage engine
hold their promises for any input, not only the examples we thought of.

Each example runs in its own savepoint, rolled back at its end: the
TransactionCase has a single transaction."""

from contextlib import contextmanager
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import SerialServiceCase

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
ROLLOVER_ZONE = 0.9


def reference_deltas(readings, rollover):
    """DESIGN.md's delta rule, written independently of the model: the deltas
    of readings [(value, is_reset)] in date order, or None if one is refused."""
    deltas, previous = [], None
    for value, is_reset in readings:
        if previous is None or is_reset:
            delta = 0
        elif value >= previous:
            delta = value - previous
        elif rollover and previous >= ROLLOVER_ZONE * rollover:
            delta = rollover + 1 - previous + value
        else:
            return None
        deltas.append(delta)
        previous = value
    return deltas


# one step of a meter's life: climb, jump near the top, wrap past the top,
# be replaced (reset), or go down (refused unless it is a rollover)
STEP = st.one_of(
    st.tuples(st.just("up"), st.integers(0, 30000)),
    st.tuples(st.just("top"), st.integers(0, 50)),
    st.tuples(st.just("wrap"), st.integers(0, 500)),
    st.tuples(st.just("reset"), st.integers(0, 500)),
    st.tuples(st.just("down"), st.integers(1, 500)),
    # somewhere around the start of the rollover zone (percent of the dial)
    st.tuples(st.just("zone"), st.integers(80, 99)),
)


def build_readings(steps, rollover):
    """[(value, is_reset)] from the steps; values stay on the meter's dial."""
    top = rollover or 10**7
    readings, value = [], 0
    for kind, amount in steps:
        is_reset = kind == "reset"
        if kind == "up":
            value = min(value + amount, top)
        elif kind == "top":
            value = max(top - amount, 0)
        elif kind == "zone":
            value = top * amount // 100
        elif kind in ("wrap", "reset"):
            value = min(amount, top)
        else:
            value = max(value - amount, 0)
        readings.append((value, is_reset))
    return readings


@tagged("post_install", "-at_install")
class TestProperties(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.day0 = datetime(2025, 1, 1, 8, 0)
        cls.meters = {
            rollover: cls.env["serial.meter.type"].create(
                {
                    "name": f"Prop meter {rollover}",
                    "code": f"PROP{rollover}",
                    "rollover_value": rollover,
                }
            )
            for rollover in (0, 9999, 999999)
        }
        cls.lot = cls._make_lots(cls.product_unit, ["PROP-1"])
        # coverage: a category tree and products in it
        Categ = cls.env["product.category"]
        cls.categ_root = Categ.create({"name": "Prop root"})
        cls.categ_mid = Categ.create(
            {"name": "Prop mid", "parent_id": cls.categ_root.id}
        )
        cls.categ_leaf = Categ.create(
            {"name": "Prop leaf", "parent_id": cls.categ_mid.id}
        )
        cls.categ_other = Categ.create({"name": "Prop other"})
        cls.categs = [cls.categ_root, cls.categ_mid, cls.categ_leaf, cls.categ_other]
        cls.products = [
            cls.env["product.product"].create(
                {
                    "name": f"Prop {line_type} {categ.name}",
                    "type": "service" if line_type in ("labour", "travel") else "consu",
                    "categ_id": categ.id,
                    "service_line_type": line_type,
                    "list_price": 40.0,
                }
            )
            for line_type, categ in [
                ("part", cls.categ_leaf),
                ("consumable", cls.categ_mid),
                ("labour", cls.categ_root),
                ("travel", cls.categ_other),
                ("part", cls.categ_other),
            ]
        ]
        cls.unit = cls._make_lots(cls.product_unit, ["PROP-UNIT"])
        cls.unit.customer_id = cls.customer
        cls.template = cls.env["sale.subscription.template"].create(
            {"name": "Prop template"}
        )
        cls.pricelist = cls.env["product.pricelist"].create({"name": "Prop"})
        cls.in_progress = cls.env.ref("subscription_oca.subscription_stage_in_progress")

    @contextmanager
    def _example(self):
        """One hypothesis example: everything it writes is rolled back."""
        with self.env.cr.savepoint() as savepoint:
            try:
                yield
            finally:
                savepoint.rollback()
                self.env.invalidate_all()

    # ------------------------------------------------------------------
    # Meter deltas
    # ------------------------------------------------------------------
    @SETTINGS
    @given(
        steps=st.lists(STEP, min_size=1, max_size=12),
        rollover=st.sampled_from([0, 9999, 999999]),
        data=st.data(),
    )
    def test_deltas_follow_the_reference_for_any_sequence(self, steps, rollover, data):
        readings = build_readings(steps, rollover)
        meter = self.meters[rollover]
        expected = reference_deltas(readings, rollover)
        vals_list = [
            {
                "lot_id": self.lot.id,
                "meter_type_id": meter.id,
                "reading_date": self.day0 + timedelta(days=index),
                "value": value,
                "is_reset": is_reset,
            }
            for index, (value, is_reset) in enumerate(readings)
        ]
        # the batch may come in any order: the model chains them by date
        order = data.draw(st.permutations(range(len(vals_list))))
        Reading = self.env["serial.meter.reading"]
        with self._example():
            if expected is None:
                with self.assertRaises(ValidationError) as cm:
                    with self.env.cr.savepoint():
                        Reading.create([vals_list[i] for i in order])
                self.assertIn("lower than the previous one", str(cm.exception))
                self.assertFalse(Reading.search([("meter_type_id", "=", meter.id)]))
                return
            Reading.create([vals_list[i] for i in order])
            stored = Reading.search(
                [("meter_type_id", "=", meter.id)], order="reading_date"
            )
            deltas = stored.mapped("delta")
            self.assertEqual(deltas, [float(d) for d in expected])
            self.assertTrue(all(delta >= 0 for delta in deltas))
            self.assertEqual(sum(deltas), float(sum(expected)))

    @SETTINGS
    @given(
        steps=st.lists(STEP.filter(lambda s: s[0] != "down"), min_size=2, max_size=8),
        backdated=st.integers(0, 7),
    )
    def test_a_backdated_reading_rechains_to_the_same_total(self, steps, backdated):
        """Recording the readings one by one with one of them late gives the
        deltas of the whole sequence recorded at once."""
        rollover = 999999
        readings = build_readings(steps, rollover)
        expected = reference_deltas(readings, rollover)
        late = backdated % len(readings)
        meter = self.meters[rollover]
        Reading = self.env["serial.meter.reading"]
        with self._example():
            created = {}
            for index in [i for i in range(len(readings)) if i != late] + [late]:
                value, is_reset = readings[index]
                try:
                    with self.env.cr.savepoint():
                        created[index] = Reading.create(
                            {
                                "lot_id": self.lot.id,
                                "meter_type_id": meter.id,
                                "reading_date": self.day0 + timedelta(days=index),
                                "value": value,
                                "is_reset": is_reset,
                            }
                        )
                except ValidationError:
                    # without the late reading, a later value may look like a
                    # lower one: refused, as the rule says; nothing to compare
                    return
            if expected is None:
                return
            deltas = [created[i].delta for i in range(len(readings))]
            self.assertEqual(deltas, [float(d) for d in expected])
            self.assertTrue(all(delta >= 0 for delta in deltas))

    # ------------------------------------------------------------------
    # Coverage engine
    # ------------------------------------------------------------------
    def _rule_strategy(self):
        return st.fixed_dictionaries(
            {
                "sequence": st.integers(1, 5),
                "line_type": st.sampled_from(
                    [False, False, False, "part", "consumable", "labour", "travel"]
                ),
                "product": st.sampled_from(
                    [None, None, None, None, *range(len(self.products))]
                ),
                "categ": st.sampled_from([None, *range(len(self.categs))]),
                "effect": st.sampled_from(["include", "exclude"]),
                "coverage_percent": st.integers(0, 100),
                "max_qty_per_period": st.sampled_from([0, 0, 1, 2, 5]),
                "max_amount_per_period": st.sampled_from([0, 0, 30, 100]),
            }
        )

    def _reference_rule(self, rules, product):
        """DESIGN.md's precedence, written independently: the matching rule
        that decides, or None."""
        path = []
        categ = product.categ_id
        while categ:
            path.insert(0, categ)
            categ = categ.parent_id
        line_type = product.service_line_type
        candidates = []
        for rule in rules:
            if rule.line_type and rule.line_type != line_type:
                continue
            if rule.product_id and rule.product_id != product:
                continue
            if rule.categ_id and rule.categ_id not in path:
                continue
            if rule.product_id:
                key = (0, 0)
            elif rule.categ_id:
                key = (1, len(path) - path.index(rule.categ_id))
            elif rule.line_type:
                key = (2, 0)
            else:
                key = (3, 0)
            candidates.append((key, rule.sequence, rule.id, rule))
        return min(candidates, key=lambda c: c[:3])[3] if candidates else None

    @SETTINGS
    @given(data=st.data())
    def test_any_rule_set_gives_one_sound_decision(self, data):
        specs = data.draw(st.lists(self._rule_strategy(), min_size=0, max_size=8))
        asked = data.draw(
            st.lists(
                st.tuples(st.integers(0, len(self.products) - 1), st.integers(1, 4)),
                min_size=1,
                max_size=5,
            )
        )
        with self._example():
            contract = self._create_contract(
                self.customer,
                self.unit,
                self.template,
                pricelist=self.pricelist,
                rules=[
                    {
                        "sequence": spec["sequence"],
                        "line_type": spec["line_type"],
                        "product_id": spec["product"] is not None
                        and self.products[spec["product"]].id,
                        "categ_id": spec["categ"] is not None
                        and self.categs[spec["categ"]].id,
                        "effect": spec["effect"],
                        "coverage_percent": spec["coverage_percent"],
                        "max_qty_per_period": spec["max_qty_per_period"],
                        "max_amount_per_period": spec["max_amount_per_period"],
                    }
                    for spec in specs
                ],
                date_start=fields.Date.today() - timedelta(days=3),
            )
            items = [
                {"lot": self.unit, "product": self.products[p], "qty": qty}
                for p, qty in asked
            ]
            decisions = self.env["stock.lot"]._get_service_coverage_batch(items)
            self.assertEqual(len(decisions), len(items))
            for item, decision in zip(items, decisions, strict=True):
                self.assertIn(decision["source"], ("warranty", "contract", "none"))
                self.assertNotEqual(decision["source"], "warranty")
                self.assertTrue(0.0 <= decision["percent"] <= 100.0, decision)
                self.assertTrue(decision["reason"])
                self.assertEqual(decision["subscription_id"], contract.id)
                rule = self._reference_rule(contract.coverage_rule_ids, item["product"])
                self.assertEqual(decision["rule_id"], rule.id if rule else False)
                if not rule or rule.effect == "exclude":
                    # an exclude (or no rule) never yields coverage
                    self.assertEqual(decision["source"], "none")
                    self.assertEqual(decision["percent"], 0.0)
                else:
                    self.assertLessEqual(
                        decision["percent"], rule.coverage_percent + 1e-9
                    )
                    if decision["source"] == "none":
                        self.assertIn("cap", decision["reason"])
