"""Benchmark entry point, called by tools/benchmark.sh (see BENCHMARKS.md).

python3 tools/benchmark.py --database DB [--scale 1] [--only billing]
    [--commit] -- <odoo options: --db_host, --addons-path, ...>
"""

import argparse
import sys


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", required=True)
    parser.add_argument("--scale", type=float, default=None)
    parser.add_argument(
        "--only",
        action="append",
        choices=("billing", "coverage", "import", "serials"),
        help="run only these scenarios (repeat the option for several)",
    )
    parser.add_argument("--commit", action="store_true", help="keep the data set")
    args, odoo_args = parser.parse_known_args(argv)
    import odoo
    from odoo.tools import config

    odoo_args = [a for a in odoo_args if a != "--"]
    config.parse_config([*odoo_args, "-d", args.database])
    odoo.modules.module.initialize_sys_path()
    from odoo.addons.serial_service.benchmark import runner

    scale = runner.DEFAULT_SCALE if args.scale is None else args.scale
    return runner.run(args.database, scale, args.only, args.commit, odoo_args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
