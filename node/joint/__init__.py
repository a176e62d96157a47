"""Joint queries: statistics over several departments' datasets computed with secure
multi-party computation (MPyC) and distributed differential-privacy noise."""
