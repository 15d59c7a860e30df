"""Attempt counters in the shared cache (Redis), so a limit holds across every web process.

Used for log-ins (investigations/login.py) and for adding members
(investigations/services/__init__.py). A counter starts with the first attempt and lives
`window` seconds; the attempt that reaches the limit keeps it alive `lockout` seconds more.
While Redis is unreachable nothing is counted and nothing is refused (logged as a warning):
the limits slow guessing down, they do not guard data.
"""

import hashlib
import logging
from dataclasses import dataclass

from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    name: str  # what is counted, e.g. "login-account"
    attempts: int  # how many within the window are allowed
    window: int  # seconds, from the first attempt
    lockout: int  # seconds refused after the attempt that reached the limit

    def key(self, subject: str) -> str:
        # Hashed: usernames and addresses stay out of Redis, and any length fits a key.
        digest = hashlib.sha256(subject.encode()).hexdigest()[:40]
        return f"throttle:{self.name}:{digest}"


def reached(limit: Limit, subject: str) -> bool:
    """True while `subject` has used up its attempts."""
    try:
        return int(cache.get(limit.key(subject)) or 0) >= limit.attempts
    except RedisError:
        logger.warning("throttle %s: cache unreachable, not limiting", limit.name, exc_info=True)
        return False


def hit(limit: Limit, subject: str) -> int:
    """Count one attempt; returns the count (0 when the cache is unreachable)."""
    key = limit.key(subject)
    try:
        cache.add(key, 0, timeout=limit.window)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=limit.window)
            count = 1
        if count >= limit.attempts:
            cache.touch(key, timeout=limit.lockout)
        return count
    except RedisError:
        logger.warning("throttle %s: cache unreachable, not counting", limit.name, exc_info=True)
        return 0


def clear(limit: Limit, subject: str) -> None:
    try:
        cache.delete(limit.key(subject))
    except RedisError:
        logger.warning("throttle %s: cache unreachable, not cleared", limit.name, exc_info=True)


def minutes(seconds: int) -> str:
    """A wait for people: "15 minutes", "1 minute"."""
    n = max(1, -(-seconds // 60))
    return f"{n} minute{'s' if n != 1 else ''}"
