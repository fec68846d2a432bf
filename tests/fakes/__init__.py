"""Local HTTP fakes of the remote third parties Allied talks to, following their published contracts."""
