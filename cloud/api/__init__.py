"""The admin API (``/api/v1``): one router per area, dependencies in ``deps``, errors as problem details."""
