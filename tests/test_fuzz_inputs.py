"""Fuzzing (hypothesis) of what comes from outside, over HTTP on 127.0.0.1:
the device API's JSON bodies (random structures, numbers, strings, nesting,
raw bytes) and the portal's reading form. Whatever is sent, the answer is
never a 500: a JSON answer (201 or 400) from the API, a page (or the
redirect of a saved reading) from the portal; and a refused input writes no
reading. Bounded: 60 examples per test, each rolled back at its end."""

import json
from contextlib import contextmanager
from datetime import timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from odoo import fields, http
from odoo.tests import HttpCase, new_test_user, tagged

from .common import SerialServiceCase

URL = "/serial_service/api/v1/readings"
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# numbers at and past the edges: huge integers, floats near overflow, zero
NUMBERS = st.one_of(
    st.integers(-(10**25), 10**25),
    st.integers(-1000, 10**7),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, -0.0, 1e308, -1e308, 5e-324, 2**63, -(2**63), 10**19]),
)
TEXT = st.text(max_size=30)
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBERS, TEXT),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(TEXT, children, max_size=4),
    ),
    max_leaves=20,
)
# dates: valid ones (past, future, far past and far future, with offsets)
# and anything else
DATES = st.one_of(
    st.datetimes(
        min_value=fields.Datetime.from_string("0001-01-01 00:00:00"),
        max_value=fields.Datetime.from_string("9999-12-31 23:59:59"),
    ).map(lambda moment: moment.isoformat()),
    st.sampled_from(
        [
            "0001-01-01T00:00:00+05:00",
            "9999-12-31T23:59:59-05:00",
            "2026-01-01T00:00:00Z",
            "2026-02-30T00:00:00",
            "",
        ]
    ),
    JSON_VALUES,
)


def reading_items(serials, meters):
    """Readings that look like the real thing, with any field replaced by
    something else, or missing."""
    return st.fixed_dictionaries(
        {},
        optional={
            "serial": st.one_of(st.sampled_from(serials), JSON_VALUES),
            "meter": st.one_of(st.sampled_from(meters), JSON_VALUES),
            "date": DATES,
            "value": st.one_of(NUMBERS, JSON_VALUES),
            "reset": st.one_of(st.booleans(), JSON_VALUES),
            "product": st.one_of(st.just("FUZZ-COPIER"), JSON_VALUES),
        },
    )


def supply_items(serials):
    return st.fixed_dictionaries(
        {},
        optional={
            "serial": st.one_of(st.sampled_from(serials), JSON_VALUES),
            "product": st.one_of(st.just("FUZZ-TONER"), JSON_VALUES),
            "level": st.one_of(NUMBERS, JSON_VALUES),
        },
    )


SERIALS = ["FUZZ-1", "FUZZ-FOREIGN", "NOPE"]
PAYLOADS = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries(
        {
            "readings": st.lists(
                st.one_of(reading_items(SERIALS, ["FUZZ", "NOPE"]), JSON_VALUES),
                max_size=5,
            )
        },
        optional={
            "supplies": st.one_of(
                st.lists(st.one_of(supply_items(SERIALS), JSON_VALUES), max_size=3),
                JSON_VALUES,
            )
        },
    ),
)
# bodies that are not what json.dumps writes: numbers Python's json reads
# but no meter holds, truncated or binary bodies
RAW_NUMBERS = st.sampled_from(
    ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" + "0" * 40, "1e-400"]
)
RAW_BODIES = st.one_of(
    RAW_NUMBERS.map(
        lambda number: (
            '{"readings": [{"serial": "FUZZ-1", "meter": "FUZZ", '
            f'"date": "2026-01-01T00:00:00", "value": {number}}}]}}'
        )
    ).map(str.encode),
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
)
# what a browser may post in the portal's reading form
FORM_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "nan",
            "inf",
            "-inf",
            "1e400",
            "1" + "0" * 40,
            "²",
            "٣",
            "99999999999999999999",
            "-1",
            "0",
            "1500",
            "2026-01-01T10:00",
            "0001-01-01T00:00",
            "9999-12-31T23:59",
        ]
    ),
)
# stand-ins for the real meter's id and an hour ago, filled in by the test
METER, RECENT = "<meter id>", "<an hour ago>"


