"""The operator console (`/console`) as operators use it, in a real browser."""
