"""A whole site of simulators from one TOML file: ``mpm-sim site --config site.toml``.

``config`` holds the per-kind models, ``loading`` reads and checks a site file, ``resolve`` picks
ports and paths, ``launch`` builds each command line and readiness test, ``agent_inventory`` writes
the agent's ``[[devices]]``, ``supervisor`` runs the children, ``runner`` ties them together.
"""

from simulators.site.config import SiteConfig, SiteConfigError
from simulators.site.loading import load_site, validate_site
from simulators.site.runner import RunOptions, run_site

__all__ = ["RunOptions", "SiteConfig", "SiteConfigError", "load_site", "run_site", "validate_site"]