@tagged("post_install", "-at_install")
class TestFuzzInputs(SerialServiceCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.now = fields.Datetime.now().replace(microsecond=0)
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "Fuzz pages", "code": "FUZZ"}
        )
        toner = cls._make_product(
            "Fuzz toner", tracking="none", default_code="FUZZ-TONER"
        )
        cls.product_unit.write(
            {
                "default_code": "FUZZ-COPIER",
                "meter_type_ids": cls.meter.ids,
                "supply_product_ids": toner.ids,
            }
        )
        cls.lot = cls._make_lots(cls.product_unit, ["FUZZ-1"])
        cls.lot.customer_id = cls.customer
        other_company = cls.env["res.company"].create({"name": "Fuzz Other Co"})
        cls.env["stock.lot"].create(
            {
                "name": "FUZZ-FOREIGN",
                "product_id": cls.product_unit.id,
                "company_id": other_company.id,
            }
        )
        cls.other = cls._make_lots(cls.product_unit, ["FUZZ-OTHER"])
        cls.other.customer_id = cls.other_customer
        cls.env["serial.meter.reading"].create(
            {
                "lot_id": cls.lot.id,
                "meter_type_id": cls.meter.id,
                "reading_date": cls.now - timedelta(days=30),
                "value": 1000,
            }
        )
        gateway = new_test_user(
            cls.env,
            login="fuzz_gateway",
            groups="serial_service.group_service_technician",
        )
        cls.key = (
            cls.env["res.users.apikeys"]
            .with_user(gateway)
            .sudo()
            ._generate(None, "Fuzz", None)
        )
        cls.portal_user = new_test_user(
            cls.env, login="fuzz_portal", groups="base.group_portal", tz="UTC"
        )
        cls.portal_user.partner_id.parent_id = cls.customer

    @contextmanager
    def _example(self):
        """One hypothesis example: everything it writes is rolled back."""
        with self.env.cr.savepoint() as savepoint:
            try:
                yield
            finally:
                savepoint.rollback()
                self.env.invalidate_all()

    def _readings(self):
        self.env.invalidate_all()
        return self.env["serial.meter.reading"].search_count([])

    def _post_api(self, body):
        before = self._readings()
        # a POST even for an empty body (url_open would send a GET)
        response = self.opener.post(
            self.base_url() + URL,
            data=body,
            timeout=12,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.key}",
            },
        )
        self.assertIn(response.status_code, (201, 400, 413), response.text)
        self.assertTrue(response.headers["Content-Type"].startswith("application/json"))
        answer = response.json()
        if response.status_code == 201:
            self.assertEqual(self._readings(), before + len(answer["recorded"]))
        else:
            self.assertTrue(answer["errors"])
            self.assertEqual(self._readings(), before, "refused: nothing written")

    @SETTINGS
    @given(payload=PAYLOADS)
    # dates whose offset moves them past the first or last day Python holds
    @example(
        payload={
            "readings": [
                {"serial": "FUZZ-1", "meter": "FUZZ", "value": 5, "date": date}
                for date in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00")
            ]
        }
    )
    def test_device_api_answers_any_json_body(self, payload):
        with self._example():
            self._post_api(json.dumps(payload))

    @SETTINGS
    @given(body=RAW_BODIES)
    def test_device_api_answers_any_raw_body(self, body):
        with self._example():
            self._post_api(body)

    @SETTINGS
    @given(
        meter_id=st.one_of(st.just(METER), FORM_TEXT, st.just(None)),
        reading_date=st.one_of(st.just(RECENT), FORM_TEXT, st.just(None)),
        value=st.one_of(FORM_TEXT, st.just(None)),
        own=st.booleans(),
    )
    # digits Python's str.isdigit() accepts but int() does not, an id past
    # the database's integers, numbers past a float
    @example(meter_id="²", reading_date="2026-01-01T10:00", value="1", own=True)
    @example(meter_id="99999999999999999999", reading_date=None, value="1", own=True)
    @example(meter_id=None, reading_date="0001-01-01T00:00", value="1e400", own=True)
    # a good reading is saved (the redirect), a huge one refused or saved
    @example(meter_id=METER, reading_date=RECENT, value="1500", own=True)
    @example(meter_id=METER, reading_date=RECENT, value="1" + "0" * 40, own=True)
    @example(meter_id=METER, reading_date=RECENT, value="1500", own=False)
    def test_portal_reading_form_answers_any_input(
        self, meter_id, reading_date, value, own
    ):
        self.authenticate("fuzz_portal", "fuzz_portal")
        lot = self.lot if own else self.other
        form = {"csrf_token": http.Request.csrf_token(self)}
        meter_id = str(self.meter.id) if meter_id == METER else meter_id
        if reading_date == RECENT:
            reading_date = (self.now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
        for name, text in (
            ("meter_id", meter_id),
            ("reading_date", reading_date),
            ("value", value),
        ):
            if text is not None:
                form[name] = text
        with self._example():
            before = self._readings()
            response = self.url_open(
                f"/my/serials/{lot.id}/reading", data=form, allow_redirects=False
            )
            self.assertIn(response.status_code, (200, 303, 404), response.text[:500])
            if response.status_code == 303:
                self.assertEqual(self._readings(), before + 1)
            else:
                self.assertIn("text/html", response.headers["Content-Type"])
                self.assertEqual(self._readings(), before, "refused: nothing written")
