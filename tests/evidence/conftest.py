from tests.evidence.httpserver import no_network, web  # noqa: F401
from tests.evidence.test_tsa import local_tsa  # noqa: F401
