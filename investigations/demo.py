"""Steps that `manage.py load_demo` runs after creating the demo users and case file.

Apps that depend on investigations register their own demo data here from AppConfig.ready(),
so investigations never imports them. A step is step(*, case, users) and must be idempotent.
"""

from collections.abc import Callable

DEMO_STEPS: list[Callable] = []


def register(step: Callable) -> Callable:
    if step not in DEMO_STEPS:
        DEMO_STEPS.append(step)
    return step
