"""Software stand-ins for every device a site has, speaking the codecs in device role.

Each simulator module offers ``add_arguments(parser)`` and ``run(args) -> int`` and is listed in
``simulators.cli.SIMULATORS``; ``mpm-sim <name> --help`` documents it.
"""
